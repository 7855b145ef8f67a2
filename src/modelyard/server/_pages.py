"""Page tokens for listings: opaque to clients, an offset inside."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from modelyard.errors import InvalidValue

T = TypeVar("T")
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000


def encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidValue(
            "page token is not one this server issued; pass the next_page_token of the "
            "previous page",
            field="page_token",
        ) from exc
    return offset


def page(items: Sequence[T], token: str | None, limit: int) -> tuple[Sequence[T], str | None]:
    """One page of an already materialised listing."""
    start = decode(token)
    end = start + limit
    return items[start:end], (encode(end) if end < len(items) else None)


def body(items: list[Any], next_token: str | None) -> dict[str, Any]:
    return {"items": items, "next_page_token": next_token}
