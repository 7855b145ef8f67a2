"""A model as the server holds it: loaded package, validator, batcher, and where it came from.

``ServedModel`` is immutable once built; a reload builds a new one and swaps it in, and the
old one finishes the requests it already accepted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from modelyard.models import Model, ModelClient, parse_model_ref
from modelyard.serving._batching import BatchPolicy, MicroBatcher
from modelyard.serving._metrics import ServingMetrics
from modelyard.serving._optimize import optimize
from modelyard.serving._validation import Columns, Validator, known_categories

_NUMPY_TYPES = {"string": "object", "category": "object", "datetime": "datetime64[ns]"}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One ``--model``: the URI to serve and the name it is served under."""

    uri: str
    name: str

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """``models:/churn@champion`` (served as ``churn``) or ``fraud=models:/fraud/2``."""
        if "=" in text and not text.startswith(("models:/", "runs:/")):
            name, uri = text.split("=", 1)
            return cls(uri.strip(), name.strip())
        if text.startswith("models:/"):
            return cls(text, parse_model_ref(text).name)
        return cls(text, text.rstrip("/").rsplit("/", 1)[-1] or "model")

    @property
    def follows_alias(self) -> bool:
        return self.uri.startswith("models:/") and parse_model_ref(self.uri).alias is not None


class ServedModel:
    def __init__(
        self,
        spec: ModelSpec,
        model: Model,
        *,
        batch: BatchPolicy,
        metrics: ServingMetrics,
        unknown_category: str,
        optimized: Any = None,
        optimize_note: str = "",
        load_seconds: float = 0.0,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.model = model
        self.version = str(model.version.number) if model.version else ""
        self.source = model.version.uri if model.version else model.uri
        self.signature = model.signature
        self.validator = Validator(
            self.signature,
            categories=known_categories(model.raw, self.signature.input_names)
            if self.signature
            else None,
            unknown_category=unknown_category,
        )
        self._fast = optimized
        self.optimize_note = optimize_note
        self.load_seconds = load_seconds
        self._metrics = metrics
        self._dtypes = {
            s.name: _NUMPY_TYPES.get(s.type, s.type if s.shape is None else "object")
            for s in (self.signature.inputs if self.signature else ())
        }
        self.batcher = MicroBatcher(self.predict_columns, batch, on_batch=self._observe_batch)

    @property
    def optimized(self) -> bool:
        return self._fast is not None

    def _observe_batch(self, rows: int, seconds: float) -> None:
        self._metrics.batch_size.labels(self.name).observe(rows)
        self._metrics.predict_duration.labels(self.name).observe(seconds)

    def predict_columns(self, columns: Columns) -> Any:
        """Run in the batcher's thread: validated columns -> one output per row."""
        import numpy as np

        if self._fast is not None:
            matrix = np.array([columns.values[n] for n in self.validator.names], dtype=np.float32)
            return self._fast(matrix.T)
        outputs = self.model.predict(self.frame(columns))
        return np.asarray(outputs)

    def frame(self, columns: Columns) -> Any:
        import pandas as pd

        data = {}
        for name, values in columns.values.items():
            dtype = self._dtypes.get(name)
            if dtype is None or any(v is None for v in values):
                data[name] = pd.Series(values, dtype=_nullable(dtype))
            else:
                data[name] = pd.Series(values, dtype=dtype)
        return pd.DataFrame(data)


def _nullable(dtype: str | None) -> Any:
    if dtype is None:
        return None
    if dtype.startswith(("float", "int", "uint")):
        return "float64"
    return "object"


def load_served(
    client: ModelClient,
    spec: ModelSpec,
    *,
    batch: BatchPolicy,
    metrics: ServingMetrics,
    optimize_onnx: bool,
    unknown_category: str,
) -> ServedModel:
    """Load ``spec`` (blocking: call it in a thread) and build what the server needs."""
    started = time.perf_counter()
    model = client.load(spec.uri)
    optimized, note = None, ""
    if optimize_onnx:
        outcome = optimize(model)
        optimized, note = outcome.predict, outcome.reason
    seconds = time.perf_counter() - started
    served = ServedModel(
        spec,
        model,
        batch=batch,
        metrics=metrics,
        unknown_category=unknown_category,
        optimized=optimized,
        optimize_note=note,
        load_seconds=seconds,
    )
    metrics.model_load.labels(spec.name, served.version).set(seconds)
    return served


def current_version(client: ModelClient, spec: ModelSpec) -> str | None:
    """The version number an alias URI points at now (None for fixed URIs)."""
    if not spec.follows_alias:
        return None
    return str(client.get_version(parse_model_ref(spec.uri)).number)
