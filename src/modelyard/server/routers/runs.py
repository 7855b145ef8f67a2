"""/api/v1/runs: create, end, log, search, artifacts, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from modelyard.domain.names import check_key
from modelyard.domain.records import Artifact, Metric, NewRun, RunStatus
from modelyard.domain.users import Role
from modelyard.errors import AccessDenied, RunNotFound
from modelyard.server import _pages
from modelyard.server._context import Ctx, context
from modelyard.server._models import (
    ArtifactsIn,
    BatchIn,
    EndIn,
    NewRunIn,
    ParamsIn,
    PointsIn,
    SearchIn,
    TagsIn,
)
from modelyard.store.rest._codec import (
    artifact_to_json,
    encode_float,
    points_from_columns,
    run_to_json,
)
from modelyard.store.sql import AlreadyApplied

router = APIRouter(prefix="/runs", tags=["runs"])
HISTORY_LIMIT = 100_000


def _points(body: PointsIn | None) -> list[Metric]:
    if body is None:
        return []
    points = points_from_columns(body.keys, body.values, body.steps, body.timestamps)
    for key in set(body.keys):
        check_key(key, "metric")
    return points


def _applied(ctx: Ctx, fn) -> bool:  # type: ignore[no-untyped-def]
    """Run a keyed write; False when its idempotency key shows it was applied before."""
    try:
        with ctx.state.backend.keyed(ctx.idempotency_key):
            fn()
    except AlreadyApplied:
        return False
    return True


@router.post("", status_code=201)
def create_run(body: NewRunIn, response: Response, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_experiment(Role.CONTRIBUTOR, body.experiment_name)
    new = NewRun(**body.model_dump())
    store = ctx.store()
    created: list[Any] = []
    if not _applied(ctx, lambda: created.append(store.runs.create(new))):
        response.status_code = 200
        return run_to_json(ctx.store().runs.get(body.id))
    return run_to_json(created[0])


@router.post("/search")
def search_runs(body: SearchIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    experiments = list(body.experiments)
    visible = ctx.visible_experiments()
    if visible is not None:
        if experiments:
            for name in experiments:
                ctx.require_experiment(Role.VIEWER, name)
        elif visible:
            experiments = visible
        else:
            raise AccessDenied(
                f"user {ctx.user!r} has no role that allows reading runs; ask an admin"
            )
    page = ctx.store().runs.search(
        experiments,
        filter=body.filter,
        order_by=body.order_by,
        limit=body.limit,
        page_token=body.page_token,
        include_deleted=body.include_deleted,
    )
    return _pages.body([run_to_json(r) for r in page.items], page.next_token)


@router.get("/{run_id}")
def get_run(run_id: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    run = ctx.store().runs.get(run_id)
    ctx.require_experiment(Role.VIEWER, run.experiment_name)
    return run_to_json(run)


@router.post("/{run_id}/end", status_code=204)
def end_run(run_id: str, body: EndIn, ctx: Ctx = Depends(context)) -> None:
    ctx.require_run(Role.CONTRIBUTOR, run_id)
    status = RunStatus.parse(body.status)
    points = _points(body.last_points)
    store = ctx.store()
    _applied(
        ctx,
        lambda: store.runs.end(run_id, status, body.end_time, points, body.last_params or None),
    )


@router.post("/{run_id}/params", status_code=204)
def log_params(run_id: str, body: ParamsIn, ctx: Ctx = Depends(context)) -> None:
    ctx.require_run(Role.CONTRIBUTOR, run_id)
    for key in body.params:
        check_key(key, "param")
    ctx.store().runs.log_params(run_id, body.params)


@router.post("/{run_id}/tags", status_code=204)
def set_tags(run_id: str, body: TagsIn, ctx: Ctx = Depends(context)) -> None:
    ctx.require_run(Role.CONTRIBUTOR, run_id)
    for key in body.tags:
        check_key(key, "tag")
    ctx.store().runs.set_tags(run_id, body.tags)


@router.post("/{run_id}/metrics")
def log_batch(run_id: str, body: BatchIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    """Params and metric points in one transaction. Send an ``Idempotency-Key`` header: a
    retry of a batch that was already stored then stores nothing (``applied: false``)."""
    ctx.require_run(Role.CONTRIBUTOR, run_id)
    points = _points(body)
    for key in body.params:
        check_key(key, "param")
    store = ctx.store()
    applied = _applied(ctx, lambda: store.runs.log_batch(run_id, body.params, points))
    return {"applied": applied, "points": len(points)}


@router.get("/{run_id}/metric-history")
def metric_history(
    run_id: str,
    key: str = Query(..., min_length=1, max_length=250),
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(HISTORY_LIMIT, ge=1, le=HISTORY_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """Every point of one metric, as columns, ordered by step then timestamp."""
    ctx.require_run(Role.VIEWER, run_id)
    history = ctx.store().runs.metric_history(run_id, key)
    items, token = _pages.page(history, page_token, limit)
    return {
        "key": key,
        "values": [encode_float(m.value) for m in items],
        "steps": [m.step for m in items],
        "timestamps": [m.timestamp for m in items],
        "next_page_token": token,
    }


@router.post("/{run_id}/artifacts", status_code=204)
def add_artifacts(run_id: str, body: ArtifactsIn, ctx: Ctx = Depends(context)) -> None:
    from modelyard.domain.names import check_artifact_path

    ctx.require_run(Role.CONTRIBUTOR, run_id)
    artifacts = [Artifact(check_artifact_path(a.path), a.digest, a.size) for a in body.artifacts]
    ctx.store().runs.add_artifacts(run_id, artifacts)


@router.get("/{run_id}/artifacts")
def list_artifacts(
    run_id: str,
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    ctx.require_run(Role.VIEWER, run_id)
    items, token = _pages.page(ctx.store().runs.artifacts(run_id), page_token, limit)
    return _pages.body([artifact_to_json(a) for a in items], token)


@router.delete("/{run_id}")
def delete_run(run_id: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_run(Role.CONTRIBUTOR, run_id)
    return run_to_json(ctx.store().runs.delete(run_id))


@router.post("/{run_id}/restore")
def restore_run(run_id: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_run(Role.CONTRIBUTOR, run_id)
    return run_to_json(ctx.store().runs.restore(run_id))


__all__ = ["RunNotFound", "router"]
