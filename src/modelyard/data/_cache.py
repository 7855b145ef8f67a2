"""The workspace's local cache database, ``<cache>/stats.db``: what this machine knows about
files on disk, so that unchanged files are never read twice.

- ``stats``: a file's absolute path plus (inode, size, mtime_ns) -> the digest of its bytes.
- ``sources`` and ``source_files``: per folder (or file) added in this workspace, the version
  last added from it and every file's digest, size, inode and mtime_ns at that moment, and
  where its bytes are stored: git's index, one per source.
  ``yard data status`` compares a fresh scan with it and opens nothing else: neither the
  metadata store nor the manifest.

A file whose modification time is too close to the moment it was read is not trusted later
("racily clean", as git calls it): a write in the same clock tick would keep the same mtime,
and the cache must never vouch for bytes it has not seen. Everything here is a cache:
deleting the file costs speed, never data. The index is written after the version is recorded
in the metadata store: a process killed in between leaves it one add behind (status then
compares with the version before), until the next add from the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from modelyard.data._scan import FileStat
from modelyard.domain.datasets import DatasetVersion
from modelyard.errors import StoreError
from modelyard.store.direct import immediate

if TYPE_CHECKING:
    from modelyard.data._manifest import Entry

RACY_NS = 100_000_000  # mtimes within 0.1 s of the read are not trusted later
FILE_NAME = "stats.db"
SCHEMA_VERSION = 4  # a cache written with another layout is dropped and rebuilt
_TABLES = {
    "stats": "(path TEXT PRIMARY KEY, ino INTEGER, size INTEGER, mtime_ns INTEGER, digest TEXT) "
    "WITHOUT ROWID",
    "sources": "(id INTEGER PRIMARY KEY, source TEXT, store TEXT, dataset TEXT, number INTEGER, "
    "version TEXT, signature TEXT, generation INTEGER, UNIQUE (source, store))",
    "source_files": "(source_id INTEGER, path TEXT, digest TEXT, size INTEGER, ino INTEGER, "
    "mtime_ns INTEGER, pack TEXT, offset INTEGER, PRIMARY KEY (source_id, path)) WITHOUT ROWID",
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
    generation: int = 0  # of the stored snapshot this one was read from (0: not read)

    @property
    def signature(self) -> str | None:
        """``stat_signature`` of the files, or None when some file's stat is not trusted."""
        rows = self.files.items()
        if any(r.ino == 0 for _, r in rows):
            return None
        return stat_signature((p, r.ino, r.size, r.mtime_ns) for p, r in rows)


def stat_signature(stats: Iterable[tuple[str, int, int, int]]) -> str:
    """One digest of every file's (path, inode, size, mtime_ns), in path order: two equal
    signatures mean no file was added, removed or touched in between."""
    lines = "".join(f"{p}\0{i}\0{s}\0{m}\n" for p, i, s, m in sorted(stats))
    return hashlib.blake2b(lines.encode(), digest_size=20).hexdigest()


def cache_dir(root: Path | None) -> Path:
    """The workspace's cache folder: ``.yard/cache``, or the user cache without a ``.yard/``."""
    if root is not None:
        return root / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modelyard"


def trusted(f: FileStat, read_ns: int) -> bool:
    """Whether (inode, size, mtime_ns) may later stand for the bytes read at ``read_ns``."""
    return f.mtime_ns < read_ns - RACY_NS


class LocalCache:
    """The cache database of one workspace; open it with ``with LocalCache(folder) as cache``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
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
                            for table, columns in _TABLES.items():
                                conn.execute(f"DROP TABLE IF EXISTS {table}")
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
        head = self._read_one(
            "SELECT id, version, generation FROM sources WHERE source = ? AND store = ?",
            (source, store),
        )
        if head is None:
            return None
        query = (
            "SELECT path, digest, size, ino, mtime_ns, pack, offset FROM source_files "
            "WHERE source_id = ?"
        )
        try:
            rows = self._db().execute(query, (head[0],)).fetchall()
        except sqlite3.Error as exc:
            raise self._broken("read", exc) from exc
        files = {row[0]: Recorded._make(row[1:]) for row in rows}
        version = DatasetVersion.from_dict(json.loads(head[1]))
        return SourceSnapshot(source, store, version, files, head[2])

    def save_source(self, snapshot: SourceSnapshot, base: SourceSnapshot | None = None) -> None:
        """Record ``snapshot`` unless a newer version of its dataset is already recorded.

        With ``base`` (the snapshot read earlier from this cache), only the rows that differ
        from it are written, provided nobody saved the source in between."""
        version = snapshot.version
        header = (
            version.dataset,
            version.number,
            json.dumps(version.to_dict(), separators=(",", ":")),
            snapshot.signature,
        )
        try:
            with immediate(self._db()) as db:
                self._save_source(db, snapshot, header, base)
        except sqlite3.Error as exc:
            raise self._broken("write", exc) from exc

    def _save_source(
        self,
        db: sqlite3.Connection,
        snapshot: SourceSnapshot,
        header: tuple[object, ...],
        base: SourceSnapshot | None,
    ) -> None:
        found = db.execute(
            "SELECT id, dataset, number, generation FROM sources WHERE source = ? AND store = ?",
            (snapshot.source, snapshot.store),
        ).fetchone()
        if found is None:
            source_id = db.execute(
                "INSERT INTO sources (source, store, dataset, number, version, signature, "
                "generation) VALUES (?, ?, ?, ?, ?, ?, 1) RETURNING id",
                (snapshot.source, snapshot.store, *header),
            ).fetchone()[0]
            changed, removed = snapshot.files, []
        else:
            source_id, dataset, number, generation = found
            if dataset == snapshot.version.dataset and number > snapshot.version.number:
                return  # a newer version was added from here meanwhile
            db.execute(
                "UPDATE sources SET dataset = ?, number = ?, version = ?, signature = ?, "
                "generation = generation + 1 WHERE id = ?",
                (*header, source_id),
            )
            if base is not None and base.generation == generation:
                old = base.files
                changed = {p: r for p, r in snapshot.files.items() if old.get(p) != r}
                removed = [p for p in old if p not in snapshot.files]
            else:
                db.execute("DELETE FROM source_files WHERE source_id = ?", (source_id,))
                changed, removed = snapshot.files, []
        db.executemany(
            "DELETE FROM source_files WHERE source_id = ? AND path = ?",
            [(source_id, p) for p in removed],
        )
        db.executemany(
            "INSERT OR REPLACE INTO source_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(source_id, p, *r) for p, r in changed.items()],
        )

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
