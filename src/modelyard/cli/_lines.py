"""The plain lines of ``yard data add`` and ``yard data status``, shared by the full commands
and the quick path that answers before Typer and Rich load: nothing is imported here."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~10 ms to import; type checkers read this as True
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

MAX_FILES_SHOWN = 20


def size(n: int) -> str:
    step = 1024.0
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < step:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= step
    return f"{n:.1f} TiB"


def files(n: int) -> str:
    """``1 file``, ``10,000 files``."""
    return f"{n:,} file" if n == 1 else f"{n:,} files"


def add_lines(source: str, result: Any) -> Iterator[str]:
    """What ``yard data add`` prints for an ``AddResult``."""
    v = result.version
    if not result.created:
        yield (
            f"unchanged: {source} matches {v.dataset}@{v.number} ({v.short_digest}); "
            "no new version recorded"
        )
        return
    rows = f", {v.rows:,} rows" if v.rows is not None else ""
    yield (
        f"added {v.dataset}@{v.number} ({v.short_digest}): {files(v.file_count)}, "
        f"{size(v.total_size)}{rows}; read {files(result.files_read)} in {result.seconds:.2f}s"
    )


def file_changes(
    added: tuple[str, ...], removed: tuple[str, ...], modified: tuple[str, ...]
) -> Iterator[str]:
    """``  + path`` lines, at most MAX_FILES_SHOWN of each kind."""
    for mark, paths in (("+", added), ("-", removed), ("~", modified)):
        for path in paths[:MAX_FILES_SHOWN]:
            yield f"  {mark} {path}"
        if len(paths) > MAX_FILES_SHOWN:
            yield f"  {mark} ... and {len(paths) - MAX_FILES_SHOWN:,} more"


def status_lines(source: str, status: Any) -> Iterator[str]:
    """What ``yard data status`` prints for a ``DataStatus``."""
    label = f"{status.version.dataset}@{status.version.number}"
    if status.clean:
        yield unchanged_line(source, label, status.unchanged)
        return
    yield (
        f"{source} vs {label}: {len(status.added)} added, {len(status.removed)} removed, "
        f"{len(status.modified)} modified, {status.unchanged:,} unchanged"
    )
    yield from file_changes(status.added, status.removed, status.modified)


def unchanged_line(source: str, label: str, count: int) -> str:
    """``data: unchanged since churn@2 (10,000 files)``."""
    return f"{source}: unchanged since {label} ({files(count)})"
