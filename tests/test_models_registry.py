"""The model registry store on every backend: versions, aliases, history, audit, policy.

The contract tests use the shared ``store`` fixture (SQLite, PostgreSQL, a live ``yard
server``); the concurrency tests open several SQL stores on one database."""

from __future__ import annotations

import itertools
import threading

import pytest

from modelyard.domain.models import AliasChange, ModelRef, NewModelVersion, VersionStatus
from modelyard.errors import AlreadyExists, InvalidName, InvalidState, ModelNotFound, PolicyDenied
from modelyard.store.base import MetadataStore
from modelyard.store.sql import open_sql_store


def digest(n: int) -> str:
    return "blake3:" + f"{n:064x}"


def allow(change: AliasChange) -> None:
    pass


def add(store: MetadataStore, name: str = "churn", n: int = 1, run_id: str | None = None):
    return store.models.add_version(
        NewModelVersion(name, digest(n), "sklearn", f"runs:/{run_id}/model", run_id)
    )


def test_versions_are_numbered_from_one_per_model(store: MetadataStore) -> None:
    assert [add(store, "churn", i).number for i in range(3)] == [1, 2, 3]
    assert add(store, "fraud").number == 1
    model = store.models.get_model("churn")
    assert (model.latest_version, model.version_count, model.owner) == (3, 3, "tester")
    assert [m.name for m in store.models.list_models()] == ["churn", "fraud"]


def test_registering_a_run_records_lineage_and_audit_in_one_go(store: MetadataStore) -> None:
    run_id = "a" * 32
    version = add(store, run_id=run_id)
    edges = store.lineage.downstream(f"runs:/{run_id}")
    assert [(e.target, e.relation) for e in edges] == [("models:/churn/1", "produced")]
    actions = [e.action for e in store.audit.events(subject="models:/churn")]
    assert actions == ["model.version.create", "model.create"]
    assert store.models.versions_of_run(run_id) == [version]


def test_alias_moves_are_unique_per_model_and_keep_history(store: MetadataStore) -> None:
    add(store, n=1)
    add(store, n=2)
    first = store.models.set_alias("churn", "champion", 1, allow)
    second = store.models.set_alias("churn", "champion", 2, allow)
    assert (first.before, first.after, second.before, second.after) == (None, 1, 1, 2)
    assert store.models.resolve(ModelRef("churn", alias="champion")).number == 2
    assert store.models.get_model("churn").aliases == {"champion": 2}
    assert store.models.get_version("churn", 2).aliases == ("champion",)
    history = store.models.alias_history("churn", "champion")
    assert [(h.before, h.after, h.actor) for h in history] == [
        (None, 1, "tester"),
        (1, 2, "tester"),
    ]
    audit = store.audit.events(subject="models:/churn")
    moves = [e.detail for e in audit if e.action == "model.alias.set"]
    assert moves == [
        {"alias": "champion", "before": 1, "after": 2},
        {"alias": "champion", "before": None, "after": 1},
    ]


def test_the_policy_sees_the_move_and_a_refusal_changes_nothing(store: MetadataStore) -> None:
    add(store, n=1)
    add(store, n=2)
    store.models.set_alias("churn", "champion", 1, allow)
    seen: list[AliasChange] = []

    def refuse(change: AliasChange) -> None:
        seen.append(change)
        raise PolicyDenied("champion moves need an approval")

    with pytest.raises(PolicyDenied):
        store.models.set_alias("churn", "champion", 2, refuse)
    assert [(c.model, c.alias, c.before, c.after) for c in seen] == [("churn", "champion", 1, 2)]
    assert store.models.resolve(ModelRef("churn", alias="champion")).number == 1
    assert len(store.models.alias_history("churn")) == 1


def test_unknown_model_version_and_alias_say_what_exists(store: MetadataStore) -> None:
    add(store)
    store.models.set_alias("churn", "champion", 1, allow)
    with pytest.raises(ModelNotFound, match="did you mean 'churn'"):
        store.models.get_model("chrun")
    with pytest.raises(ModelNotFound, match=r"no version 7 \(versions: 1 to 1\)"):
        store.models.get_version("churn", 7)
    with pytest.raises(ModelNotFound, match="did you mean 'champion'"):
        store.models.resolve(ModelRef("churn", alias="champio"))
    with pytest.raises(ModelNotFound, match="no alias 'staging'"):
        store.models.delete_alias("churn", "staging", allow)


def test_deleted_versions_cannot_be_aliased_or_loaded(store: MetadataStore) -> None:
    add(store, n=1)
    add(store, n=2)
    store.models.set_alias("churn", "champion", 2, allow)
    with pytest.raises(InvalidState, match="target of alias"):
        store.models.delete_version("churn", 2)
    deleted = store.models.delete_version("churn", 1)
    assert deleted.status is VersionStatus.DELETED
    with pytest.raises(InvalidState, match="is deleted"):
        store.models.set_alias("churn", "challenger", 1, allow)
    with pytest.raises(ModelNotFound, match="is deleted"):
        store.models.resolve(ModelRef("churn", number=1))
    assert [v.number for v in store.models.versions("churn")] == [2]
    assert len(store.models.versions("churn", include_deleted=True)) == 2
    assert store.models.resolve(ModelRef("churn")).number == 2


def test_tags_and_descriptions_are_audited_with_before_and_after(store: MetadataStore) -> None:
    add(store)
    store.models.set_version_tags("churn", 1, {"reviewed": "no"})
    version = store.models.set_version_tags("churn", 1, {"reviewed": "yes"})
    assert version.tags == {"reviewed": "yes"}
    assert store.models.set_model_tags("churn", {"team": "risk"}).tags == {"team": "risk"}
    assert store.models.describe_version("churn", 1, "first").description == "first"
    assert store.models.describe_model("churn", "churn model").description == "churn model"
    tag_events = [e for e in store.audit.events() if e.action == "model.version.tags.set"]
    assert tag_events[0].detail == {"before": {"reviewed": "no"}, "after": {"reviewed": "yes"}}


def test_bad_names_are_refused_before_anything_is_written(store: MetadataStore) -> None:
    with pytest.raises(InvalidName):
        add(store, "bad name")
    add(store)
    with pytest.raises(InvalidName):
        store.models.set_alias("churn", "3", 1, allow)
    with pytest.raises(InvalidName):
        store.models.set_alias("churn", "latest", 1, allow)
    with pytest.raises(AlreadyExists):
        store.models.create_model("churn")
    assert store.models.list_models()[0].aliases == {}


def test_concurrent_alias_moves_serialise_with_a_consistent_history(store_url: str) -> None:
    stores = [open_sql_store(store_url, actor=f"user{i}") for i in range(4)]
    try:
        for n in range(1, 5):
            add(stores[0], n=n)
        errors: list[BaseException] = []

        def move(i: int) -> None:
            try:
                for round_ in range(5):
                    stores[i].models.set_alias("churn", "champion", (i + round_) % 4 + 1, allow)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=move, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        history = stores[0].models.alias_history("churn", "champion")
        # every recorded move starts where the previous one ended: no lost update
        for previous, current in itertools.pairwise(history):
            assert current.before == previous.after
        final = stores[0].models.resolve(ModelRef("churn", alias="champion")).number
        assert history[-1].after == final
    finally:
        for s in stores:
            s.close()


def test_concurrent_registrations_get_distinct_numbers(store_url: str) -> None:
    stores = [open_sql_store(store_url, actor="t") for _ in range(3)]
    numbers: list[int] = []
    lock = threading.Lock()

    def register(s: MetadataStore, base: int) -> None:
        for i in range(5):
            number = add(s, "race", base + i).number
            with lock:
                numbers.append(number)

    try:
        threads = [
            threading.Thread(target=register, args=(s, k * 10)) for k, s in enumerate(stores)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(numbers) == list(range(1, 16))
    finally:
        for s in stores:
            s.close()
