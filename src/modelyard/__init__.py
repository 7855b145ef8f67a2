"""modelyard: the machine-learning lifecycle in one package, with one lineage graph.

The Python API::

    import modelyard as yard
    with yard.start_run(experiment="churn", name="rf") as run:
        yard.log_params({"n_estimators": 200})
        yard.log_metrics({"auc": 0.91}, step=1)
    yard.search_runs("churn", filter="metrics.auc > 0.8", order_by=["metrics.auc desc"])
    with yard.start_run(experiment="churn"):
        frame = yard.load_dataset("churn@2")        # records data:churn@2 -used_by-> the run
        model.fit(frame[features], frame["churned"])
        yard.log_model(model, name="churn", input_example=frame[features][:5])
    yard.load_model("models:/churn@champion").predict(frame[features])
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs ~10 ms to import; type checkers read this as True
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

# name -> module that defines it. Imported on first use (PEP 562), so that `import modelyard`
# and the `yard` command start fast and load only what they touch.
_EXPORTS = {
    "ActiveRun": "modelyard.tracking",
    "Artifact": "modelyard.domain.records",
    "Experiment": "modelyard.domain.records",
    "Metric": "modelyard.domain.records",
    "Model": "modelyard.models",
    "ModelClient": "modelyard.models",
    "ModelVersion": "modelyard.models",
    "PythonModel": "modelyard.models",
    "RegisteredModel": "modelyard.models",
    "Run": "modelyard.domain.records",
    "RunStatus": "modelyard.domain.records",
    "Signature": "modelyard.models",
    "TrackingClient": "modelyard.tracking",
    "active_run": "modelyard.tracking",
    "autolog": "modelyard.models",
    "end_run": "modelyard.tracking",
    "errors": "modelyard.errors",
    "flush": "modelyard.tracking",
    "get_metric_history": "modelyard.tracking",
    "get_run": "modelyard.tracking",
    "infer_signature": "modelyard.models",
    "init_workspace": "modelyard.workspace",
    "load_dataset": "modelyard.tracking",
    "load_model": "modelyard.models",
    "log_artifact": "modelyard.tracking",
    "log_artifacts": "modelyard.tracking",
    "log_dataset": "modelyard.tracking",
    "log_dict": "modelyard.tracking",
    "log_metric": "modelyard.tracking",
    "log_metrics": "modelyard.tracking",
    "log_model": "modelyard.models",
    "log_param": "modelyard.tracking",
    "log_params": "modelyard.tracking",
    "open_workspace": "modelyard.workspace",
    "register_model": "modelyard.models",
    "search_runs": "modelyard.tracking",
    "set_model_alias": "modelyard.models",
    "set_tag": "modelyard.tracking",
    "set_tags": "modelyard.tracking",
    "start_run": "modelyard.tracking",
    "use_dataset": "modelyard.tracking",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modelyard' has no attribute {name!r}")
    value = importlib.import_module(module)
    if name != "errors":
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ActiveRun",
    "Artifact",
    "Experiment",
    "Metric",
    "Model",
    "ModelClient",
    "ModelVersion",
    "PythonModel",
    "RegisteredModel",
    "Run",
    "RunStatus",
    "Signature",
    "TrackingClient",
    "__version__",
    "active_run",
    "autolog",
    "end_run",
    "errors",
    "flush",
    "get_metric_history",
    "get_run",
    "infer_signature",
    "init_workspace",
    "load_dataset",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "open_workspace",
    "register_model",
    "search_runs",
    "set_model_alias",
    "set_tag",
    "set_tags",
    "start_run",
    "use_dataset",
]
