"""Serving: ``yard serve`` turns registered models into a fast HTTP service.

What it owns:

- the ASGI app (``_app.py``, Starlette on uvicorn): ``/predict`` (JSON records, columns +
  data, CSV), the Open Inference Protocol v2 REST endpoints, ``/metrics``, ``/admin/reload``;
- input validation against the model signature, every problem listed by field
  (``_validation.py``);
- adaptive micro-batching of concurrent requests, ``predict`` in a worker thread
  (``_batching.py``);
- Prometheus metrics, multi-worker safe (``_metrics.py``);
- the prediction log: Parquet segments in the blob store, bounded buffer that drops (and
  counts) when full, lineage from model version to segment (``_predlog.py``);
- the ``--optimize`` ONNX fast path, used only when predictions match (``_optimize.py``);
- batch scoring of files (``_batch.py``).
"""

from modelyard.serving._app import ModelServer, create_app
from modelyard.serving._batch import score_file
from modelyard.serving._batching import BatchPolicy, MicroBatcher
from modelyard.serving._config import ServeConfig
from modelyard.serving._metrics import ServingMetrics
from modelyard.serving._optimize import Optimized, optimize
from modelyard.serving._predlog import (
    LogEntry,
    LogPolicy,
    PredictionLog,
    Segment,
    export_predictions,
    list_segments,
    read_segments,
)
from modelyard.serving._run import serve
from modelyard.serving._served import ModelSpec, ServedModel
from modelyard.serving._validation import Problem, RequestInvalid, Validator

__all__ = [
    "BatchPolicy",
    "LogEntry",
    "LogPolicy",
    "MicroBatcher",
    "ModelServer",
    "ModelSpec",
    "Optimized",
    "PredictionLog",
    "Problem",
    "RequestInvalid",
    "Segment",
    "ServeConfig",
    "ServedModel",
    "ServingMetrics",
    "Validator",
    "create_app",
    "export_predictions",
    "list_segments",
    "optimize",
    "read_segments",
    "score_file",
    "serve",
]
