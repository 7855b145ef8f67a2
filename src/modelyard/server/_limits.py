"""Request limits, enforced before any route runs: body sizes, and no NUL in the URL.

A declared ``Content-Length`` over the limit is refused at once; a chunked body is counted
as it arrives and cut off with 413 when it passes the limit. Blob uploads have their own,
larger limit.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BLOB_PATH = "/api/v1/blobs/"


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_json_bytes: int, max_blob_bytes: int) -> None:
        self.app = app
        self.max_json = max_json_bytes
        self.max_blob = max_blob_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await _refuse(
                send,
                400,
                "invalid_value",
                "the URL contains a NUL character (%00), which no name or value may hold",
                "url",
            )
            return
        limit = self.max_blob if scope["path"].startswith(_BLOB_PATH) else self.max_json
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        seen = 0
        started = False
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer 413 now; the route sees a disconnected client and its own
                    # answer, if any, is dropped.
                    refused = True
                    if not started:
                        await _too_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started and not refused:
                await _too_large(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_nul(scope: Scope) -> bool:
    query = scope.get("query_string", b"").lower()
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


async def _too_large(send: Send, limit: int) -> None:
    message = (
        f"request body is larger than this server accepts ({limit:,} bytes); send smaller batches"
    )
    await _refuse(send, 413, "payload_too_large", message, "body")


async def _refuse(send: Send, status: int, code: str, message: str, field: str) -> None:
    payload: dict[str, Any] = {"code": code, "message": message, "field": field}
    data = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
