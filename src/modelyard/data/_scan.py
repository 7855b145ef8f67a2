"""Finding the files of a version on disk, and the stat cache that avoids re-reading them.

A folder is walked with ``os.scandir`` (no per-file ``stat`` beyond the one scandir gives).
Symbolic links are followed only while they stay inside the folder; a link leading out of it,
an unreadable entry or an empty folder is refused with a message naming the path.

The stat cache maps a file's absolute path plus (inode, size, mtime_ns) to its digest, in a
small SQLite file. A file whose modification time is too close to the moment it was read is
not cached ("racily clean", as git calls it): a later write in the same clock tick would keep
the same mtime, and the cache must never vouch for bytes it has not seen.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from modelyard.errors import InvalidValue, StoreError

RACY_NS = 100_000_000  # mtimes within 0.1 s of the read are not trusted later


@dataclass(frozen=True, slots=True)
class FileStat:
    """One file of a source: its path inside the version and what ``stat`` said."""

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
    try:
        info = os.stat(source)
    except FileNotFoundError:
        raise InvalidValue(f"{source} does not exist", field="source") from None
    except OSError as exc:
        raise InvalidValue(f"cannot read {source}: {exc.strerror}", field="source") from exc
    if stat.S_ISREG(info.st_mode):
        absolute = os.path.abspath(source)
        _check_readable(absolute)
        return [FileStat(source.name, absolute, info.st_size, info.st_ino, info.st_mtime_ns)], True
    if not stat.S_ISDIR(info.st_mode):
        raise InvalidValue(f"{source} is neither a file nor a folder", field="source")
    root = os.path.realpath(source)
    files: list[FileStat] = []
    _walk(root, "", root, files, {root})
    if not files:
        raise InvalidValue(
            f"{source} holds no files; a dataset version needs at least one", field="source"
        )
    files.sort(key=lambda f: f.path)
    return files, False


def _walk(folder: str, prefix: str, root: str, out: list[FileStat], seen: set[str]) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise InvalidValue(
            f"cannot list {folder}: {exc.strerror}; fix its permissions or remove it",
            field="source",
        ) from exc
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        path = entry.path
        if entry.is_symlink():
            target = os.path.realpath(path)
            if target != root and not target.startswith(root + os.sep):
                raise InvalidValue(
                    f"{path} is a symbolic link to {target}, outside {root}; copy the file "
                    "into the folder or add it separately",
                    field="source",
                )
            path = target
        try:
            info = os.stat(path)
        except OSError as exc:
            raise InvalidValue(f"cannot read {entry.path}: {exc.strerror}", field="source") from exc
        if stat.S_ISDIR(info.st_mode):
            real = os.path.realpath(path)
            if real in seen:
                raise InvalidValue(
                    f"{entry.path} links back to {real}, which is already being added (a loop); "
                    "remove the link",
                    field="source",
                )
            _walk(path, relative + "/", root, out, seen | {real})
        elif stat.S_ISREG(info.st_mode):
            out.append(FileStat(relative, path, info.st_size, info.st_ino, info.st_mtime_ns))
        else:
            raise InvalidValue(
                f"{entry.path} is not a regular file (a socket, pipe or device); remove it "
                "from the folder",
                field="source",
            )


def _check_readable(path: str) -> None:
    if not os.access(path, os.R_OK):
        raise InvalidValue(f"cannot read {path}: permission denied", field="source")


class StatCache:
    """(path, inode, size, mtime_ns) -> digest for files already hashed on this machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS stats (path TEXT PRIMARY KEY, ino INTEGER, "
                    "size INTEGER, mtime_ns INTEGER, digest TEXT) WITHOUT ROWID"
                )
            except sqlite3.Error as exc:
                raise StoreError(
                    f"cannot open the stat cache {self.path}: {exc}; delete it (it is only a "
                    "cache) and retry"
                ) from exc
            self._conn = conn
        return self._conn

    def load(self, root: str) -> dict[str, tuple[int, int, int, str]]:
        """Every cached entry at or below ``root``: path -> (ino, size, mtime_ns, digest)."""
        low, high = root, root + "\x7f"
        try:
            rows = self._db().execute(
                "SELECT path, ino, size, mtime_ns, digest FROM stats WHERE path >= ? AND path < ?",
                (low, high),
            )
            return {p: (i, s, m, d) for p, i, s, m, d in rows}
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the stat cache {self.path}: {exc}") from exc

    def save(self, entries: Iterable[tuple[FileStat, str, int]]) -> None:
        """Remember (file, digest, read time in ns) unless the file's mtime is racy."""
        rows = [
            (f.absolute, f.ino, f.size, f.mtime_ns, digest)
            for f, digest, read_ns in entries
            if f.mtime_ns < read_ns - RACY_NS
        ]
        if not rows:
            return
        try:
            db = self._db()
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write the stat cache {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def now_ns() -> int:
    return time.time_ns()
