"""/api/v1/experiments"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from modelyard.domain.users import Role
from modelyard.server import _pages
from modelyard.server._context import Ctx, context
from modelyard.server._models import ExperimentIn, NameIn, RenameIn
from modelyard.store.rest._codec import experiment_to_json

router = APIRouter(prefix="/experiments", tags=["experiments"])


@router.get("")
def list_experiments(
    include_deleted: bool = False,
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """Experiments, by name; users with scoped grants only see theirs."""
    ctx.require_somewhere(Role.VIEWER)
    experiments = ctx.store().experiments.list(include_deleted=include_deleted)
    visible = ctx.visible_experiments()
    if visible is not None:
        experiments = [e for e in experiments if e.name in visible]
    items, token = _pages.page(experiments, page_token, limit)
    return _pages.body([experiment_to_json(e) for e in items], token)


@router.post("", status_code=201)
def create_experiment(body: ExperimentIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_experiment(Role.CONTRIBUTOR, body.name)
    return experiment_to_json(ctx.store().experiments.create(body.name, body.description))


@router.post("/-/rename")
def rename_experiment(body: RenameIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_experiment(Role.MAINTAINER, body.name)
    return experiment_to_json(ctx.store().experiments.rename(body.name, body.new_name))


@router.post("/-/restore")
def restore_experiment(body: NameIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_experiment(Role.MAINTAINER, body.name)
    return experiment_to_json(ctx.store().experiments.restore(body.name))


@router.get("/{name:path}")
def get_experiment(name: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_experiment(Role.VIEWER, name)
    return experiment_to_json(ctx.store().experiments.get(name))


@router.put("/{name:path}")
def get_or_create_experiment(name: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    """The experiment, created when missing (safe to repeat)."""
    ctx.require_experiment(Role.CONTRIBUTOR, name)
    return experiment_to_json(ctx.store().experiments.get_or_create(name))


@router.delete("/{name:path}")
def delete_experiment(name: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_experiment(Role.MAINTAINER, name)
    return experiment_to_json(ctx.store().experiments.delete(name))
