"""Finding the files of a version on disk: ``FileStat`` rows from the walk in ``_fingerprint``."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from modelyard.data._fingerprint import RawStat, walk


class FileStat(NamedTuple):
    """One file of a source: its path inside the version and what ``stat`` said.

    A named tuple rather than a frozen dataclass: a scan makes one per file, and 10,000 frozen
    dataclasses cost ~15 ms of a 50 ms status."""

    path: str  # relative, '/'-separated
    absolute: str
    size: int
    ino: int
    mtime_ns: int

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.ino, self.size, self.mtime_ns)


def scan(source: Path) -> tuple[list[FileStat], bool]:
    """The files of ``source`` sorted by path, and whether ``source`` is a single file."""
    walked, single = walk(str(source))
    return file_stats(walked), single


def file_stats(walked: list[RawStat]) -> list[FileStat]:
    """The rows of a walk as ``FileStat``."""
    return [FileStat._make(row) for row in walked]
