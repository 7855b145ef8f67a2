"""The JSON wire format of the REST API: domain records to plain JSON values and back.

Both sides use these functions (the server to answer, the client to read the answer), so the
format is defined once. Non-finite floats, which JSON cannot carry, travel as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``. Metric points travel as columns (four parallel
arrays), which is several times smaller and faster to parse than one object per point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from modelyard.domain.datasets import (
    Dataset,
    DatasetKind,
    DatasetVersion,
    NewDatasetVersion,
    TableProfile,
    VersionAdded,
)
from modelyard.domain.evaluations import CheckOutcome, CheckStatus, Evaluation, NewEvaluation
from modelyard.domain.records import (
    Artifact,
    AuditEvent,
    Experiment,
    Lifecycle,
    LineageEdge,
    Metric,
    NewRun,
    Run,
    RunStatus,
)
from modelyard.domain.users import GLOBAL, Grant, Role, Scope, TokenInfo, User
from modelyard.errors import InvalidValue

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

Json = dict[str, Any]


def encode_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_float(value: float | int | str) -> float:
    if isinstance(value, str):
        try:
            return _NON_FINITE[value]
        except KeyError:
            raise InvalidValue(
                f"metric value {value!r} is not a number; use a number, 'NaN', 'Infinity' or "
                "'-Infinity'",
                field="values",
            ) from None
    return float(value)


# -- metrics ------------------------------------------------------------------------------------


def points_to_json(points: Sequence[Metric]) -> Json:
    return {
        "keys": [p.key for p in points],
        "values": [encode_float(p.value) for p in points],
        "steps": [p.step for p in points],
        "timestamps": [p.timestamp for p in points],
    }


def points_from_columns(
    keys: Sequence[str],
    values: Sequence[float | int | str],
    steps: Sequence[int],
    timestamps: Sequence[int],
) -> list[Metric]:
    n = len(keys)
    if not len(values) == len(steps) == len(timestamps) == n:
        raise InvalidValue(
            f"keys, values, steps and timestamps must have the same length, got {n}, "
            f"{len(values)}, {len(steps)} and {len(timestamps)}",
            field="values",
        )
    return [
        Metric(k, decode_float(v), s, t)
        for k, v, s, t in zip(keys, values, steps, timestamps, strict=True)
    ]


def metric_to_json(m: Metric) -> Json:
    return {"key": m.key, "value": encode_float(m.value), "step": m.step, "timestamp": m.timestamp}


def metric_from_json(d: Mapping[str, Any]) -> Metric:
    return Metric(d["key"], decode_float(d["value"]), d["step"], d["timestamp"])


# -- experiments and runs -------------------------------------------------------------------------


def experiment_to_json(e: Experiment) -> Json:
    return {
        "id": e.id,
        "name": e.name,
        "description": e.description,
        "lifecycle": e.lifecycle.value,
        "created_at": e.created_at,
        "run_count": e.run_count,
    }


def experiment_from_json(d: Mapping[str, Any]) -> Experiment:
    return Experiment(
        d["id"],
        d["name"],
        d["description"],
        Lifecycle(d["lifecycle"]),
        d["created_at"],
        d.get("run_count", 0),
    )


def run_to_json(r: Run) -> Json:
    return {
        "id": r.id,
        "experiment_id": r.experiment_id,
        "experiment_name": r.experiment_name,
        "name": r.name,
        "status": r.status.value,
        "start_time": r.start_time,
        "end_time": r.end_time,
        "parent_id": r.parent_id,
        "user": r.user,
        "host": r.host,
        "command": r.command,
        "git_commit": r.git_commit,
        "git_dirty": r.git_dirty,
        "environment_digest": r.environment_digest,
        "lifecycle": r.lifecycle.value,
        "params": dict(r.params),
        "metrics": {k: metric_to_json(m) for k, m in r.metrics.items()},
        "tags": dict(r.tags),
    }


def run_from_json(d: Mapping[str, Any]) -> Run:
    return Run(
        id=d["id"],
        experiment_id=d["experiment_id"],
        experiment_name=d["experiment_name"],
        name=d["name"],
        status=RunStatus(d["status"]),
        start_time=d["start_time"],
        end_time=d["end_time"],
        parent_id=d["parent_id"],
        user=d["user"],
        host=d["host"],
        command=d["command"],
        git_commit=d["git_commit"],
        git_dirty=d["git_dirty"],
        environment_digest=d["environment_digest"],
        lifecycle=Lifecycle(d["lifecycle"]),
        params=dict(d["params"]),
        metrics={k: metric_from_json(m) for k, m in d["metrics"].items()},
        tags=dict(d["tags"]),
    )


def new_run_to_json(n: NewRun) -> Json:
    return {
        "id": n.id,
        "experiment_name": n.experiment_name,
        "name": n.name,
        "start_time": n.start_time,
        "parent_id": n.parent_id,
        "user": n.user,
        "host": n.host,
        "command": n.command,
        "git_commit": n.git_commit,
        "git_dirty": n.git_dirty,
        "environment_digest": n.environment_digest,
        "tags": dict(n.tags),
    }


def artifact_to_json(a: Artifact) -> Json:
    return {"path": a.path, "digest": a.digest, "size": a.size}


def artifact_from_json(d: Mapping[str, Any]) -> Artifact:
    return Artifact(d["path"], d["digest"], d["size"])


def edge_to_json(e: LineageEdge) -> Json:
    return {
        "source": e.source,
        "target": e.target,
        "relation": e.relation,
        "created_at": e.created_at,
    }


def edge_from_json(d: Mapping[str, Any]) -> LineageEdge:
    return LineageEdge(d["source"], d["target"], d["relation"], d["created_at"])


def event_to_json(e: AuditEvent) -> Json:
    return {
        "id": e.id,
        "timestamp": e.timestamp,
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "detail": dict(e.detail),
    }


def event_from_json(d: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(d["id"], d["timestamp"], d["actor"], d["action"], d["subject"], d["detail"])


# -- datasets -------------------------------------------------------------------------------------


def version_to_json(v: DatasetVersion) -> Json:
    return v.to_dict()


def version_from_json(d: Mapping[str, Any]) -> DatasetVersion:
    return DatasetVersion.from_dict(d)


def new_version_to_json(n: NewDatasetVersion) -> Json:
    return {
        "dataset": n.dataset,
        "content_digest": n.content_digest,
        "manifest_digest": n.manifest_digest,
        "kind": n.kind.value,
        "message": n.message,
        "author": n.author,
        "total_size": n.total_size,
        "file_count": n.file_count,
        "source": n.source,
        "profile": n.profile.to_dict() if n.profile else None,
    }


def new_version_from_json(d: Mapping[str, Any]) -> NewDatasetVersion:
    return NewDatasetVersion(
        dataset=d["dataset"],
        content_digest=d["content_digest"],
        manifest_digest=d["manifest_digest"],
        kind=DatasetKind(d["kind"]),
        message=d["message"],
        author=d["author"],
        total_size=d["total_size"],
        file_count=d["file_count"],
        source=d.get("source", ""),
        profile=TableProfile.from_dict(d["profile"]) if d.get("profile") else None,
    )


def dataset_to_json(d: Dataset) -> Json:
    return {
        "name": d.name,
        "description": d.description,
        "created_at": d.created_at,
        "latest": version_to_json(d.latest) if d.latest else None,
    }


def dataset_from_json(d: Mapping[str, Any]) -> Dataset:
    latest = d.get("latest")
    return Dataset(
        d["name"], d["description"], d["created_at"], version_from_json(latest) if latest else None
    )


def added_to_json(a: VersionAdded) -> Json:
    return {"version": version_to_json(a.version), "created": a.created}


def added_from_json(d: Mapping[str, Any]) -> VersionAdded:
    return VersionAdded(version_from_json(d["version"]), bool(d["created"]))


# -- evaluations ----------------------------------------------------------------------------------


def outcome_to_json(o: CheckOutcome) -> Json:
    return {
        "name": o.name,
        "kind": o.kind,
        "status": o.status.value,
        "value": None if o.value is None else encode_float(o.value),
        "threshold": o.threshold,
        "message": o.message,
    }


def outcome_from_json(d: Mapping[str, Any]) -> CheckOutcome:
    value = d["value"]
    return CheckOutcome(
        d["name"],
        d["kind"],
        CheckStatus(d["status"]),
        None if value is None else decode_float(value),
        d["threshold"],
        d["message"],
    )


def new_evaluation_to_json(n: NewEvaluation) -> Json:
    """The request body; the model version it is stored on goes in the path."""
    return {
        "suite_digest": n.suite_digest,
        "data_uri": n.data_uri,
        "status": n.status.value,
        "outcomes": [outcome_to_json(o) for o in n.outcomes],
        "compared_with": n.compared_with,
        "duration_ms": n.duration_ms,
    }


def evaluation_to_json(e: Evaluation) -> Json:
    return {
        "id": e.id,
        "model": e.model,
        "number": e.number,
        "suite_digest": e.suite_digest,
        "data_uri": e.data_uri,
        "status": e.status.value,
        "outcomes": [outcome_to_json(o) for o in e.outcomes],
        "compared_with": e.compared_with,
        "duration_ms": e.duration_ms,
        "created_by": e.created_by,
        "created_at": e.created_at,
    }


def evaluation_from_json(d: Mapping[str, Any]) -> Evaluation:
    return Evaluation(
        id=d["id"],
        model=d["model"],
        number=d["number"],
        suite_digest=d["suite_digest"],
        data_uri=d["data_uri"],
        status=CheckStatus(d["status"]),
        outcomes=tuple(outcome_from_json(o) for o in d["outcomes"]),
        compared_with=d["compared_with"],
        duration_ms=d["duration_ms"],
        created_by=d["created_by"],
        created_at=d["created_at"],
    )


# -- users ----------------------------------------------------------------------------------------


def grant_to_json(g: Grant) -> Json:
    return {"role": g.role.value, "scope": str(g.scope)}


def grant_from_json(d: Mapping[str, Any]) -> Grant:
    scope = d.get("scope", "global")
    return Grant(Role(d["role"]), GLOBAL if scope == "global" else Scope.parse(scope))


def user_to_json(u: User) -> Json:
    return {
        "name": u.name,
        "created_at": u.created_at,
        "disabled": u.disabled,
        "grants": [grant_to_json(g) for g in u.grants],
    }


def user_from_json(d: Mapping[str, Any]) -> User:
    return User(
        d["name"], d["created_at"], d["disabled"], tuple(grant_from_json(g) for g in d["grants"])
    )


def token_to_json(t: TokenInfo) -> Json:
    return {
        "id": t.id,
        "user": t.user,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
        "description": t.description,
    }


def token_from_json(d: Mapping[str, Any]) -> TokenInfo:
    return TokenInfo(
        d["id"], d["user"], d["created_at"], d["expires_at"], d["revoked_at"], d["description"]
    )
