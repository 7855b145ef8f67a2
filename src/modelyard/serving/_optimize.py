"""``--optimize``: serve a scikit-learn model through ONNX Runtime, but only when it is
provably the same model.

A one-row scikit-learn RandomForest ``predict`` costs milliseconds of per-call overhead;
the same trees in ONNX Runtime take tens of microseconds. The converted model is used only
if its predictions match the original's on the input example and on a generated sample
(``SAMPLE_ROWS`` rows drawn around the example's values): classes must be identical,
regression values within ``TOLERANCE`` (relative). Otherwise the original is kept and the
reason is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SAMPLE_ROWS = 256
TOLERANCE = 1e-4
_NUMERIC = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
            "uint16", "uint32", "uint64", "bool")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Optimized:
    """The outcome of ``optimize``: a matrix predictor, or None and why not."""

    predict: Callable[[Any], Any] | None
    reason: str


def optimize(model: Any) -> Optimized:
    """Convert ``model`` (a loaded ``modelyard.models.Model``) to ONNX if that is exact."""
    import numpy as np

    if model.flavor != "sklearn":
        return Optimized(None, f"only scikit-learn models are converted (this is {model.flavor})")
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
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError as exc:
        return Optimized(None, f"{exc.name} is not installed (pip install 'modelyard[onnx]')")
    raw = model.raw
    width = len(signature.inputs)
    try:
        options = {id(raw): {"zipmap": False}} if hasattr(raw, "predict_proba") else None
        onx = to_onnx(
            raw,
            initial_types=[("input", FloatTensorType([None, width]))],
            options=options,
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
        session_options = ort.SessionOptions()
        session_options.log_severity_level = 3
        session_options.intra_op_num_threads = 1
        session = ort.InferenceSession(
            onx.SerializeToString(), session_options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # skl2onnx raises many kinds for unsupported estimators
        return Optimized(None, f"skl2onnx cannot convert {type(raw).__name__}: {exc}")
    input_name = session.get_inputs()[0].name

    def predict(matrix: Any) -> Any:
        return session.run(None, {input_name: np.asarray(matrix, dtype=np.float32)})[0].ravel()

    sample = _sample(example, SAMPLE_ROWS)
    for label, frame in (("the input example", example), ("a generated sample", sample)):
        expected = np.asarray(model.predict(frame)).ravel()
        got = predict(frame.to_numpy(dtype=np.float32))
        if expected.dtype.kind == "f":
            ok = np.allclose(got, expected, rtol=TOLERANCE, atol=TOLERANCE)
        else:
            ok = bool(np.array_equal(got.astype(expected.dtype), expected))
        if not ok:
            mismatched = int(np.sum(got.astype(expected.dtype) != expected))
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
