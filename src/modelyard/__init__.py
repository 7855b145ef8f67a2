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

from modelyard import errors
from modelyard.domain.records import Artifact, Experiment, Metric, Run, RunStatus
from modelyard.models import (
    Model,
    ModelClient,
    ModelVersion,
    PythonModel,
    RegisteredModel,
    Signature,
    autolog,
    infer_signature,
    load_model,
    log_model,
    register_model,
    set_model_alias,
)
from modelyard.tracking import (
    ActiveRun,
    TrackingClient,
    active_run,
    end_run,
    flush,
    get_metric_history,
    get_run,
    load_dataset,
    log_artifact,
    log_artifacts,
    log_dataset,
    log_dict,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_tag,
    set_tags,
    start_run,
    use_dataset,
)
from modelyard.workspace import init_workspace, open_workspace

__version__ = "0.1.0"

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
