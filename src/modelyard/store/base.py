"""The metadata store protocol, split per capability.

``store/sql`` implements it on SQLite and PostgreSQL; a REST client will implement the same
protocol against ``yard server``. Capabilities only see these protocols. Every mutation takes
effect together with its audit event, in one transaction, attributed to the store's actor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from modelyard.domain.datasets import Dataset, DatasetVersion, NewDatasetVersion, VersionAdded
from modelyard.domain.records import (
    Artifact,
    AuditEvent,
    Experiment,
    LineageEdge,
    Metric,
    NewRun,
    Page,
    Run,
    RunStatus,
)
from modelyard.domain.uris import DatasetRef


class ExperimentStore(Protocol):
    def create(self, name: str, description: str = "") -> Experiment: ...
    def get(self, name: str) -> Experiment: ...
    def get_or_create(self, name: str) -> Experiment: ...
    def list(self, *, include_deleted: bool = False) -> list[Experiment]: ...
    def rename(self, name: str, new_name: str) -> Experiment: ...
    def delete(self, name: str) -> Experiment: ...
    def restore(self, name: str) -> Experiment: ...


class RunStore(Protocol):
    def create(self, new: NewRun) -> Run: ...
    def get(self, run_id: str) -> Run: ...
    def end(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        last_points: Sequence[Metric] = (),
        last_params: Mapping[str, str] | None = None,
    ) -> None: ...
    def log_params(self, run_id: str, params: Mapping[str, str]) -> None: ...
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None: ...
    def log_metrics(self, run_id: str, points: Sequence[Metric]) -> None: ...
    def log_batch(
        self, run_id: str, params: Mapping[str, str], points: Sequence[Metric]
    ) -> None: ...
    def metric_history(self, run_id: str, key: str) -> list[Metric]: ...
    def add_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None: ...
    def artifacts(self, run_id: str) -> list[Artifact]: ...
    def search(
        self,
        experiments: Sequence[str] = (),
        *,
        filter: str | None = None,
        order_by: Sequence[str] = (),
        limit: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> Page: ...
    def delete(self, run_id: str) -> Run: ...
    def restore(self, run_id: str) -> Run: ...


class LineageStore(Protocol):
    def add(self, source: str, target: str, relation: str) -> LineageEdge: ...
    def upstream(self, uri: str) -> list[LineageEdge]: ...
    def downstream(self, uri: str) -> list[LineageEdge]: ...


class DatasetStore(Protocol):
    def add_version(self, new: NewDatasetVersion) -> VersionAdded: ...
    def get(self, name: str) -> Dataset: ...
    def list(self) -> list[Dataset]: ...
    def versions(self, name: str) -> list[DatasetVersion]: ...
    def resolve(self, ref: DatasetRef) -> DatasetVersion: ...
    def find_by_source(self, source: str) -> DatasetVersion | None: ...


class AuditLog(Protocol):
    def events(self, *, subject: str | None = None, limit: int = 100) -> list[AuditEvent]: ...


@dataclass(frozen=True, slots=True)
class MetadataStore:
    """Everything a capability needs from the metadata backend, one protocol per concern."""

    experiments: ExperimentStore
    runs: RunStore
    lineage: LineageStore
    audit: AuditLog
    datasets: DatasetStore
    actor: str
    uri: str
    close: Callable[[], None]
