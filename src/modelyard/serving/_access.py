"""Structured access log: one JSON line per HTTP request, replacing uvicorn's plain one.

``AccessLog`` is ASGI middleware; each line goes to the ``modelyard.serving.access`` logger
at INFO, so a deployment can route it anywhere with ordinary ``logging`` configuration.
``configure_access_log()`` (what ``yard serve`` calls) sends that logger to stderr, message
only. Fields: ``time`` (ISO 8601, UTC), ``request_id``, ``method``, ``path``, ``status``,
``latency_ms``, and for scoring requests ``model``, ``version`` and ``rows`` (``null`` on
other routes or when the request failed before they were known).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from typing import Any, TextIO

LOGGER = "modelyard.serving.access"
SCOPE_KEY = "yard.access"  # the scoring handler fills model, version and rows in here
access_log = logging.getLogger(LOGGER)
_HANDLER_NAME = "yard-access-stderr"


class AccessLog:
    """ASGI middleware writing one JSON line per HTTP request to ``logger``."""

    def __init__(self, app: Any, logger: logging.Logger = access_log) -> None:
        self.app = app
        self.logger = logger

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info: dict[str, Any] = {}
        scope[SCOPE_KEY] = info
        status = 500  # what the client gets if the app raises before answering
        request_id: str | None = None

        async def send_noting_status(message: Any) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", ()):
                    if key.lower() == b"x-request-id":
                        request_id = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            if request_id is None:
                request_id = _header(scope, b"x-request-id")
            self.logger.info(
                json.dumps(
                    {
                        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                        "model": info.get("model"),
                        "version": info.get("version"),
                        "rows": info.get("rows"),
                    },
                    separators=(",", ":"),
                )
            )


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def configure_access_log(stream: TextIO | None = None) -> logging.Logger:
    """Send the access log to ``stream`` (stderr), one bare JSON line per record. Idempotent;
    stops the lines from also reaching the root logger's handlers."""
    logger = logging.getLogger(LOGGER)
    if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
