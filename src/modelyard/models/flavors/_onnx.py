"""ONNX models, run with onnxruntime (no Python code is ever loaded from the file).

A model with one input gets the frame's columns as one matrix of the input's element type;
a model with several inputs gets one column per input, matched by name. ``predict`` is the
first output; a second output (class probabilities, as converters emit) is ``predict_proba``.
"""

from __future__ import annotations

from typing import Any

from modelyard.models.flavors._base import LoadContext, SaveContext, Saved, mro_modules, require

NAME = "onnx"
PACKAGES = ("onnx", "onnxruntime", "numpy", "pandas")
FILE = "model.onnx"
_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def handles(model: Any) -> bool:
    return type(model).__name__ == "ModelProto" and any(
        m.startswith("onnx") for m in mro_modules(model)
    )


def save(model: Any, ctx: SaveContext) -> Saved:
    (ctx.folder / FILE).write_bytes(model.SerializeToString())
    methods = ("predict", "predict_proba") if len(model.graph.output) > 1 else ("predict",)
    return Saved(options={"file": FILE}, methods=methods)


def load(ctx: LoadContext) -> Any:
    ort = require("onnxruntime", ctx)
    data = ctx.files.read(str(ctx.options.get("file", FILE)))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return OnnxPredictor(session)


class OnnxPredictor:
    def __init__(self, session: Any) -> None:
        self.raw = session
        self._inputs = [(i.name, _TYPES.get(i.type, "float32")) for i in session.get_inputs()]
        if len(session.get_outputs()) > 1:
            self.predict_proba = self._predict_proba

    def _run(self, frame: Any) -> list[Any]:
        if len(self._inputs) == 1:
            name, dtype = self._inputs[0]
            feeds = {name: frame.to_numpy(dtype=dtype)}
        else:
            feeds = {
                name: frame[name].to_numpy(dtype=dtype).reshape(-1, 1)
                for name, dtype in self._inputs
            }
        return self.raw.run(None, feeds)

    def predict(self, frame: Any) -> Any:
        out = self._run(frame)[0]
        if getattr(out, "ndim", 1) == 2 and out.shape[1] == 1:
            return out.ravel()
        return out

    def _predict_proba(self, frame: Any) -> Any:
        import numpy as np

        probabilities = self._run(frame)[1]
        if isinstance(probabilities, list):  # a ZipMap: one {label: probability} per row
            labels = sorted(probabilities[0]) if probabilities else []
            return np.array([[row[k] for k in labels] for row in probabilities])
        return probabilities
