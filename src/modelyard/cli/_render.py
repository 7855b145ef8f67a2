"""Rendering for people (Rich tables) and programs (``--json``)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from rich.console import Console
from rich.table import Table

from modelyard.cli._plain import print_json, to_jsonable  # noqa: F401 - re-exported

console = Console(highlight=False, soft_wrap=False)
if not console.is_terminal:  # piped output: never fold ids or wrap rows
    console = Console(highlight=False, soft_wrap=False, width=4096)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def table(*columns: str, **options: Any) -> Table:
    """A borderless table whose cells never wrap (ids must stay copyable)."""
    result = Table(box=None, **options)
    for column in columns:
        result.add_column(column, no_wrap=True)
    return result


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "nan"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


STATUS_STYLE = {"RUNNING": "cyan", "FINISHED": "green", "FAILED": "red", "KILLED": "yellow"}


def status(text: str) -> str:
    return f"[{STATUS_STYLE.get(text, 'white')}]{text}[/]"
