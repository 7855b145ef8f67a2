"""Records of data versioning: datasets, versions, manifests entries and tabular profiles.

A version's identity is its *content digest*: the hash of its sorted (path, digest, size)
listing. Two versions with the same files have the same content digest, wherever their bytes
happen to be stored. No I/O here.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelyard.domain.uris import dataset_uri


class DatasetKind(str, enum.Enum):
    """A version holds one file (``yard data add train.parquet``) or a folder of files."""

    FILE = "file"
    FOLDER = "folder"


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """Summary of one column. Numbers get min/max/mean/std/quantiles; text gets categories."""

    name: str
    type: str
    nulls: int
    count: int
    distinct: int | None = None
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: Mapping[str, float] = field(default_factory=dict)
    top: tuple[tuple[str, int], ...] = ()

    @property
    def null_fraction(self) -> float:
        total = self.count + self.nulls
        return self.nulls / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "nulls": self.nulls,
            "count": self.count,
            "distinct": self.distinct,
            "min": _finite(self.min),
            "max": _finite(self.max),
            "mean": _finite(self.mean),
            "std": _finite(self.std),
            "quantiles": {k: _finite(v) for k, v in self.quantiles.items()},
            "top": [[value, count] for value, count in self.top],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        return cls(
            name=data["name"],
            type=data["type"],
            nulls=int(data["nulls"]),
            count=int(data["count"]),
            distinct=data.get("distinct"),
            min=data.get("min"),
            max=data.get("max"),
            mean=data.get("mean"),
            std=data.get("std"),
            quantiles=dict(data.get("quantiles") or {}),
            top=tuple((str(v), int(c)) for v, c in data.get("top") or ()),
        )


@dataclass(frozen=True, slots=True)
class TableProfile:
    """Schema, row count and per-column summaries of a tabular version."""

    rows: int
    columns: tuple[ColumnProfile, ...]
    format: str  # "parquet" or "csv"

    @property
    def schema(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "format": self.format,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableProfile:
        return cls(
            rows=int(data["rows"]),
            columns=tuple(ColumnProfile.from_dict(c) for c in data["columns"]),
            format=data.get("format", ""),
        )


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    description: str
    created_at: int  # milliseconds since the epoch
    latest: DatasetVersion | None = None


@dataclass(frozen=True, slots=True)
class NewDatasetVersion:
    """What a client supplies to record a version; the store assigns the number."""

    dataset: str
    content_digest: str
    manifest_digest: str
    kind: DatasetKind
    message: str
    author: str
    total_size: int
    file_count: int
    source: str = ""
    profile: TableProfile | None = None


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    dataset: str
    number: int
    content_digest: str
    manifest_digest: str
    kind: DatasetKind
    message: str
    author: str
    created_at: int  # milliseconds since the epoch
    total_size: int
    file_count: int
    source: str = ""
    profile: TableProfile | None = None

    @property
    def uri(self) -> str:
        return dataset_uri(self.dataset, self.number)

    @property
    def rows(self) -> int | None:
        return self.profile.rows if self.profile else None

    @property
    def short_digest(self) -> str:
        return self.content_digest.removeprefix("blake3:")[:12]

    def to_dict(self) -> dict[str, Any]:
        """The version as plain JSON-ready values (``from_dict`` reads it back)."""
        return {
            "dataset": self.dataset,
            "number": self.number,
            "content_digest": self.content_digest,
            "manifest_digest": self.manifest_digest,
            "kind": self.kind.value,
            "message": self.message,
            "author": self.author,
            "created_at": self.created_at,
            "total_size": self.total_size,
            "file_count": self.file_count,
            "source": self.source,
            "profile": self.profile.to_dict() if self.profile else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetVersion:
        profile = data.get("profile")
        return cls(
            dataset=data["dataset"],
            number=data["number"],
            content_digest=data["content_digest"],
            manifest_digest=data["manifest_digest"],
            kind=DatasetKind(data["kind"]),
            message=data["message"],
            author=data["author"],
            created_at=data["created_at"],
            total_size=data["total_size"],
            file_count=data["file_count"],
            source=data.get("source", ""),
            profile=TableProfile.from_dict(profile) if profile else None,
        )


@dataclass(frozen=True, slots=True)
class VersionAdded:
    """The outcome of recording a version: ``created`` is False when the content equals the
    latest version's, in which case ``version`` is that existing version."""

    version: DatasetVersion
    created: bool


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
