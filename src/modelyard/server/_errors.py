"""Errors as JSON ``{code, message, field}`` with the status code that fits.

    Unauthenticated -> 401    AccessDenied, PolicyDenied -> 403    NotFound -> 404
    InvalidInput -> 400       Conflict -> 409        body too large -> 413
    request validation (wrong types, missing fields) -> 422, malformed JSON -> 400
    StoreError -> 503         anything unexpected -> 500 (logged, never the details)

A FilterSyntaxError also carries ``detail: {reason, text, position}`` so that a remote
client raises the same exception, with the same pointer, as an embedded one.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from modelyard.errors import (
    AccessDenied,
    Conflict,
    FilterSyntaxError,
    IntegrityError,
    InvalidInput,
    NotFound,
    PolicyDenied,
    StoreError,
    Unauthenticated,
    YardError,
)
from modelyard.server._limits import BodyTooLarge

log = logging.getLogger("modelyard.server")

_STATUS: list[tuple[type[YardError], int]] = [
    (Unauthenticated, 401),
    (AccessDenied, 403),
    (PolicyDenied, 403),  # before Conflict: a policy refusal is a permission, not a race
    (NotFound, 404),
    (InvalidInput, 400),
    (Conflict, 409),
    (IntegrityError, 500),
    (StoreError, 503),
]


def status_of(exc: YardError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, **extra}


def install(app: FastAPI) -> None:
    @app.exception_handler(YardError)
    async def _yard(_request: Request, exc: YardError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, FilterSyntaxError):
            extra["detail"] = {"reason": exc.reason, "text": exc.text, "position": exc.position}
        status = status_of(exc)
        if status >= 500:
            log.error("request failed: %s", exc, exc_info=exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        body = error_body(exc.code, str(exc), getattr(exc, "field", None), **extra)
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        location = ".".join(str(p) for p in first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return JSONResponse(
                error_body(
                    "malformed_json",
                    f"request body is not valid JSON: {first.get('msg', '')}; "
                    f"{first.get('ctx', {}).get('error', '')}".rstrip("; "),
                    "body",
                ),
                status_code=400,
            )
        message = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:5]
        )
        return JSONResponse(
            error_body("validation_error", f"invalid request: {message}", location or None),
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_request: Request, _exc: BodyTooLarge) -> JSONResponse:
        return JSONResponse(
            error_body(
                "payload_too_large",
                "request body is larger than this server accepts; send smaller batches",
                "body",
            ),
            status_code=413,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "the server failed unexpectedly; see its log"),
            status_code=500,
        )
