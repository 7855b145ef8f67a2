"""/api/v1/users: users, tokens and grants (admins), and /users/me for everyone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from modelyard.domain.users import Role, Scope
from modelyard.server import _pages
from modelyard.server._context import Ctx, context
from modelyard.server._models import GrantIn, TokenIn, UserIn
from modelyard.store.rest._codec import grant_to_json, token_to_json, user_to_json

router = APIRouter(tags=["users"])


def _users(ctx: Ctx):  # type: ignore[no-untyped-def]
    return ctx.state.backend.users(ctx.user)


@router.get("/users/me")
def me(ctx: Ctx = Depends(context)) -> dict[str, Any]:
    """Who this token belongs to, and their grants."""
    return {"name": ctx.user, "grants": [grant_to_json(g) for g in ctx.principal.grants]}


@router.get("/users")
def list_users(
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    ctx.require(Role.ADMIN)
    items, token = _pages.page(_users(ctx).list(), page_token, limit)
    return _pages.body([user_to_json(u) for u in items], token)


@router.post("/users", status_code=201)
def create_user(body: UserIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    """A new user (with a role when given) and, unless ``token`` is false, their first API
    token: the only time the token is shown."""
    ctx.require(Role.ADMIN)
    users = _users(ctx)
    user = users.create(body.name, body.role, Scope.parse(body.scope))
    result: dict[str, Any] = {"user": user_to_json(user), "token": None}
    if body.token:
        issued = users.issue_token(
            body.name, expires_at=body.expires_at, description=body.description
        )
        result["token"] = issued.secret
        result["token_info"] = token_to_json(issued.info)
    return result


@router.get("/users/{name}")
def get_user(name: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require(Role.ADMIN)
    return user_to_json(_users(ctx).get(name))


@router.post("/users/{name}/grants")
def grant(name: str, body: GrantIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require(Role.ADMIN)
    return user_to_json(_users(ctx).grant(name, body.role, Scope.parse(body.scope)))


@router.delete("/users/{name}/grants")
def ungrant(
    name: str, scope: str = Query("global", max_length=300), ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    ctx.require(Role.ADMIN)
    return user_to_json(_users(ctx).ungrant(name, Scope.parse(scope)))


@router.post("/users/{name}/revoke")
def revoke(name: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    """Disable the user and revoke all their tokens."""
    ctx.require(Role.ADMIN)
    return user_to_json(_users(ctx).revoke(name))


@router.post("/users/{name}/tokens", status_code=201)
def issue_token(name: str, body: TokenIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require(Role.ADMIN)
    issued = _users(ctx).issue_token(name, expires_at=body.expires_at, description=body.description)
    return {"token": issued.secret, "token_info": token_to_json(issued.info)}


@router.get("/users/{name}/tokens")
def tokens(name: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require(Role.ADMIN)
    return _pages.body([token_to_json(t) for t in _users(ctx).tokens(name)], None)


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: str, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    ctx.require(Role.ADMIN)
    return token_to_json(_users(ctx).revoke_token(token_id))
