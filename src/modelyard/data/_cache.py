"""The workspace's local cache database, ``<cache>/stats.db``: what this machine knows about
files on disk, so that unchanged files are never read twice.

- ``stats``: a file's absolute path plus (inode, size, mtime_ns) -> the digest of its bytes.
- ``sources``: per folder (or file) added in this workspace, the version last added from it
  and every file's digest, size, inode and mtime_ns at that moment, and where its bytes are
  stored: git's index, one per source, kept as one marshalled pair of lists (paths, rows;
  10,000 files: ~5 ms to write or read, against ~80 ms as 10,000 rows). ``yard data status``
  compares a fresh scan with it and opens nothing else: neither the metadata store nor the
  manifest. A source's files are not also written to ``stats``: its snapshot vouches for them.

A file whose modification time is too close to the moment it was read is not trusted later
("racily clean", as git calls it): a write in the same clock tick would keep the same mtime,
and the cache must never vouch for bytes it has not seen. Everything here is a cache:
deleting the file costs speed, never data. The index is written after the version is recorded
in the metadata store: a process killed in between leaves it one add behind (status then
compares with the version before), until the next add from the folder.
"""

from __future__ import annotations

import json
import marshal
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from modelyard._paths import cache_folder
from modelyard.data._fingerprint import CACHE_FILE, CACHE_LAYOUT, stat_signature
from modelyard.data._scan import FileStat
from modelyard.domain.datasets import DatasetVersion
from modelyard.errors import StoreError
from modelyard.store.direct import immediate

if TYPE_CHECKING:
    from modelyard.data._manifest import Entry

RACY_NS = 100_000_000  # mtimes within 0.1 s of the read are not trusted later
SCHEMA_VERSION = CACHE_LAYOUT  # a cache written with another layout is dropped and rebuilt
_TABLES = {
    "stats": "(path TEXT PRIMARY KEY, ino INTEGER, size INTEGER, mtime_ns INTEGER, digest TEXT) "
    "WITHOUT ROWID",
    "sources": "(source TEXT, store TEXT, dataset TEXT, number INTEGER, version TEXT, "
    "signature TEXT, files BLOB, PRIMARY KEY (source, store))",
}


class Recorded(NamedTuple):
    """A file of a version as last seen on disk (ino and mtime_ns are 0 when not trusted),
    and where its bytes are stored: inside ``pack`` at ``offset``, or a blob of its own."""

    digest: str
    size: int
    ino: int
    mtime_ns: int
    pack: str | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SourceSnapshot:
    """The version last added from ``source`` and its files as they were on disk then."""

    source: str
    store: str
    version: DatasetVersion
    files: dict[str, Recorded]

    @property
    def signature(self) -> str | None:
        """``stat_signature`` of the files, or None when some file's stat is not trusted."""
        rows = self.files.items()
        if any(r.ino == 0 for _, r in rows):
            return None
        return stat_signature([(p, r.ino, r.size, r.mtime_ns) for p, r in rows])


def cache_dir(root: Path | None) -> Path:
    """The workspace's cache folder: ``.yard/cache``, or the user cache without a ``.yard/``."""
    return Path(cache_folder(root))


def trusted(f: FileStat, read_ns: int) -> bool:
    """Whether (inode, size, mtime_ns) may later stand for the bytes read at ``read_ns``."""
    return f.mtime_ns < read_ns - RACY_NS


class LocalCache:
    """The cache database of one workspace; open it with ``with LocalCache(folder) as cache``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / CACHE_FILE
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> LocalCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                if _layout(conn) != SCHEMA_VERSION:
                    with immediate(conn):
                        if _layout(conn) != SCHEMA_VERSION:  # not rebuilt by another process
                            for (table,) in conn.execute(
                                "SELECT name FROM sqlite_master WHERE type = 'table'"
                            ).fetchall():
                                conn.execute(f'DROP TABLE "{table}"')
                            for table, columns in _TABLES.items():
                                conn.execute(f"CREATE TABLE {table} {columns}")
                            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except sqlite3.Error as exc:
                raise self._broken("open", exc) from exc
            self._conn = conn
        return self._conn

    # -- stats --------------------------------------------------------------------------------

    def stats(self, root: str) -> dict[str, tuple[int, int, int, str]]:
        """Every cached file at or below ``root``: path -> (ino, size, mtime_ns, digest)."""
        query = "SELECT path, ino, size, mtime_ns, digest FROM stats WHERE path >= ? AND path < ?"
        try:
            rows = self._db().execute(query, (root, root + "\x7f"))
            return {p: (i, s, m, d) for p, i, s, m, d in rows}
        except sqlite3.Error as exc:
            raise self._broken("read", exc) from exc

    def digest(self, f: FileStat) -> str | None:
        """The cached digest of ``f`` if its (inode, size, mtime_ns) are still those cached."""
        query = "SELECT digest FROM stats WHERE path = ? AND ino = ? AND size = ? AND mtime_ns = ?"
        try:
            row = self._db().execute(query, (f.absolute, *f.key)).fetchone()
        except sqlite3.Error as exc:
            raise self._broken("read", exc) from exc
        return None if row is None else row[0]

    def save_stats(self, entries: Iterable[tuple[FileStat, str, int]]) -> None:
        """Remember (file, digest, read time in ns) for the files that can be trusted later."""
        rows = [
            (f.absolute, f.ino, f.size, f.mtime_ns, digest)
            for f, digest, read_ns in entries
            if trusted(f, read_ns)
        ]
        if rows:
            self._write("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?)", rows)

    # -- sources ------------------------------------------------------------------------------

    def source_version(self, source: str, store: str) -> tuple[DatasetVersion, str | None] | None:
        """The version last added from ``source`` into ``store`` and the snapshot's signature;
        None if this workspace never added ``source``."""
        row = self._read_one(
            "SELECT version, signature FROM sources WHERE source = ? AND store = ?", (source, store)
        )
        if row is None:
            return None
        return DatasetVersion.from_dict(json.loads(row[0])), row[1]

    def source(self, source: str, store: str) -> SourceSnapshot | None:
        """The whole snapshot of the version last added from ``source`` into ``store``."""
        row = self._read_one(
            "SELECT version, files FROM sources WHERE source = ? AND store = ?", (source, store)
        )
        if row is None:
            return None
        try:
            paths, rows = marshal.loads(row[1])
            files = dict(zip(paths, map(Recorded._make, rows), strict=True))
        except (EOFError, ValueError, TypeError):
            return None  # written by a Python that marshals differently: as if never added
        version = DatasetVersion.from_dict(json.loads(row[0]))
        return SourceSnapshot(source, store, version, files)

    def save_source(self, snapshot: SourceSnapshot) -> None:
        """Record ``snapshot`` unless a newer version of its dataset is already recorded."""
        version = snapshot.version
        files = marshal.dumps((list(snapshot.files), list(map(tuple, snapshot.files.values()))))
        row = (
            snapshot.source,
            snapshot.store,
            version.dataset,
            version.number,
            json.dumps(version.to_dict(), separators=(",", ":")),
            snapshot.signature,
            files,
        )
        try:
            with immediate(self._db()) as db:
                found = db.execute(
                    "SELECT dataset, number FROM sources WHERE source = ? AND store = ?",
                    (snapshot.source, snapshot.store),
                ).fetchone()
                if found is not None and found[0] == version.dataset and found[1] > version.number:
                    return  # a newer version was added from here meanwhile
                db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        except sqlite3.Error as exc:
            raise self._broken("write", exc) from exc

    def _read_one(self, query: str, args: tuple[object, ...]) -> tuple[Any, ...] | None:
        try:
            return self._db().execute(query, args).fetchone()  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            raise self._broken("read", exc) from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _write(self, statement: str, rows: list[tuple[object, ...]]) -> None:
        try:
            with immediate(self._db()) as db:
                db.executemany(statement, rows)
        except sqlite3.Error as exc:
            raise self._broken("write", exc) from exc

    def _broken(self, what: str, exc: sqlite3.Error) -> StoreError:
        return StoreError(
            f"cannot {what} the local cache {self.path}: {exc}; delete it (it is only a cache) "
            "and retry"
        )


def _layout(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def snapshot_files(
    files: Iterable[FileStat], entries: Iterable[Entry], untrusted: set[str]
) -> dict[str, Recorded]:
    """The snapshot rows of scanned ``files`` recorded as ``entries`` (in the same order);
    paths in ``untrusted`` get no (inode, mtime) so that the next status reads them."""
    return {
        f.path: Recorded(
            e.digest,
            f.size,
            0 if f.path in untrusted else f.ino,
            0 if f.path in untrusted else f.mtime_ns,
            e.pack,
            e.offset,
        )
        for f, e in zip(files, entries, strict=True)
    }
