"""Prometheus metrics of a model server (prometheus-client, Prometheus naming conventions).

Each server has its own registry, so several servers (or tests) live in one process. With
``PROMETHEUS_MULTIPROC_DIR`` set (``yard serve --workers N`` sets it for its workers), values
are kept in that folder and ``/metrics`` aggregates every worker.

=====================================  =========================================================
``yard_requests_total``                requests by ``model``, ``version``, HTTP ``code``
``yard_request_duration_seconds``      end-to-end latency of scoring requests, by ``model``
``yard_predict_duration_seconds``      time inside the model's ``predict``, per batch
``yard_batch_size``                    rows per ``predict`` call (micro-batching at work)
``yard_predictions_total``             predicted classes, by ``model``, ``version``, ``class``
``yard_prediction_value``              predicted values of regressors (histogram)
``yard_validation_failures_total``     input problems by ``model`` and ``field``
``yard_model_load_seconds``            how long loading each model version took
``yard_prediction_log_rows_total``     rows written to the prediction log
``yard_prediction_log_dropped_total``  requests dropped because the log buffer was full
``yard_prediction_log_segments_total`` Parquet segments written
``yard_prediction_log_errors_total``   segments that could not be stored
=====================================  =========================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0,
)  # fmt: skip
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MAX_CLASSES = 50  # distinct class labels kept per model; more are counted as "other"


@dataclass(frozen=True, slots=True)
class ServingMetrics:
    registry: Any
    requests: Any
    request_duration: Any
    predict_duration: Any
    batch_size: Any
    predictions: Any
    prediction_value: Any
    validation_failures: Any
    model_load: Any
    log_rows: Any
    log_dropped: Any
    log_segments: Any
    log_errors: Any
    in_flight: Any

    @classmethod
    def create(cls) -> ServingMetrics:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        registry = CollectorRegistry(auto_describe=True)

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Any:
            return Counter(name, doc, labels, registry=registry)

        return cls(
            registry=registry,
            requests=counter(
                "yard_requests", "Scoring requests by model, version and HTTP status code.",
                ("model", "version", "code"),
            ),
            request_duration=Histogram(
                "yard_request_duration_seconds", "End-to-end latency of scoring requests.",
                ("model",), buckets=LATENCY_BUCKETS, registry=registry,
            ),
            predict_duration=Histogram(
                "yard_predict_duration_seconds", "Time spent in the model's predict per batch.",
                ("model",), buckets=LATENCY_BUCKETS, registry=registry,
            ),
            batch_size=Histogram(
                "yard_batch_size", "Rows per predict call (concurrent requests are combined).",
                ("model",), buckets=BATCH_BUCKETS, registry=registry,
            ),
            predictions=counter(
                "yard_predictions", "Predicted classes.", ("model", "version", "class")
            ),
            prediction_value=Histogram(
                "yard_prediction_value", "Predicted values of regression models.",
                ("model",), registry=registry,
            ),
            validation_failures=counter(
                "yard_validation_failures", "Input problems by model and field.",
                ("model", "field"),
            ),
            model_load=Gauge(
                "yard_model_load_seconds", "Seconds it took to load the served model version.",
                ("model", "version"), registry=registry, multiprocess_mode="max",
            ),
            log_rows=counter(
                "yard_prediction_log_rows", "Rows written to the prediction log.", ("model",)
            ),
            log_dropped=counter(
                "yard_prediction_log_dropped",
                "Requests not logged because the prediction log buffer was full.", ("model",),
            ),
            log_segments=counter(
                "yard_prediction_log_segments", "Prediction log segments written.", ("model",)
            ),
            log_errors=counter(
                "yard_prediction_log_errors",
                "Prediction log segments that could not be stored.", ("model",),
            ),
            in_flight=Gauge(
                "yard_requests_in_flight", "Scoring requests received and not yet answered.",
                ("model",), registry=registry, multiprocess_mode="livesum",
            ),
        )  # fmt: skip

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition (of every worker in multi-process mode)."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def observe_outputs(self, model: str, version: str, outputs: Any) -> None:
        import numpy as np

        array = np.asarray(outputs)
        if array.ndim != 1 or array.size == 0:
            return
        if array.dtype.kind == "f":
            histogram = self.prediction_value.labels(model)
            for value in array[np.isfinite(array)][:1024].tolist():
                histogram.observe(value)
            return
        labels, counts = np.unique(array.astype(str), return_counts=True)
        for label, count in zip(labels.tolist()[:MAX_CLASSES], counts.tolist(), strict=False):
            self.predictions.labels(model, version, label).inc(count)
        if len(labels) > MAX_CLASSES:
            self.predictions.labels(model, version, "other").inc(int(counts[MAX_CLASSES:].sum()))
