"""Recording dataset versions in an embedded SQLite store through the standard ``sqlite3``.

``yard data add`` touches two tables, and importing SQLAlchemy to reach them takes ~0.3 s on
the benchmark machine: longer than re-adding a 10,000-file folder with ten changed files. So for
an embedded store already at ``HEAD_REVISION`` the add runs the transaction of
``SqlDatasetStore.add_version`` (same rows, same audit events, same ``BEGIN IMMEDIATE`` and
busy timeout) in plain SQL. Any other store, or one that needs a migration, goes through the
full store (``open_version_writer`` returns None). ``tests/test_data_store.py`` checks that both
write identical rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelyard.domain.clock import now_ms
from modelyard.domain.datasets import DatasetVersion, NewDatasetVersion, VersionAdded
from modelyard.domain.uris import check_dataset_name, dataset_uri
from modelyard.errors import StoreError
from modelyard.store.revision import HEAD_REVISION

BUSY_TIMEOUT_MS = 60_000
_FIELDS = (
    "number", "content_digest", "manifest_digest", "kind", "message", "author", "created_at",
    "total_size", "file_count", "source", "profile",
)  # fmt: skip
_VERSION_COLUMNS = ", ".join(_FIELDS)
_QUALIFIED = ", ".join(f"v.{field}" for field in _FIELDS)


def open_version_writer(uri: str, actor: str) -> DirectVersionWriter | None:
    """A writer for the SQLite file ``uri`` names, or None when the full store must be used
    (not SQLite, no such file yet, or a schema older or newer than this modelyard's)."""
    if not uri.startswith("sqlite:///") or "?" in uri:
        return None
    path = Path(uri.removeprefix("sqlite:///"))
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    if revision is None or revision[0] != HEAD_REVISION:
        conn.close()
        return None
    return DirectVersionWriter(conn, actor)


class DirectVersionWriter:
    """The latest version of a dataset, and recording the next one, in one SQLite file."""

    def __init__(self, conn: sqlite3.Connection, actor: str) -> None:
        self._conn = conn
        self.actor = actor

    def latest(self, name: str) -> DatasetVersion | None:
        """The newest version of ``name``; None if the dataset has none (or does not exist)."""
        try:
            return self._latest(name)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read dataset {name!r}: {exc}") from exc

    def add_version(self, new: NewDatasetVersion) -> VersionAdded:
        """Record ``new`` as the next version, unless it equals the latest (``created`` False)."""
        check_dataset_name(new.dataset)
        try:
            with immediate(self._conn):
                return self._add(new)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot record a version of {new.dataset!r}: {exc}") from exc

    def close(self) -> None:
        self._conn.close()

    def _add(self, new: NewDatasetVersion) -> VersionAdded:
        events: list[tuple[str, str, dict[str, Any]]] = []
        found = self._conn.execute("SELECT id FROM datasets WHERE name = ?", (new.dataset,))
        row = found.fetchone()
        if row is None:
            dataset_id = self._conn.execute(
                "INSERT INTO datasets (name, description, created_at) VALUES (?, '', ?) "
                "RETURNING id",
                (new.dataset, now_ms()),
            ).fetchone()[0]
            events.append(("dataset.create", f"data:{new.dataset}", {"id": dataset_id}))
        else:
            dataset_id = row[0]
        latest = self._latest(new.dataset)
        if latest is not None and latest.content_digest == new.content_digest:
            return VersionAdded(latest, created=False)
        fields = {f.name: getattr(new, f.name) for f in dataclasses.fields(new)}
        number = 1 if latest is None else latest.number + 1
        version = DatasetVersion(number=number, created_at=now_ms(), **fields)
        values = version.to_dict()
        values["profile"] = json.dumps(values["profile"])
        self._conn.execute(
            f"INSERT INTO dataset_versions (dataset_id, rows, {_VERSION_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (dataset_id, version.rows, *(values[f] for f in _FIELDS)),
        )
        detail = {
            "before": latest.content_digest if latest is not None else None,
            "after": new.content_digest,
            "manifest": new.manifest_digest,
            "files": new.file_count,
            "bytes": new.total_size,
        }
        events.append(("dataset.version.add", dataset_uri(new.dataset, number), detail))
        self._conn.executemany(
            "INSERT INTO audit_events (timestamp, actor, action, subject, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            [(now_ms(), self.actor, a, s, json.dumps(d)) for a, s, d in events],
        )
        return VersionAdded(version, created=True)

    def _latest(self, name: str) -> DatasetVersion | None:
        row = self._conn.execute(
            f"SELECT {_QUALIFIED} FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id "
            "WHERE d.name = ? ORDER BY v.number DESC LIMIT 1",
            (name,),
        ).fetchone()
        if row is None:
            return None
        profile = json.loads(row[10]) if row[10] is not None else None
        return DatasetVersion.from_dict(
            {
                "dataset": name,
                **dict(zip(_FIELDS, row, strict=True)),
                "profile": profile,
            }
        )


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on an autocommit ``sqlite3`` connection, started with ``BEGIN
    IMMEDIATE`` (writers queue for the lock) and rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
