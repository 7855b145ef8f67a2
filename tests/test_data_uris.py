"""Dataset references: what parses, and what is refused with a clear message."""

from __future__ import annotations

import pytest

from modelyard.domain.uris import DatasetRef, dataset_uri, parse_dataset_ref
from modelyard.errors import InvalidName


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", DatasetRef("churn")),
        ("churn@latest", DatasetRef("churn")),
        ("data:churn@3", DatasetRef("churn", number=3)),
        ("churn-features.v2@12", DatasetRef("churn-features.v2", number=12)),
        ("churn@1f3a9c", DatasetRef("churn", digest_prefix="1f3a9c")),
        ("churn@blake3:1F3A9C0D", DatasetRef("churn", digest_prefix="1f3a9c0d")),
    ],
)
def test_references_parse(text: str, expected: DatasetRef) -> None:
    assert parse_dataset_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "non-empty"),
        ("churn@", "ends with '@'"),
        ("churn@0", "start at 1"),
        ("churn@1@2", "more than one '@'"),
        ("churn@abc", "at least 6 hex digits"),
        ("churn@zzzzzzzz", "at least 6 hex digits"),
        ("-churn", "start with a letter or digit"),
        ("ch urn@1", "not valid"),
        ("@3", "non-empty string"),
        ("x" * 101, "the limit is 100"),
    ],
)
def test_malformed_references_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message):
        parse_dataset_ref(text)


def test_a_version_uri_round_trips() -> None:
    assert dataset_uri("churn", 3) == "data:churn@3"
    assert str(parse_dataset_ref(dataset_uri("churn", 3))) == "churn@3"
