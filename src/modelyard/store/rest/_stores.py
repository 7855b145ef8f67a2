"""The store protocols over HTTP: each method is one API call (listings follow page tokens)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

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
from modelyard.store.rest import _codec as c
from modelyard.store.rest._http import Transport, content_key, new_key

MAX_POINTS_PER_REQUEST = 50_000


def _name(name: str) -> str:
    return quote(name, safe="")


class RestExperimentStore:
    def __init__(self, http: Transport) -> None:
        self._http = http

    def create(self, name: str, description: str = "") -> Experiment:
        body = {"name": name, "description": description}
        return c.experiment_from_json(self._http.call("POST", "/experiments", body=body))

    def get(self, name: str) -> Experiment:
        return c.experiment_from_json(self._http.call("GET", f"/experiments/{_name(name)}"))

    def get_or_create(self, name: str) -> Experiment:
        return c.experiment_from_json(self._http.call("PUT", f"/experiments/{_name(name)}"))

    def list(self, *, include_deleted: bool = False) -> list[Experiment]:
        items = self._http.pages("/experiments", {"include_deleted": include_deleted})
        return [c.experiment_from_json(e) for e in items]

    def rename(self, name: str, new_name: str) -> Experiment:
        body = {"name": name, "new_name": new_name}
        return c.experiment_from_json(self._http.call("POST", "/experiments/-/rename", body=body))

    def delete(self, name: str) -> Experiment:
        return c.experiment_from_json(self._http.call("DELETE", f"/experiments/{_name(name)}"))

    def restore(self, name: str) -> Experiment:
        answer = self._http.call("POST", "/experiments/-/restore", body={"name": name}, safe=True)
        return c.experiment_from_json(answer)


class RestRunStore:
    def __init__(self, http: Transport) -> None:
        self._http = http

    def create(self, new: NewRun) -> Run:
        answer = self._http.call("POST", "/runs", body=c.new_run_to_json(new), key=new_key())
        return c.run_from_json(answer)

    def get(self, run_id: str) -> Run:
        return c.run_from_json(self._http.call("GET", f"/runs/{_name(run_id)}"))

    def end(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        last_points: Sequence[Metric] = (),
        last_params: Mapping[str, str] | None = None,
    ) -> None:
        body = {
            "status": status.value,
            "end_time": end_time,
            "last_params": dict(last_params or {}),
            "last_points": c.points_to_json(last_points) if last_points else None,
        }
        self._http.call("POST", f"/runs/{_name(run_id)}/end", body=body, key=new_key())

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        if params:
            body = {"params": dict(params)}
            self._http.call("POST", f"/runs/{_name(run_id)}/params", body=body, safe=True)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        if tags:
            body = {"tags": dict(tags)}
            self._http.call("POST", f"/runs/{_name(run_id)}/tags", body=body, safe=True)

    def log_metrics(self, run_id: str, points: Sequence[Metric]) -> None:
        self.log_batch(run_id, {}, points)

    def log_batch(self, run_id: str, params: Mapping[str, str], points: Sequence[Metric]) -> None:
        """One request per batch (split above MAX_POINTS_PER_REQUEST points), each with an
        idempotency key derived from its content, so any resend of it stores nothing twice."""
        if not params and not points:
            return
        path = f"/runs/{_name(run_id)}/metrics"
        first = True
        for start in range(0, max(len(points), 1), MAX_POINTS_PER_REQUEST):
            body = c.points_to_json(points[start : start + MAX_POINTS_PER_REQUEST])
            body["params"] = dict(params) if first else {}
            first = False
            self._http.call("POST", path, body=body, key=content_key(run_id, body))

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        points: list[Metric] = []
        query: dict[str, str] = {"key": key}
        while True:
            answer = self._http.call("GET", f"/runs/{_name(run_id)}/metric-history", params=query)
            points.extend(
                Metric(key, c.decode_float(v), s, t)
                for v, s, t in zip(
                    answer["values"], answer["steps"], answer["timestamps"], strict=True
                )
            )
            if not answer.get("next_page_token"):
                return points
            query["page_token"] = answer["next_page_token"]

    def add_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        if artifacts:
            body = {"artifacts": [c.artifact_to_json(a) for a in artifacts]}
            self._http.call("POST", f"/runs/{_name(run_id)}/artifacts", body=body, safe=True)

    def artifacts(self, run_id: str) -> list[Artifact]:
        items = self._http.pages(f"/runs/{_name(run_id)}/artifacts")
        return [c.artifact_from_json(a) for a in items]

    def search(
        self,
        experiments: Sequence[str] = (),
        *,
        filter: str | None = None,
        order_by: Sequence[str] = (),
        limit: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> Page:
        body = {
            "experiments": list(experiments),
            "filter": filter,
            "order_by": list(order_by),
            "limit": limit,
            "page_token": page_token,
            "include_deleted": include_deleted,
        }
        answer = self._http.call("POST", "/runs/search", body=body, safe=True)
        return Page(tuple(c.run_from_json(r) for r in answer["items"]), answer["next_page_token"])

    def delete(self, run_id: str) -> Run:
        return c.run_from_json(self._http.call("DELETE", f"/runs/{_name(run_id)}"))

    def restore(self, run_id: str) -> Run:
        answer = self._http.call("POST", f"/runs/{_name(run_id)}/restore", safe=True)
        return c.run_from_json(answer)


class RestLineageStore:
    def __init__(self, http: Transport) -> None:
        self._http = http

    def add(self, source: str, target: str, relation: str) -> LineageEdge:
        body = {"source": source, "target": target, "relation": relation}
        return c.edge_from_json(self._http.call("POST", "/lineage", body=body, safe=True))

    def upstream(self, uri: str) -> list[LineageEdge]:
        return [c.edge_from_json(e) for e in self._http.pages("/lineage/upstream", {"uri": uri})]

    def downstream(self, uri: str) -> list[LineageEdge]:
        items = self._http.pages("/lineage/downstream", {"uri": uri})
        return [c.edge_from_json(e) for e in items]


class RestAuditLog:
    def __init__(self, http: Transport) -> None:
        self._http = http

    def events(self, *, subject: str | None = None, limit: int = 100) -> list[AuditEvent]:
        params: dict[str, object] = {"limit": limit}
        if subject is not None:
            params["subject"] = subject
        answer = self._http.call("GET", "/audit", params=params)
        return [c.event_from_json(e) for e in answer["items"]]


class RestDatasetStore:
    def __init__(self, http: Transport) -> None:
        self._http = http

    def add_version(self, new: NewDatasetVersion) -> VersionAdded:
        # Safe to retry: content equal to the latest version records nothing new.
        answer = self._http.call(
            "POST", "/datasets/versions", body=c.new_version_to_json(new), safe=True
        )
        return c.added_from_json(answer)

    def get(self, name: str) -> Dataset:
        return c.dataset_from_json(self._http.call("GET", f"/datasets/{_name(name)}"))

    def list(self) -> list[Dataset]:
        return [c.dataset_from_json(d) for d in self._http.pages("/datasets")]

    def versions(self, name: str) -> list[DatasetVersion]:
        items = self._http.pages(f"/datasets/{_name(name)}/versions")
        return [c.version_from_json(v) for v in items]

    def resolve(self, ref: DatasetRef) -> DatasetVersion:
        answer = self._http.call("GET", "/datasets/-/resolve", params={"ref": str(ref)})
        return c.version_from_json(answer)

    def find_by_source(self, source: str) -> DatasetVersion | None:
        answer = self._http.call("GET", "/datasets/-/by-source", params={"source": source})
        found = answer["version"]
        return c.version_from_json(found) if found else None
