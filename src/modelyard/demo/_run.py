"""The demo script behind ``yard demo``."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from modelyard.checks import CheckClient, MetricCheck, PackageSizeCheck, Suite
from modelyard.data import DataClient, DatasetVersion
from modelyard.demo._data import churn_frame, features
from modelyard.errors import AlreadyExists, InvalidState
from modelyard.models import ModelClient, ModelVersion
from modelyard.tracking import TrackingClient
from modelyard.workspace import DIRNAME, init_workspace

MARKER = ".yard-demo"
console = Console(highlight=False)


def run_demo(folder: Path) -> None:
    """Create a fresh workspace in ``folder`` and run the lifecycle on generated data."""
    sklearn = _require_sklearn()
    workspace = _fresh_workspace(folder)
    client = TrackingClient(workspace)
    models = ModelClient(workspace)
    console.rule("[bold]modelyard demo")
    console.print(f"workspace: {workspace.settings.root}")

    console.rule("1. data versioning")
    frame = churn_frame()
    data = DataClient(workspace)
    dataset = data.add_frame(frame, "churn", message="generated churn extract").version
    ref = f"{dataset.dataset}@{dataset.number}"
    console.print(
        f"  added dataset [bold]{dataset.uri}[/] ({dataset.short_digest}): "
        f"{dataset.rows:,} rows, {len(dataset.profile.columns) if dataset.profile else 0} columns"
    )

    console.rule("2. experiment tracking")
    x, y = features(frame), frame["churned"].to_numpy()
    x_train, x_test, y_train, y_test = sklearn.model_selection.train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    candidates = [
        ("logreg", sklearn.linear_model.LogisticRegression, {"C": 1.0, "max_iter": 500}),
        (
            "rf-shallow",
            sklearn.ensemble.RandomForestClassifier,
            {"n_estimators": 60, "max_depth": 4, "random_state": 0},
        ),
        (
            "rf-deep",
            sklearn.ensemble.RandomForestClassifier,
            {"n_estimators": 60, "max_depth": 10, "random_state": 0},
        ),
        (
            "gbm",
            sklearn.ensemble.GradientBoostingClassifier,
            {"n_estimators": 80, "max_depth": 3, "random_state": 0},
        ),
    ]
    with client.start_run("churn", name="model-sweep", tags={"team": "risk"}) as sweep:
        sweep.log_params({"rows": len(frame), "test_size": 0.25})
        data.use(ref, consumer=sweep.uri)
        for name, estimator, params in candidates:
            started = time.perf_counter()
            with client.start_run(
                "churn", name=name, tags={"family": estimator.__name__}, parent_id=sweep.id
            ) as run:
                run.log_params(params)
                data.use(ref, consumer=run.uri)
                model = estimator(**params).fit(x_train, y_train)
                scores = model.predict_proba(x_test)[:, 1]
                predicted = (scores >= 0.5).astype(int)
                metrics = sklearn.metrics
                run.log_metrics(
                    {
                        "auc": metrics.roc_auc_score(y_test, scores),
                        "f1": metrics.f1_score(y_test, predicted),
                        "accuracy": metrics.accuracy_score(y_test, predicted),
                        "fit_seconds": time.perf_counter() - started,
                    }
                )
                if hasattr(model, "staged_predict_proba"):
                    for step, staged in enumerate(model.staged_predict_proba(x_test)):
                        run.log_metric(
                            "auc_by_stage", metrics.roc_auc_score(y_test, staged[:, 1]), step=step
                        )
                matrix = metrics.confusion_matrix(y_test, predicted).tolist()
                run.log_dict({"labels": [0, 1], "matrix": matrix}, "confusion.json")
                with tempfile.TemporaryDirectory() as tmp:
                    report = Path(tmp) / "report.txt"
                    report.write_text(metrics.classification_report(y_test, predicted))
                    run.log_artifact(report, "reports")
                models.log_model(model, run_id=run.id, input_example=x_test.head(5))
            console.print(f"  tracked run [bold]{name}[/] ({run.id})")

    client.flush()
    best = client.search_runs(
        "churn",
        filter="metrics.auc > 0.5 and attributes.status = 'FINISHED'",
        order_by=["metrics.auc desc"],
    )
    console.rule("3. model registry")
    evaluation = x_test.join(frame.loc[x_test.index, ["region", "churned"]])
    champion = _register_champion(models, best[0].id, x_test, evaluation)
    _serve(workspace, x_test)
    _summary(best, client, dataset)
    console.print(
        f"registered model: [bold]{champion.uri}[/] ({champion.flavor}, package "
        f"{champion.short_digest}) is [bold]churn@champion[/]; try "
        "`yard models lineage churn@champion`"
    )


def _register_champion(models: ModelClient, run_id: str, x_test, evaluation) -> ModelVersion:  # type: ignore[no-untyped-def]
    """Register the best run's model as the next version of ``churn``, gate it with a check
    suite, make it champion, and load it back through the alias as a consumer would."""
    version = models.register(f"runs:/{run_id}/model", "churn", description="best demo run")
    _gate(models, version, evaluation)
    models.set_alias("churn", "champion", version.number)
    loaded = models.load("models:/churn@champion")
    predictions = loaded.predict(x_test)
    console.print(
        f"  registered [bold]{version.uri}[/] from runs:/{run_id}/model and set alias "
        f"champion; loaded it back and scored {len(predictions):,} rows"
    )
    return version


GATE = Suite(
    target="churned",
    metrics=(MetricCheck("roc_auc", min=0.7), MetricCheck("accuracy", slice_by="region", min=0.6)),
    operational=(PackageSizeCheck(max_package_mb=50),),
)
STRETCH = Suite(target="churned", metrics=(MetricCheck("recall", min=0.95),))


def _gate(models: ModelClient, version: ModelVersion, evaluation) -> None:  # type: ignore[no-untyped-def]
    """``yard check`` in code: the gate suite must pass before the alias moves; a stretch
    goal the model misses shows what a failing check says."""
    checks = CheckClient(models.workspace)
    data = checks.data.add_frame(evaluation, "churn-eval", message="held-out rows").version
    gate = checks.check_model(version.uri, GATE, data.uri.removeprefix("data:"))
    if not gate.passed:
        raise InvalidState(f"the demo gate failed:\n{gate.to_markdown()}")
    stretch = checks.check_model(version.uri, STRETCH, data.uri.removeprefix("data:"))
    (missed,) = stretch.outcomes
    console.print(
        f"  gated {version.uri} on {data.uri}: {len(gate.outcomes)} checks "
        f"{gate.status.value}; stretch check [bold]{missed.name}[/] {missed.status.value}: "
        f"{missed.message} (stored; `yard models checks churn/{version.number}`)"
    )


def _serve(workspace, x_test) -> None:  # type: ignore[no-untyped-def]
    """Serve the champion in-process and send it a burst of one-row requests."""
    console.rule("4. serving")
    try:
        from modelyard.demo._serve import serve_champion

        figures = serve_champion(workspace, x_test.head(200).to_dict("records"))
    except ImportError as exc:
        console.print(f"  skipped: {exc.name} is not installed (pip install 'modelyard[serve]')")
        return
    console.print(
        f"  served churn@champion: {figures['requests']} concurrent requests, p50 "
        f"{figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, in "
        f"{figures['predict_calls']} predict calls; {figures['logged']} predictions logged"
    )
    console.print(f"  /metrics: {figures['metric']}")


def _summary(runs, client: TrackingClient, dataset: DatasetVersion) -> None:  # type: ignore[no-untyped-def]
    console.rule("summary")
    table = Table("run", "auc", "f1", "accuracy", "params", title="churn runs, best first")
    for run in runs:
        table.add_row(
            run.name,
            f"{run.metrics['auc'].value:.4f}",
            f"{run.metrics['f1'].value:.4f}",
            f"{run.metrics['accuracy'].value:.4f}",
            json.dumps(dict(run.params)),
        )
    console.print(table)
    history = client.get_metric_history(runs[0].id, "auc_by_stage") if runs else []
    audit = client.store.audit.events(limit=10_000)
    console.print(
        f"best model: [bold]{runs[0].name}[/] (auc {runs[0].metrics['auc'].value:.4f}); "
        f"{len(runs)} runs tracked with params, metrics, artifacts and environment; "
        f"{len(audit)} audit events recorded"
        + (f"; {len(history)} staged auc points for the best run" if history else "")
    )
    used = client.store.lineage.downstream(dataset.uri)
    console.print(
        f"training data: [bold]{dataset.uri}[/] ({dataset.short_digest}, {dataset.rows:,} rows), "
        f"used by {len(used)} runs"
    )
    console.print(
        "next, in that folder: "
        '`yard runs list -e churn -o "metrics.auc desc"`, `yard runs show <id>`, '
        f"`yard data show {dataset.dataset}@{dataset.number}`"
    )


def _fresh_workspace(folder: Path):  # type: ignore[no-untyped-def]
    folder = folder.resolve()
    if (folder / DIRNAME).exists():
        if not (folder / MARKER).exists():
            raise AlreadyExists(
                f"{folder} already holds a workspace that the demo did not create; "
                "pass --folder with a new folder"
            )
        shutil.rmtree(folder / DIRNAME)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("created by `yard demo`; safe to delete\n")
    return init_workspace(folder)


def _require_sklearn():  # type: ignore[no-untyped-def]
    try:
        import sklearn.ensemble
        import sklearn.linear_model
        import sklearn.metrics
        import sklearn.model_selection
    except ImportError as exc:
        raise InvalidState(
            "yard demo trains scikit-learn models; install them with "
            "pip install 'modelyard[sklearn]'"
        ) from exc
    return sklearn
