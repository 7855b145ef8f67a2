"""The dataset store contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from modelyard.domain.datasets import (
    ColumnProfile,
    DatasetKind,
    NewDatasetVersion,
    TableProfile,
)
from modelyard.domain.uris import DatasetRef
from modelyard.errors import DatasetNotFound, InvalidName
from modelyard.store.base import MetadataStore

PROFILE = TableProfile(
    rows=10,
    columns=(
        ColumnProfile("age", "int64", 1, 9, distinct=9, min=1.0, max=9.0, mean=5.0, std=2.7),
        ColumnProfile("plan", "string", 0, 10, distinct=2, top=(("basic", 7), ("pro", 3))),
    ),
    format="parquet",
)


def new(content: str, name: str = "churn", profile: TableProfile | None = None):  # type: ignore[no-untyped-def]
    return NewDatasetVersion(
        dataset=name,
        content_digest=f"blake3:{content * 64}"[:71],
        manifest_digest="blake3:" + "f" * 64,
        kind=DatasetKind.FOLDER,
        message=f"content {content}",
        author="tester",
        total_size=100,
        file_count=2,
        source="/data/churn",
        profile=profile,
    )


def test_versions_are_numbered_from_one_and_audited(store: MetadataStore) -> None:
    first = store.datasets.add_version(new("a", profile=PROFILE))
    second = store.datasets.add_version(new("b"))
    assert (first.created, first.version.number) == (True, 1)
    assert (second.created, second.version.number) == (True, 2)
    assert first.version.profile == PROFILE
    assert [v.number for v in store.datasets.versions("churn")] == [1, 2]
    actions = [e.action for e in store.audit.events(subject="data:churn")]
    assert "dataset.create" in actions
    assert [e.subject for e in store.audit.events() if e.action == "dataset.version.add"] == [
        "data:churn@2",
        "data:churn@1",
    ]


def test_content_equal_to_the_latest_version_records_nothing(store: MetadataStore) -> None:
    store.datasets.add_version(new("a"))
    again = store.datasets.add_version(new("a"))
    assert (again.created, again.version.number) == (False, 1)
    events = [e for e in store.audit.events() if e.action == "dataset.version.add"]
    assert len(events) == 1


def test_returning_to_older_content_is_a_new_version(store: MetadataStore) -> None:
    for content in "aba":
        store.datasets.add_version(new(content))
    assert [v.number for v in store.datasets.versions("churn")] == [1, 2, 3]


def test_resolve_by_latest_number_and_digest_prefix(store: MetadataStore) -> None:
    store.datasets.add_version(new("a"))
    store.datasets.add_version(new("b"))
    assert store.datasets.resolve(DatasetRef("churn")).number == 2
    assert store.datasets.resolve(DatasetRef("churn", number=1)).content_digest.endswith("a")
    assert store.datasets.resolve(DatasetRef("churn", digest_prefix="aaaaaa")).number == 1


def test_unknown_datasets_and_versions_are_named(store: MetadataStore) -> None:
    store.datasets.add_version(new("a"))
    with pytest.raises(DatasetNotFound, match="did you mean 'churn'"):
        store.datasets.resolve(DatasetRef("churm"))
    with pytest.raises(DatasetNotFound, match=r"no version 7 \(versions: 1 to 1\)"):
        store.datasets.resolve(DatasetRef("churn", number=7))
    with pytest.raises(DatasetNotFound, match="digest starting with 'cccccc'"):
        store.datasets.resolve(DatasetRef("churn", digest_prefix="cccccc"))


def test_an_ambiguous_digest_prefix_asks_for_more_digits(store: MetadataStore) -> None:
    first = new("a")
    second = dataclasses.replace(first, content_digest="blake3:aaaaaa" + "b" * 58)
    store.datasets.add_version(first)
    store.datasets.add_version(second)
    with pytest.raises(InvalidName, match=r"matches versions 1, 2 .* give more digits"):
        store.datasets.resolve(DatasetRef("churn", digest_prefix="aaaaaa"))
    assert store.datasets.resolve(DatasetRef("churn", digest_prefix="aaaaaab")).number == 2


def test_list_shows_each_dataset_with_its_latest_version(store: MetadataStore) -> None:
    store.datasets.add_version(new("a"))
    store.datasets.add_version(new("b"))
    store.datasets.add_version(new("c", name="scans"))
    listed = {d.name: d.latest.number for d in store.datasets.list() if d.latest}
    assert listed == {"churn": 2, "scans": 1}


def test_find_by_source_returns_the_newest_version_added_from_there(
    store: MetadataStore,
) -> None:
    store.datasets.add_version(new("a"))
    store.datasets.add_version(new("b"))
    found = store.datasets.find_by_source("/data/churn")
    assert found is not None and found.number == 2
    assert store.datasets.find_by_source("/elsewhere") is None


def test_bad_dataset_names_are_refused(store: MetadataStore) -> None:
    with pytest.raises(InvalidName):
        store.datasets.add_version(new("a", name="bad name"))
