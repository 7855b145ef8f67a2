"""The metadata store contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
import uuid

import pytest

from modelyard.domain.records import Artifact, Lifecycle, Metric, NewRun, RunStatus
from modelyard.errors import (
    AlreadyExists,
    ExperimentNotFound,
    FilterSyntaxError,
    InvalidState,
    InvalidValue,
    ParamConflict,
    RunNotFound,
)
from modelyard.store.base import MetadataStore


def new_run(
    experiment: str = "churn", *, parent: str | None = None, start: int = 1000, **tags: str
) -> NewRun:
    run_id = uuid.uuid4().hex
    return NewRun(
        id=run_id,
        experiment_name=experiment,
        name=f"run-{run_id[:6]}",
        start_time=start,
        parent_id=parent,
        user="tester",
        host="box",
        command="train.py",
        git_commit="abc123",
        git_dirty=False,
        environment_digest=None,
        tags=tags,
    )


def test_experiment_is_created_on_first_run_and_counted(store: MetadataStore) -> None:
    run = store.runs.create(new_run("churn"))
    assert run.status is RunStatus.RUNNING
    experiments = store.experiments.list()
    assert [(e.name, e.run_count) for e in experiments] == [("churn", 1)]


def test_creating_an_existing_experiment_is_refused(store: MetadataStore) -> None:
    store.experiments.create("churn", "monthly model")
    with pytest.raises(AlreadyExists, match="'churn' already exists"):
        store.experiments.create("churn")


def test_unknown_experiment_suggests_the_closest_name(store: MetadataStore) -> None:
    store.experiments.create("churn")
    with pytest.raises(ExperimentNotFound, match="did you mean 'churn'"):
        store.experiments.get("chrun")


def test_rename_keeps_runs_and_refuses_taken_names(store: MetadataStore) -> None:
    run = store.runs.create(new_run("churn"))
    store.experiments.create("fraud")
    with pytest.raises(AlreadyExists):
        store.experiments.rename("churn", "fraud")
    store.experiments.rename("churn", "churn-2026")
    assert store.runs.get(run.id).experiment_name == "churn-2026"


def test_deleted_experiment_hides_its_runs_until_restored(store: MetadataStore) -> None:
    store.runs.create(new_run("scratch"))
    store.experiments.delete("scratch")
    assert store.experiments.list() == []
    assert store.runs.search().items == ()
    store.experiments.restore("scratch")
    assert len(store.runs.search(["scratch"]).items) == 1


def test_run_ends_once(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.end(run.id, RunStatus.FINISHED, 2000)
    ended = store.runs.get(run.id)
    assert (ended.status, ended.end_time, ended.duration_ms) == (RunStatus.FINISHED, 2000, 1000)
    with pytest.raises(InvalidState, match="already FINISHED"):
        store.runs.end(run.id, RunStatus.FAILED, 3000)


def test_logging_to_a_finished_run_is_refused(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.end(run.id, RunStatus.FINISHED, 2000)
    with pytest.raises(InvalidState, match="is FINISHED"):
        store.runs.log_metrics(run.id, [Metric("loss", 1.0, 0, 1)])


def test_unknown_run_id_is_reported(store: MetadataStore) -> None:
    with pytest.raises(RunNotFound, match="no run with id 'nope'"):
        store.runs.get("nope")


def test_params_are_write_once(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.log_params(run.id, {"lr": "0.1", "depth": "8"})
    store.runs.log_params(run.id, {"lr": "0.1"})  # same value again is fine
    with pytest.raises(ParamConflict, match=r"'lr' .* already '0\.1'"):
        store.runs.log_params(run.id, {"lr": "0.2", "extra": "x"})
    assert store.runs.get(run.id).params == {"depth": "8", "lr": "0.1"}  # nothing half-written


def test_long_param_and_tag_values_are_stored_whole(store: MetadataStore) -> None:
    import secrets

    param, tag = secrets.token_hex(3000), secrets.token_hex(4000)  # 6,000 and 8,000 chars
    run = store.runs.create(new_run())
    store.runs.log_params(run.id, {"config": param})
    store.runs.set_tags(run.id, {"notes": tag})
    found = store.runs.search(filter=f"params.config = '{param}'").items
    assert [r.id for r in found] == [run.id]
    assert found[0].params["config"] == param and found[0].tags["notes"] == tag


def test_tags_are_overwritten(store: MetadataStore) -> None:
    run = store.runs.create(new_run(team="risk"))
    store.runs.set_tags(run.id, {"team": "growth", "stage": "dev"})
    assert store.runs.get(run.id).tags == {"stage": "dev", "team": "growth"}


def test_metric_history_keeps_every_point_and_latest_follows_step(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.log_metrics(run.id, [Metric("auc", 0.7, 2, 10), Metric("auc", 0.6, 1, 20)])
    store.runs.log_metrics(run.id, [Metric("auc", 0.5, 0, 30), Metric("auc", 0.8, 2, 40)])
    history = store.runs.metric_history(run.id, "auc")
    assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.6), (2, 0.7), (2, 0.8)]
    latest = store.runs.get(run.id).metrics["auc"]
    assert (latest.value, latest.step, latest.timestamp) == (0.8, 2, 40)


def test_nan_and_infinity_round_trip(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.log_metrics(
        run.id,
        [Metric("a", math.nan, 0, 1), Metric("b", math.inf, 0, 1), Metric("c", -math.inf, 0, 1)],
    )
    metrics = store.runs.get(run.id).metrics
    assert math.isnan(metrics["a"].value)
    assert metrics["b"].value == math.inf and metrics["c"].value == -math.inf
    assert math.isnan(store.runs.metric_history(run.id, "a")[0].value)


def test_artifacts_are_recorded_by_path(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.add_artifacts(run.id, [Artifact("b.txt", "blake3:" + "1" * 64, 3)])
    store.runs.add_artifacts(run.id, [Artifact("a/x.json", "blake3:" + "2" * 64, 5)])
    store.runs.add_artifacts(run.id, [Artifact("b.txt", "blake3:" + "3" * 64, 4)])
    assert [(a.path, a.size) for a in store.runs.artifacts(run.id)] == [
        ("a/x.json", 5),
        ("b.txt", 4),
    ]


def test_nested_runs_record_their_parent(store: MetadataStore) -> None:
    parent = store.runs.create(new_run())
    child = store.runs.create(new_run(parent=parent.id))
    assert store.runs.get(child.id).parent_id == parent.id
    with pytest.raises(RunNotFound):
        store.runs.create(new_run(parent="missing"))


def test_search_filters_orders_and_pages(store: MetadataStore) -> None:
    ids = []
    for i in range(7):
        run = store.runs.create(new_run(start=1000 + i))
        store.runs.log_params(run.id, {"depth": str(i % 2)})
        store.runs.log_metrics(run.id, [Metric("auc", i / 10, 0, 1)])
        ids.append(run.id)
    store.runs.create(new_run())  # no metrics: never matches a metric filter
    page = store.runs.search(
        ["churn"],
        filter="metrics.auc >= 0.2 and params.depth = '0'",
        order_by=["metrics.auc desc"],
        limit=2,
    )
    assert [r.id for r in page.items] == [ids[6], ids[4]]
    rest = store.runs.search(
        ["churn"],
        filter="metrics.auc >= 0.2 and params.depth = '0'",
        order_by=["metrics.auc desc"],
        limit=2,
        page_token=page.next_token,
    )
    assert [r.id for r in rest.items] == [ids[2]] and rest.next_token is None


def test_search_reports_bad_input(store: MetadataStore) -> None:
    with pytest.raises(FilterSyntaxError):
        store.runs.search(filter="metrics.auc >")
    with pytest.raises(InvalidValue, match="page token"):
        store.runs.search(page_token="garbage")
    with pytest.raises(InvalidValue, match="limit"):
        store.runs.search(limit=0)
    store.experiments.create("churn")
    with pytest.raises(ExperimentNotFound, match="did you mean 'churn'"):
        store.runs.search(["churn", "chrun"])


def test_deleted_runs_are_hidden_and_restorable(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.delete(run.id)
    assert store.runs.search().items == ()
    assert store.runs.get(run.id).lifecycle is Lifecycle.DELETED
    assert len(store.runs.search(include_deleted=True).items) == 1
    store.runs.restore(run.id)
    assert [r.id for r in store.runs.search().items] == [run.id]


def test_every_mutation_writes_an_audit_event(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.log_params(run.id, {"lr": "0.1"})
    store.runs.set_tags(run.id, {"t": "1"})
    store.runs.log_metrics(run.id, [Metric("m", 1.0, 0, 1)])
    store.runs.add_artifacts(run.id, [Artifact("a", "blake3:" + "0" * 64, 1)])
    store.runs.end(run.id, RunStatus.FINISHED, 5)
    store.runs.delete(run.id)
    actions = [e.action for e in reversed(store.audit.events(subject=f"runs:/{run.id}"))]
    assert actions == [
        "run.create",
        "run.log_params",
        "run.set_tags",
        "run.log_metrics",
        "run.log_artifacts",
        "run.end",
        "run.delete",
    ]
    assert {e.actor for e in store.audit.events()} == {"tester"}
    end = next(e for e in store.audit.events() if e.action == "run.end")
    assert end.detail == {"before": "RUNNING", "after": "FINISHED"}


def test_a_refused_change_writes_no_audit_event(store: MetadataStore) -> None:
    run = store.runs.create(new_run())
    store.runs.log_params(run.id, {"lr": "0.1"})
    before = len(store.audit.events())
    with pytest.raises(ParamConflict):
        store.runs.log_params(run.id, {"lr": "0.2"})
    assert len(store.audit.events()) == before


def test_lineage_edges_walk_both_ways_and_are_idempotent(store: MetadataStore) -> None:
    store.lineage.add("data:churn@1", "runs:/abc", "used_by")
    store.lineage.add("data:churn@1", "runs:/abc", "used_by")
    store.lineage.add("runs:/abc", "models:/churn/1", "produced")
    assert [e.source for e in store.lineage.upstream("runs:/abc")] == ["data:churn@1"]
    assert [e.target for e in store.lineage.downstream("runs:/abc")] == ["models:/churn/1"]
    assert len([e for e in store.audit.events() if e.action == "lineage.add"]) == 2
