"""``--optimize``: serve a model through ONNX Runtime, but only when it is provably the same
model.

A one-row scikit-learn RandomForest ``predict`` costs milliseconds of per-call overhead;
the same trees in ONNX Runtime take tens of microseconds. Converters are registered by
flavor (``CONVERTERS``): ``sklearn`` through skl2onnx (trees, linear models, pipelines of
numeric steps), ``xgboost`` (``XGBClassifier``/``XGBRegressor``) and ``lightgbm`` (boosters and
their scikit-learn wrappers) through onnxmltools. Other flavors are served as they are.

The converted model is used only if its predictions match the original's on the input
example and on a generated sample (``SAMPLE_ROWS`` rows drawn around the example's values):
classes must be identical, regression values within ``TOLERANCE`` (relative and absolute).
Otherwise the original is kept and the reason is reported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SAMPLE_ROWS = 256
TOLERANCE = 1e-4
_OPSET = {"": 17, "ai.onnx.ml": 3}
_NUMERIC = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
            "uint16", "uint32", "uint64", "bool")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Optimized:
    """The outcome of ``optimize``: a matrix predictor, or None and why not."""

    predict: Callable[[Any], Any] | None
    reason: str


class _CannotConvert(Exception):
    """A converter's reason for keeping the original model."""


def _sklearn(model: Any, width: int) -> Any:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    raw = model.raw
    options = {id(raw): {"zipmap": False}} if hasattr(raw, "predict_proba") else None
    return to_onnx(
        raw,
        initial_types=[("input", FloatTensorType([None, width]))],
        options=options,
        target_opset=_OPSET,
    )


def _xgboost(model: Any, width: int) -> Any:
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    raw = model.raw
    if not hasattr(raw, "get_booster"):
        raise _CannotConvert(
            f"onnxmltools converts XGBClassifier and XGBRegressor, not a bare {type(raw).__name__}"
        )
    plain = copy.deepcopy(raw)  # the converter wants features named f0, f1, ...
    plain.get_booster().feature_names = None
    return convert_xgboost(
        plain, initial_types=[("input", FloatTensorType([None, width]))], target_opset=15
    )


def _lightgbm(model: Any, width: int) -> Any:
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    return convert_lightgbm(
        model.raw,
        initial_types=[("input", FloatTensorType([None, width]))],
        zipmap=False,
        target_opset=15,
    )


# flavor -> (converter, the package it needs)
CONVERTERS: dict[str, tuple[Callable[[Any, int], Any], str]] = {
    "sklearn": (_sklearn, "skl2onnx"),
    "xgboost": (_xgboost, "onnxmltools"),
    "lightgbm": (_lightgbm, "onnxmltools"),
}


def optimize(model: Any) -> Optimized:
    """Convert ``model`` (a loaded ``modelyard.models.Model``) to ONNX if that is exact."""
    import numpy as np

    found = CONVERTERS.get(model.flavor)
    if found is None:
        return Optimized(
            None,
            f"no ONNX converter for the {model.flavor} flavor; --optimize converts "
            f"{', '.join(CONVERTERS)} models",
        )
    convert, package = found
    signature = model.signature
    if signature is None:
        return Optimized(None, "the model has no signature, so its inputs are unknown")
    if any(spec.type not in _NUMERIC for spec in signature.inputs):
        return Optimized(None, "the model has non-numeric inputs; ONNX conversion kept off")
    example = model.input_example
    if example is None or example.empty:
        return Optimized(None, "the model has no input example to check a conversion against")
    try:
        import onnxruntime as ort

        __import__(package)
    except ImportError as exc:
        return Optimized(None, f"{exc.name} is not installed (pip install 'modelyard[onnx]')")
    try:
        onx = convert(model, len(signature.inputs))
        session_options = ort.SessionOptions()
        session_options.log_severity_level = 3
        session_options.intra_op_num_threads = 1
        session = ort.InferenceSession(
            onx.SerializeToString(), session_options, providers=["CPUExecutionProvider"]
        )
    except _CannotConvert as exc:
        return Optimized(None, str(exc))
    except Exception as exc:  # the converters raise many kinds for unsupported models
        return Optimized(None, f"{package} cannot convert {type(model.raw).__name__}: {exc}")
    input_name = session.get_inputs()[0].name
    classes = _classes(model)

    def predict(matrix: Any) -> Any:
        out = session.run(None, {input_name: np.asarray(matrix, dtype=np.float32)})[0].ravel()
        return classes[out] if classes is not None else out

    sample = _sample(example, SAMPLE_ROWS)
    for label, frame in (("the input example", example), ("a generated sample", sample)):
        expected = np.asarray(model.predict(frame)).ravel()
        try:
            got = np.asarray(predict(frame.to_numpy(dtype=np.float32)))
        except Exception as exc:  # onnxruntime failing on the sample: keep the original
            return Optimized(None, f"the ONNX model failed on {label}: {exc}")
        if expected.dtype.kind == "f":
            ok = got.shape == expected.shape and np.allclose(
                got, expected, rtol=TOLERANCE, atol=TOLERANCE
            )
        else:
            ok = got.shape == expected.shape and bool(
                np.array_equal(got.astype(expected.dtype), expected)
            )
        if not ok:
            mismatched = (
                int(np.sum(got.astype(expected.dtype) != expected))
                if got.shape == expected.shape
                else len(expected)
            )
            return Optimized(
                None,
                f"the ONNX conversion disagrees with the original on {label} "
                f"({mismatched} of {len(expected)} rows); serving the original",
            )
    return Optimized(
        predict,
        f"serving through ONNX Runtime: predictions match on the input example and "
        f"{SAMPLE_ROWS} generated rows (tolerance {TOLERANCE:g})",
    )


def _classes(model: Any) -> Any:
    """Class labels when the ONNX label output is an index into them (LightGBM boosters
    loaded with their wrapper's classes); None when it is the label itself."""
    import numpy as np

    if model.flavor != "lightgbm":
        return None
    classes = model.classes
    return None if classes is None else np.asarray(classes)


def _sample(example: Any, rows: int) -> Any:
    """Rows drawn column by column from the example's values, jittered within their range."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    columns = {}
    for name in example.columns:
        values = example[name].to_numpy()
        picked = rng.choice(values, size=rows)
        if values.dtype.kind == "f":
            spread = float(np.nanmax(values) - np.nanmin(values)) or 1.0
            picked = picked + rng.normal(0, spread / 10, size=rows)
        columns[name] = picked.astype(values.dtype)
    return pd.DataFrame(columns)
