"""Experiment tracking: runs, params, metrics (batched), tags, artifacts, environment, search,
and the datasets runs use and produce."""

from modelyard.tracking._client import TrackingClient, runs_frame
from modelyard.tracking._datasets import load_dataset, log_dataset, use_dataset
from modelyard.tracking._fluent import (
    active_run,
    client,
    end_run,
    flush,
    get_metric_history,
    get_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_tag,
    set_tags,
    start_run,
)
from modelyard.tracking._run import ActiveRun

__all__ = [
    "ActiveRun",
    "TrackingClient",
    "active_run",
    "client",
    "end_run",
    "flush",
    "get_metric_history",
    "get_run",
    "load_dataset",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "runs_frame",
    "search_runs",
    "set_tag",
    "set_tags",
    "start_run",
    "use_dataset",
]
