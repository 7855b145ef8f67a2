"""/api/v1/lineage and /api/v1/audit"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from modelyard.domain.users import Role
from modelyard.server import _pages
from modelyard.server._context import Ctx, context
from modelyard.server._models import EdgeIn
from modelyard.store.rest._codec import edge_to_json, event_to_json

router = APIRouter(tags=["lineage"])
MAX_AUDIT = 10_000


@router.post("/lineage", status_code=201)
def add_edge(body: EdgeIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    """Record ``source -relation-> target`` (adding an existing edge changes nothing)."""
    ctx.require_somewhere(Role.CONTRIBUTOR)
    return edge_to_json(ctx.store().lineage.add(body.source, body.target, body.relation))


@router.get("/lineage/{direction}")
def edges(
    direction: str,
    uri: str = Query(..., min_length=1, max_length=1000),
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """``upstream`` (what ``uri`` was made from) or ``downstream`` (what was made from it)."""
    from modelyard.errors import InvalidValue

    ctx.require_somewhere(Role.VIEWER)
    lineage = ctx.store().lineage
    if direction == "upstream":
        found = lineage.upstream(uri)
    elif direction == "downstream":
        found = lineage.downstream(uri)
    else:
        raise InvalidValue(
            f"unknown direction {direction!r}; use 'upstream' or 'downstream'", field="direction"
        )
    items, token = _pages.page(found, page_token, limit)
    return _pages.body([edge_to_json(e) for e in items], token)


@router.get("/audit")
def audit_events(
    subject: str | None = Query(None, max_length=1000),
    limit: int = Query(100, ge=1, le=MAX_AUDIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """The newest audit events first (maintainers and admins)."""
    ctx.require(Role.MAINTAINER)
    events = ctx.store().audit.events(subject=subject, limit=limit)
    return _pages.body([event_to_json(e) for e in events], None)
