"""The public names change only on purpose."""

from __future__ import annotations

import modelyard

EXPECTED = {
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
}


def test_package_exports_exactly_the_intended_names() -> None:
    assert set(modelyard.__all__) == EXPECTED
    for name in EXPECTED:
        assert hasattr(modelyard, name), name


def test_every_error_derives_from_yard_error() -> None:
    from modelyard import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.YardError)


def test_importing_the_package_loads_no_backend() -> None:
    """`import modelyard` and `yard --version` stay fast: backends load on first use."""
    import subprocess
    import sys

    code = (
        "import sys, modelyard, modelyard.cli._app\n"
        "heavy = {'sqlalchemy', 'pandas', 'pyarrow', 'httpx', 'sklearn', 'fsspec'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
