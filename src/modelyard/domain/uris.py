"""Dataset references: ``churn``, ``churn@latest``, ``churn@3``, ``churn@<digest prefix>``.

The ``data:`` scheme is optional when parsing and always present in lineage URIs
(``data:churn@3``). No I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelyard.domain.names import check_resource_name
from modelyard.errors import InvalidName

SCHEME = "data:"
MIN_DIGEST_PREFIX = 6

_HEX_RE = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """Which version of a dataset: a number, a digest prefix, or (neither) the latest."""

    name: str
    number: int | None = None
    digest_prefix: str | None = None

    @property
    def is_latest(self) -> bool:
        return self.number is None and self.digest_prefix is None

    def __str__(self) -> str:
        if self.number is not None:
            return f"{self.name}@{self.number}"
        if self.digest_prefix is not None:
            return f"{self.name}@{self.digest_prefix}"
        return self.name


def check_dataset_name(name: object) -> str:
    """Return ``name`` if it can name a dataset, else raise InvalidName saying why."""
    return check_resource_name(name, "dataset", "churn-features")


def parse_dataset_ref(text: object) -> DatasetRef:
    """Parse ``[data:]name[@latest|@<number>|@<digest prefix>]``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidName(
            f"dataset reference must be a non-empty string such as 'churn@3', got {text!r}",
            field="dataset",
        )
    body = text.strip().removeprefix(SCHEME)
    name, at, version = body.partition("@")
    if "@" in version:
        raise InvalidName(
            f"dataset reference {text!r} has more than one '@'; write name@version, e.g. 'churn@3'",
            field="dataset",
        )
    check_dataset_name(name)
    if not at or version == "latest":
        if at and not version:
            raise InvalidName(
                f"dataset reference {text!r} ends with '@'; add a version ('churn@3'), "
                "'@latest' or a digest prefix, or drop the '@'",
                field="dataset",
            )
        return DatasetRef(name)
    if not version:
        raise InvalidName(
            f"dataset reference {text!r} ends with '@'; add a version ('churn@3'), "
            "'@latest' or a digest prefix, or drop the '@'",
            field="dataset",
        )
    if version.isdigit():
        number = int(version)
        if number < 1:
            raise InvalidName(
                f"dataset versions start at 1; {text!r} names version {number}", field="dataset"
            )
        return DatasetRef(name, number=number)
    prefix = version.removeprefix("blake3:").lower()
    if _HEX_RE.fullmatch(prefix) and len(prefix) >= MIN_DIGEST_PREFIX:
        return DatasetRef(name, digest_prefix=prefix)
    raise InvalidName(
        f"cannot read the version in {text!r}: use a number ('{name}@3'), 'latest', or at "
        f"least {MIN_DIGEST_PREFIX} hex digits of the version digest ('{name}@1f3a9c')",
        field="dataset",
    )


def dataset_uri(name: str, number: int) -> str:
    """The lineage URI of one version: ``data:churn@3``."""
    return f"{SCHEME}{name}@{number}"
