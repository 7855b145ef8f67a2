"""HTTP plumbing of the REST store: one httpx client, bearer auth, retries, error mapping.

Retries: a request that never reached the server (connection refused, DNS) is always retried;
one that may have reached it (the connection dropped, a timeout, a 502/503/504) is retried
only when repeating it is safe - reads, idempotent writes, and writes that carry an
``Idempotency-Key`` the server records with the change. Retries back off from 0.1 s to 2 s
until ``retry_seconds`` have passed, then StoreError says the server cannot be reached.

Errors come back as JSON ``{code, message, field}``; the code names the modelyard exception,
which is raised again here, so callers see the same errors as with an embedded store.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from blake3 import blake3

from modelyard import errors
from modelyard.errors import (
    AccessDenied,
    Conflict,
    FilterSyntaxError,
    InvalidInput,
    InvalidValue,
    NotFound,
    StoreError,
    Unauthenticated,
    YardError,
)

API_PREFIX = "/api/v1"
RETRY_SECONDS = 60.0
TIMEOUT = httpx.Timeout(60.0, connect=5.0)
_RETRY_STATUS = frozenset({502, 503, 504})
_BY_STATUS: dict[int, type[YardError]] = {
    400: InvalidValue,
    401: Unauthenticated,
    403: AccessDenied,
    404: NotFound,
    409: Conflict,
    413: InvalidValue,
    422: InvalidValue,
}


def _codes() -> dict[str, type[YardError]]:
    found: dict[str, type[YardError]] = {}
    pending: list[type[YardError]] = [YardError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


_CODES = _codes()


def new_key() -> str:
    return uuid.uuid4().hex


def content_key(*parts: Any) -> str:
    """An idempotency key named by what a request carries: sending the same batch again -
    even from a new process, or after the batcher gave up on a long outage and re-queued it -
    is recognised by the server and stores nothing twice."""
    payload = json.dumps(parts, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return blake3(payload.encode()).hexdigest()[:48]


class Transport:
    """Requests to one server; thread-safe (httpx clients are)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        retry_seconds: float = RETRY_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"User-Agent": f"modelyard/{_version()}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.retry_seconds = retry_seconds
        self._client = httpx.Client(
            base_url=self.url + API_PREFIX,
            headers=headers,
            timeout=TIMEOUT,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        safe: bool | None = None,
        key: str | None = None,
    ) -> Any:
        """One API call; the decoded JSON answer (None for 204)."""
        content = None if body is None else json.dumps(body, allow_nan=False).encode()
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        response = self.send(
            method,
            path,
            content=content,
            params=params,
            headers=headers,
            safe=(method in ("GET", "HEAD", "PUT", "DELETE") if safe is None else safe)
            or key is not None,
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def send(
        self,
        method: str,
        path: str,
        *,
        content: bytes | Iterator[bytes] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        safe: bool = True,
        stream: bool = False,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send with retries; raise the modelyard error for any answer >= 400 not in ``ok``."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.1
        while True:
            try:
                request = self._client.build_request(
                    method, path, content=content, params=params, headers=headers
                )
                response = self._client.send(request, stream=stream)
            except httpx.TransportError as exc:
                retry = safe or isinstance(exc, httpx.ConnectError)
                if not retry or time.monotonic() + delay > deadline:
                    raise StoreError(
                        f"cannot reach the yard server at {self.url} ({type(exc).__name__}: "
                        f"{exc}); check that it is running and YARD_URI is right"
                    ) from exc
            else:
                retry = response.status_code in _RETRY_STATUS and safe
                if retry and time.monotonic() + delay <= deadline:
                    response.close()
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                if response.status_code >= 400 and response.status_code not in ok:
                    if stream:
                        response.read()
                    raise _error(response)
                return response
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every item of a paginated listing."""
        items: list[Any] = []
        query = dict(params or {})
        while True:
            answer = self.call("GET", path, params=query)
            items.extend(answer["items"])
            token = answer.get("next_page_token")
            if not token:
                return items
            query["page_token"] = token


def _error(response: httpx.Response) -> YardError:
    try:
        payload = response.json()
        code, message = payload["code"], payload["message"]
        field = payload.get("field")
    except (ValueError, KeyError, TypeError):
        payload, code, field = {}, "", None
        message = f"the yard server answered {response.status_code}: {response.text[:300]}"
    if code == FilterSyntaxError.code and isinstance(payload.get("detail"), dict):
        detail = payload["detail"]
        return FilterSyntaxError(detail["reason"], text=detail["text"], position=detail["position"])
    cls = _CODES.get(code) or _BY_STATUS.get(response.status_code, StoreError)
    if response.status_code >= 500 and not issubclass(cls, StoreError):
        cls = StoreError
    if issubclass(cls, InvalidInput):
        return cls(message, field=field)
    return cls(message)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modelyard")
    except PackageNotFoundError:
        return "dev"


__all__ = ["Transport", "errors", "new_key"]
