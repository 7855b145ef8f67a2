"""Request bodies, validated by pydantic before any route runs.

Every string is bounded by the column it lands in and may not contain NUL (PostgreSQL text
cannot hold it); every integer fits in 64 bits. Input that breaks these rules is a 422 with
the offending field, never a database error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from modelyard.domain.datasets import DatasetKind
from modelyard.domain.users import Role

Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def Text(max_length: int | None = None, min_length: int = 0):  # type: ignore[no-untyped-def]
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)
    ]


Key = Text(250, 1)
Value = Text(None)
Name = Text(200, 1)
Digest = Text(80, 1)
Uri = Text(1000, 1)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentIn(_Body):
    name: Name  # type: ignore[valid-type]
    description: Value = ""  # type: ignore[valid-type]


class RenameIn(_Body):
    name: Name  # type: ignore[valid-type]
    new_name: Name  # type: ignore[valid-type]


class NameIn(_Body):
    name: Name  # type: ignore[valid-type]


class NewRunIn(_Body):
    id: Text(32, 1)  # type: ignore[valid-type]
    experiment_name: Name  # type: ignore[valid-type]
    name: Text(250, 1)  # type: ignore[valid-type]
    start_time: Int64
    parent_id: Text(32, 1) | None = None  # type: ignore[valid-type]
    user: Text(250) = ""  # type: ignore[valid-type]
    host: Text(250) = ""  # type: ignore[valid-type]
    command: Value = ""  # type: ignore[valid-type]
    git_commit: Text(64) | None = None  # type: ignore[valid-type]
    git_dirty: bool | None = None
    environment_digest: Digest | None = None  # type: ignore[valid-type]
    tags: dict[Key, Value] = {}  # type: ignore[valid-type]


class PointsIn(_Body):
    """Metric points as four parallel columns; values may be 'NaN', 'Infinity', '-Infinity'."""

    keys: list[Key] = []  # type: ignore[valid-type]
    values: list[float | Text(9)] = []  # type: ignore[valid-type]
    steps: list[Int64] = []
    timestamps: list[Int64] = []


class BatchIn(PointsIn):
    params: dict[Key, Value] = {}  # type: ignore[valid-type]


class EndIn(_Body):
    status: Text(16, 1)  # type: ignore[valid-type]
    end_time: Int64
    last_params: dict[Key, Value] = {}  # type: ignore[valid-type]
    last_points: PointsIn | None = None


class ParamsIn(_Body):
    params: dict[Key, Value]  # type: ignore[valid-type]


class TagsIn(_Body):
    tags: dict[Key, Value]  # type: ignore[valid-type]


class ArtifactIn(_Body):
    path: Text(1000, 1)  # type: ignore[valid-type]
    digest: Digest  # type: ignore[valid-type]
    size: Count


class ArtifactsIn(_Body):
    artifacts: list[ArtifactIn]


class SearchIn(_Body):
    experiments: list[Name] = []  # type: ignore[valid-type]
    filter: Value | None = None  # type: ignore[valid-type]
    order_by: list[Text(1000)] = []  # type: ignore[valid-type]
    limit: Int64 = 100  # the store checks the range, with its own message
    page_token: Text(200) | None = None  # type: ignore[valid-type]
    include_deleted: bool = False


class EdgeIn(_Body):
    source: Uri  # type: ignore[valid-type]
    target: Uri  # type: ignore[valid-type]
    relation: Text(64, 1)  # type: ignore[valid-type]


class NewVersionIn(_Body):
    dataset: Text(100, 1)  # type: ignore[valid-type]
    content_digest: Digest  # type: ignore[valid-type]
    manifest_digest: Digest  # type: ignore[valid-type]
    kind: DatasetKind
    message: Value = ""  # type: ignore[valid-type]
    author: Text(250) = ""  # type: ignore[valid-type]
    total_size: Count
    file_count: Count
    source: Value = ""  # type: ignore[valid-type]
    profile: dict | None = None  # type: ignore[type-arg]


class UserIn(_Body):
    name: Text(100, 1)  # type: ignore[valid-type]
    role: Role | None = None
    scope: Text(300, 1) = "global"  # type: ignore[valid-type]
    token: bool = True
    expires_at: Int64 | None = None
    description: Text(1000) = ""  # type: ignore[valid-type]


class GrantIn(_Body):
    role: Role
    scope: Text(300, 1) = "global"  # type: ignore[valid-type]


class TokenIn(_Body):
    expires_at: Int64 | None = None
    description: Text(1000) = ""  # type: ignore[valid-type]
