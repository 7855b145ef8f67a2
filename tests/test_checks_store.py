"""Evaluations stored on model versions, on SQLite, PostgreSQL and through a live ``yard
server``: outcomes, lineage, audit."""

from __future__ import annotations

import math

import pytest

from modelyard.domain.evaluations import CheckOutcome, CheckStatus, NewEvaluation
from modelyard.domain.models import NewModelVersion
from modelyard.errors import ModelNotFound, NotFound
from modelyard.store.base import MetadataStore


def evaluation(status: CheckStatus = CheckStatus.FAILED, **extra) -> NewEvaluation:  # type: ignore[no-untyped-def]
    return NewEvaluation(
        model="churn",
        number=1,
        suite_digest="blake3:" + "a" * 64,
        data_uri="data:churn@5",
        status=status,
        outcomes=(
            CheckOutcome("metric roc_auc", "metric", CheckStatus.PASSED, 0.91, ">= 0.8", "ok"),
            CheckOutcome("metric f1", "metric", CheckStatus.FAILED, 0.5, ">= 0.7", "low"),
            CheckOutcome("latency", "operational", CheckStatus.ERROR, math.nan, "", "crashed"),
        ),
        **extra,
    )


def register(store: MetadataStore) -> None:
    store.models.add_version(NewModelVersion("churn", "blake3:" + "0" * 64, "sklearn", "x"))


def test_an_evaluation_is_stored_on_its_version_with_lineage_and_audit(
    store: MetadataStore,
) -> None:
    register(store)
    register(store)
    added = store.evaluations.add(evaluation(compared_with="models:/churn/2"))
    assert math.isnan(added.outcomes[2].value)  # type: ignore[arg-type]
    (listed,) = store.evaluations.list("churn", 1)
    assert listed.id == added.id and listed.created_by == "tester"
    assert [o.status for o in listed.outcomes] == [
        CheckStatus.PASSED,
        CheckStatus.FAILED,
        CheckStatus.ERROR,
    ]
    assert listed.outcomes[0].value == 0.91 and listed.outcomes[2].value is None
    assert store.evaluations.get(added.id) == listed
    edges = {(e.source, e.relation) for e in store.lineage.upstream(added.uri)}
    assert edges == {
        ("models:/churn/1", "evaluated_by"),
        ("data:churn@5", "used_by"),
        ("models:/churn/2", "compared_in"),
    }
    (event, *_) = store.audit.events(subject="models:/churn/1")
    assert event.action == "model.evaluation.create"
    assert event.detail["not_passed"] == ["metric f1", "latency"]
    assert store.evaluations.list("churn", 2) == []


def test_evaluations_are_listed_newest_first(store: MetadataStore) -> None:
    register(store)
    first = store.evaluations.add(evaluation(CheckStatus.FAILED))
    second = store.evaluations.add(evaluation(CheckStatus.PASSED))
    assert [e.id for e in store.evaluations.list("churn", 1)] == [second.id, first.id]
    assert [e.id for e in store.evaluations.list("churn", 1, limit=1)] == [second.id]


def test_an_evaluation_of_an_unknown_version_stores_nothing(store: MetadataStore) -> None:
    with pytest.raises(ModelNotFound, match="no version 1"):
        store.evaluations.add(evaluation())
    assert store.audit.events(subject="models:/churn/1") == []
    with pytest.raises(NotFound):
        store.evaluations.get("f" * 32)
