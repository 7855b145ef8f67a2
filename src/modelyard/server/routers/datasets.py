"""/api/v1/datasets"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from modelyard.domain.datasets import NewDatasetVersion, TableProfile
from modelyard.domain.uris import parse_dataset_ref
from modelyard.domain.users import Role
from modelyard.server import _pages
from modelyard.server._context import Ctx, context
from modelyard.server._models import NewVersionIn
from modelyard.store.rest._codec import added_to_json, dataset_to_json, version_to_json

router = APIRouter(prefix="/datasets", tags=["datasets"])


@router.post("/versions", status_code=201)
def add_version(body: NewVersionIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require(Role.CONTRIBUTOR)
    profile = None
    if body.profile is not None:
        try:
            profile = TableProfile.from_dict(body.profile)
        except (KeyError, TypeError, ValueError) as exc:
            from modelyard.errors import InvalidValue

            raise InvalidValue(f"profile is not a table profile: {exc}", field="profile") from exc
    new = NewDatasetVersion(**{**body.model_dump(), "profile": profile})
    return added_to_json(ctx.store().datasets.add_version(new))


@router.get("")
def list_datasets(
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    ctx.require_somewhere(Role.VIEWER)
    items, token = _pages.page(ctx.store().datasets.list(), page_token, limit)
    return _pages.body([dataset_to_json(d) for d in items], token)


@router.get("/-/by-source")
def find_by_source(
    source: str = Query(..., max_length=10_000), ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    ctx.require_somewhere(Role.VIEWER)
    found = ctx.store().datasets.find_by_source(source)
    return {"version": version_to_json(found) if found else None}


@router.get("/{name}")
def get_dataset(name: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require_somewhere(Role.VIEWER)
    return dataset_to_json(ctx.store().datasets.get(name))


@router.get("/{name}/versions")
def versions(
    name: str,
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    ctx.require_somewhere(Role.VIEWER)
    items, token = _pages.page(ctx.store().datasets.versions(name), page_token, limit)
    return _pages.body([version_to_json(v) for v in items], token)


@router.get("/-/resolve")
def resolve(
    ref: str = Query(..., min_length=1, max_length=300), ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    """A version by reference: ``churn``, ``churn@3``, ``churn@1f3a9c``."""
    ctx.require_somewhere(Role.VIEWER)
    return version_to_json(ctx.store().datasets.resolve(parse_dataset_ref(ref)))
