"""/api/v1/models: the model registry - registered models, versions, tags, aliases.

Roles, each globally or on ``model:<name>``: reading is ``viewer``; registering models and
versions, tags and descriptions is ``contributor``; moving aliases and deleting versions is
``maintainer``. Alias moves go through the server's alias policy (``yard server
--alias-policy module:function``; every move is allowed by default), inside the write
transaction; a refusal is 403 ``policy_denied``. Registering a version and moving or removing
an alias take an ``Idempotency-Key``: a replay answers as the first request did.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from modelyard.domain.models import ModelRef, NewModelVersion, check_alias
from modelyard.domain.users import Role, Scope, ScopeKind
from modelyard.errors import Conflict, InvalidValue, ModelNotFound
from modelyard.models import AliasPolicy, allow_all
from modelyard.server import _pages
from modelyard.server._context import Ctx, context
from modelyard.server._models import Digest, Key, Text, Uri, Value, _Body
from modelyard.store.rest._models import (
    alias_change_to_json,
    model_to_json,
    model_version_to_json,
)
from modelyard.store.sql import AlreadyApplied

router = APIRouter(prefix="/models", tags=["models"])
T = TypeVar("T")

MAX_NUMBER = 2**31 - 1  # version numbers are 32-bit integers in the database
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
ModelName = Path(..., min_length=1, max_length=100, pattern=NO_NUL)
Number = Path(..., ge=1, le=MAX_NUMBER)
Alias = Path(..., min_length=1, max_length=64, pattern=NO_NUL)


class ModelIn(_Body):
    name: Text(100, 1)  # type: ignore[valid-type]
    description: Value = ""  # type: ignore[valid-type]


class ModelVersionIn(_Body):
    package_digest: Digest  # type: ignore[valid-type]
    flavor: Text(32, 1)  # type: ignore[valid-type]
    source: Uri  # type: ignore[valid-type]
    run_id: Text(32, 1) | None = None  # type: ignore[valid-type]
    description: Value = ""  # type: ignore[valid-type]
    tags: dict[Key, Value] = Field(default_factory=dict)  # type: ignore[valid-type]


class ModelTagsIn(_Body):
    tags: dict[Key, Value]  # type: ignore[valid-type]


class DescriptionIn(_Body):
    description: Value  # type: ignore[valid-type]


class AliasIn(_Body):
    version: int = Field(ge=1, le=MAX_NUMBER)


# -- policy ---------------------------------------------------------------------------------------


@functools.cache
def load_policy(spec: str) -> AliasPolicy:
    """The alias policy named ``module:function`` (``""``: allow every move)."""
    if not spec:
        return allow_all
    module, sep, attribute = spec.partition(":")
    if not sep or not module or not attribute:
        raise InvalidValue(
            f"alias policy {spec!r} must be written 'module:function', e.g. "
            "'mycompany.governance:require_approval'",
            field="alias_policy",
        )
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise InvalidValue(
            f"cannot load the alias policy {spec!r} ({type(exc).__name__}: {exc}); check that "
            "the module is importable by the server",
            field="alias_policy",
        ) from exc
    if not callable(found):
        raise InvalidValue(f"alias policy {spec!r} is not callable", field="alias_policy")
    return found  # type: ignore[no-any-return]


def _policy(ctx: Ctx) -> AliasPolicy:
    return load_policy(ctx.state.config.alias_policy)


# -- helpers --------------------------------------------------------------------------------------


def _require(ctx: Ctx, role: Role, name: str) -> None:
    ctx.require(role, Scope(ScopeKind.MODEL, name))


def _visible(ctx: Ctx) -> Callable[[str], bool]:
    if ctx.principal.allows(Role.VIEWER):
        return lambda _name: True
    names = set(ctx.principal.scoped_names(ScopeKind.MODEL, Role.VIEWER))
    return names.__contains__


def _once(ctx: Ctx, write: Callable[[], T], replay: Callable[[], T]) -> T:
    """Run a keyed write; when its idempotency key shows it was applied, ``replay()``."""
    try:
        with ctx.state.backend.keyed(ctx.idempotency_key):
            return write()
    except AlreadyApplied:
        return replay()


def _last_move(ctx: Ctx, name: str, alias: str) -> dict[str, Any]:
    history = ctx.store().models.alias_history(name, alias)
    if not history:
        raise ModelNotFound(f"model {name!r} has no alias {alias!r}")
    return alias_change_to_json(history[-1])


# -- registered models ----------------------------------------------------------------------------


@router.get("")
def list_models(
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """Registered models, by name; users with model-scoped grants only see theirs."""
    ctx.require_somewhere(Role.VIEWER)
    visible = _visible(ctx)
    models = [m for m in ctx.store().models.list_models() if visible(m.name)]
    items, token = _pages.page(models, page_token, limit)
    return _pages.body([model_to_json(m) for m in items], token)


@router.post("", status_code=201)
def create_model(body: ModelIn, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    _require(ctx, Role.CONTRIBUTOR, body.name)
    store = ctx.store()
    created = _once(
        ctx,
        lambda: store.models.create_model(body.name, body.description),
        lambda: ctx.store().models.get_model(body.name),
    )
    return model_to_json(created)


@router.get("/-/by-run")
def versions_of_run(
    run_id: str = Query(..., min_length=1, max_length=32, pattern=NO_NUL),
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """The versions registered from one run's packages (those of models you may read)."""
    ctx.require_somewhere(Role.VIEWER)
    visible = _visible(ctx)
    found = [v for v in ctx.store().models.versions_of_run(run_id) if visible(v.name)]
    items, token = _pages.page(found, page_token, limit)
    return _pages.body([model_version_to_json(v) for v in items], token)


@router.get("/{name}")
def get_model(name: str = ModelName, ctx: Ctx = Depends(context)) -> dict[str, Any]:
    _require(ctx, Role.VIEWER, name)
    return model_to_json(ctx.store().models.get_model(name))


@router.post("/{name}/tags")
def set_model_tags(
    body: ModelTagsIn, name: str = ModelName, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    """Set (merge) tags on the model; repeating the request changes nothing more."""
    _require(ctx, Role.CONTRIBUTOR, name)
    return model_to_json(ctx.store().models.set_model_tags(name, body.tags))


@router.put("/{name}/description")
def describe_model(
    body: DescriptionIn, name: str = ModelName, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    _require(ctx, Role.CONTRIBUTOR, name)
    return model_to_json(ctx.store().models.describe_model(name, body.description))


# -- versions -------------------------------------------------------------------------------------


@router.post("/{name}/versions", status_code=201)
def add_version(
    body: ModelVersionIn, name: str = ModelName, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    """Register the next version of ``name`` (created on first use) from a stored package."""
    _require(ctx, Role.CONTRIBUTOR, name)
    new = NewModelVersion(name=name, **body.model_dump())
    store = ctx.store()

    def replay() -> Any:  # the version this key registered: newest with this package
        versions = ctx.store().models.versions(name, include_deleted=True)
        mine = [v for v in versions if v.package_digest == new.package_digest]
        if not mine:
            raise Conflict(
                f"idempotency key {ctx.idempotency_key!r} was used by another request; "
                "send a new key for a new registration"
            )
        return mine[-1]

    return model_version_to_json(_once(ctx, lambda: store.models.add_version(new), replay))


@router.get("/{name}/versions")
def list_versions(
    name: str = ModelName,
    include_deleted: bool = False,
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    _require(ctx, Role.VIEWER, name)
    versions = ctx.store().models.versions(name, include_deleted=include_deleted)
    items, token = _pages.page(versions, page_token, limit)
    return _pages.body([model_version_to_json(v) for v in items], token)


@router.get("/{name}/resolve")
def resolve(
    name: str = ModelName,
    number: int | None = Query(None, ge=1, le=MAX_NUMBER),
    alias: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """The READY version a reference names: ``?number=3``, ``?alias=champion``, or neither
    (the newest)."""
    _require(ctx, Role.VIEWER, name)
    if number is not None and alias is not None:
        raise InvalidValue("give either number or alias, not both", field="alias")
    ref = ModelRef(name, number=number, alias=alias)
    return model_version_to_json(ctx.store().models.resolve(ref))


@router.get("/{name}/versions/{number}")
def get_version(
    name: str = ModelName, number: int = Number, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    _require(ctx, Role.VIEWER, name)
    return model_version_to_json(ctx.store().models.get_version(name, number))


@router.post("/{name}/versions/{number}/tags")
def set_version_tags(
    body: ModelTagsIn,
    name: str = ModelName,
    number: int = Number,
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    _require(ctx, Role.CONTRIBUTOR, name)
    return model_version_to_json(ctx.store().models.set_version_tags(name, number, body.tags))


@router.put("/{name}/versions/{number}/description")
def describe_version(
    body: DescriptionIn,
    name: str = ModelName,
    number: int = Number,
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    _require(ctx, Role.CONTRIBUTOR, name)
    version = ctx.store().models.describe_version(name, number, body.description)
    return model_version_to_json(version)


@router.delete("/{name}/versions/{number}")
def delete_version(
    name: str = ModelName, number: int = Number, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    """Mark a version DELETED (refused while an alias points at it); safe to repeat."""
    _require(ctx, Role.MAINTAINER, name)
    return model_version_to_json(ctx.store().models.delete_version(name, number))


# -- aliases --------------------------------------------------------------------------------------


@router.put("/{name}/aliases/{alias}")
def set_alias(
    body: AliasIn, name: str = ModelName, alias: str = Alias, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    """Point ``alias`` at a version, through the server's alias policy; returns the move."""
    _require(ctx, Role.MAINTAINER, name)
    check_alias(alias)
    store, policy = ctx.store(), _policy(ctx)

    def move() -> dict[str, Any]:
        return alias_change_to_json(store.models.set_alias(name, alias, body.version, policy))

    return _once(ctx, move, lambda: _last_move(ctx, name, alias))


@router.delete("/{name}/aliases/{alias}")
def delete_alias(
    name: str = ModelName, alias: str = Alias, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    """Remove ``alias``, through the server's alias policy; returns the move."""
    _require(ctx, Role.MAINTAINER, name)
    check_alias(alias)
    store, policy = ctx.store(), _policy(ctx)

    def remove() -> dict[str, Any]:
        return alias_change_to_json(store.models.delete_alias(name, alias, policy))

    return _once(ctx, remove, lambda: _last_move(ctx, name, alias))


@router.get("/{name}/alias-history")
def alias_history(
    name: str = ModelName,
    alias: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    page_token: str | None = Query(None, max_length=200),
    limit: int = Query(_pages.DEFAULT_LIMIT, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """Every move of the model's aliases (or of one), oldest first."""
    _require(ctx, Role.VIEWER, name)
    history = ctx.store().models.alias_history(name, alias)
    items, token = _pages.page(history, page_token, limit)
    return _pages.body([alias_change_to_json(c) for c in items], token)


__all__ = ["load_policy", "router"]
