"""Plain typed records passed between layers. No I/O here."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelyard.errors import InvalidState


class RunStatus(str, enum.Enum):
    """Life of a run: RUNNING, then exactly one terminal state."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING

    def check_transition(self, new: RunStatus, run_id: str) -> None:
        """Raise InvalidState unless moving from ``self`` to ``new`` is allowed."""
        if self.is_terminal:
            raise InvalidState(
                f"run {run_id} is already {self.value}; start a new run instead of "
                f"moving it to {new.value}"
            )
        if not new.is_terminal:
            raise InvalidState(f"run {run_id} is already RUNNING")

    @classmethod
    def parse(cls, text: str) -> RunStatus:
        try:
            return cls(text.upper())
        except ValueError:
            from modelyard.errors import InvalidValue

            choices = ", ".join(s.value for s in cls)
            raise InvalidValue(
                f"unknown run status {text!r}; valid statuses are: {choices}", field="status"
            ) from None


class Lifecycle(str, enum.Enum):
    """Soft deletion: deleted things are hidden but can be restored."""

    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Experiment:
    id: int
    name: str
    description: str
    lifecycle: Lifecycle
    created_at: int  # milliseconds since the epoch
    run_count: int = 0


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    value: float
    step: int
    timestamp: int  # milliseconds since the epoch


@dataclass(frozen=True, slots=True)
class Artifact:
    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    experiment_id: int
    experiment_name: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    parent_id: str | None
    user: str
    host: str
    command: str
    git_commit: str | None
    git_dirty: bool | None
    environment_digest: str | None
    lifecycle: Lifecycle
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"runs:/{self.id}"

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time


@dataclass(frozen=True, slots=True)
class NewRun:
    """What a client supplies to create a run; the store assigns nothing but the row."""

    id: str
    experiment_name: str
    name: str
    start_time: int
    parent_id: str | None
    user: str
    host: str
    command: str
    git_commit: str | None
    git_dirty: bool | None
    environment_digest: str | None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineageEdge:
    source: str
    target: str
    relation: str
    created_at: int


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    timestamp: int
    actor: str
    action: str
    subject: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing; pass ``next_token`` back to get the next one."""

    items: tuple[Any, ...]
    next_token: str | None = None
