"""/api/v1/models/<name>/versions/<n>/evaluations and /api/v1/evaluations/<id>: check-suite
results (``yard check``) stored on model versions.

Roles, each globally or on ``model:<name>``: reading is ``viewer``; storing is
``contributor``. Storing takes an ``Idempotency-Key``: a replay stores nothing more and
answers with the evaluation the first request stored.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from modelyard.domain.evaluations import CheckStatus, Evaluation, NewEvaluation
from modelyard.domain.users import Role, Scope, ScopeKind
from modelyard.errors import Conflict
from modelyard.server import _pages
from modelyard.server._context import Ctx, context
from modelyard.server._models import Count, Digest, Text, Uri, Value, _Body
from modelyard.server.routers.models import NO_NUL, ModelName, Number
from modelyard.store.rest._codec import evaluation_to_json, outcome_from_json
from modelyard.store.sql import AlreadyApplied

router = APIRouter(tags=["evaluations"])
EvaluationId = Path(..., min_length=1, max_length=32, pattern=NO_NUL)


class OutcomeIn(_Body):
    name: Text(500, 1)  # type: ignore[valid-type]
    kind: Text(32, 1)  # type: ignore[valid-type]
    status: CheckStatus
    value: float | Literal["NaN", "Infinity", "-Infinity"] | None = None
    threshold: Text(250) = ""  # type: ignore[valid-type]
    message: Value = ""  # type: ignore[valid-type]


class EvaluationIn(_Body):
    suite_digest: Digest  # type: ignore[valid-type]
    data_uri: Uri  # type: ignore[valid-type]
    status: CheckStatus
    outcomes: list[OutcomeIn] = Field(default_factory=list)
    compared_with: Uri | None = None  # type: ignore[valid-type]
    duration_ms: Count = 0


def _require(ctx: Ctx, role: Role, model: str) -> None:
    ctx.require(role, Scope(ScopeKind.MODEL, model))


def _replayed(ctx: Ctx, new: NewEvaluation) -> Evaluation:
    """The evaluation stored by the first request with this idempotency key."""
    for stored in ctx.store().evaluations.list(new.model, new.number, limit=_pages.MAX_LIMIT):
        if stored.created_by == ctx.user and (
            stored.suite_digest,
            stored.data_uri,
            stored.compared_with,
            stored.duration_ms,
        ) == (new.suite_digest, new.data_uri, new.compared_with, new.duration_ms):
            return stored
    raise Conflict(
        f"idempotency key {ctx.idempotency_key!r} was used by another request; "
        "send a new key for a new evaluation"
    )


@router.post("/models/{name}/versions/{number}/evaluations", status_code=201)
def add_evaluation(
    body: EvaluationIn, name: str = ModelName, number: int = Number, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    """Store a check suite's result on a version, with lineage and an audit event."""
    _require(ctx, Role.CONTRIBUTOR, name)
    new = NewEvaluation(
        model=name,
        number=number,
        **body.model_dump(exclude={"outcomes"}),
        outcomes=tuple(outcome_from_json(o.model_dump()) for o in body.outcomes),
    )
    store = ctx.store()
    try:
        with ctx.state.backend.keyed(ctx.idempotency_key):
            return evaluation_to_json(store.evaluations.add(new))
    except AlreadyApplied:
        return evaluation_to_json(_replayed(ctx, new))


@router.get("/models/{name}/versions/{number}/evaluations")
def list_evaluations(
    name: str = ModelName,
    number: int = Number,
    limit: int = Query(100, ge=1, le=_pages.MAX_LIMIT),
    ctx: Ctx = Depends(context),
) -> dict[str, Any]:
    """A version's evaluations, newest first."""
    _require(ctx, Role.VIEWER, name)
    found = ctx.store().evaluations.list(name, number, limit=limit)
    return _pages.body([evaluation_to_json(e) for e in found], None)


@router.get("/evaluations/{evaluation_id}")
def get_evaluation(
    evaluation_id: str = EvaluationId, ctx: Ctx = Depends(context)
) -> dict[str, Any]:
    ctx.require_somewhere(Role.VIEWER)  # refuse before revealing whether it exists
    found = ctx.store().evaluations.get(evaluation_id)
    _require(ctx, Role.VIEWER, found.model)
    return evaluation_to_json(found)
