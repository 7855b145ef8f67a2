"""Engines for SQLite and PostgreSQL, and safe automatic migrations.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue for the lock instead of failing with
"database is locked" when a deferred transaction tries to upgrade. Migrations run under a lock
(a file lock beside the SQLite file, an advisory lock on PostgreSQL), so two processes opening
a new store at once cannot both create tables.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from modelyard.errors import StoreError
from modelyard.store.revision import HEAD_REVISION

BUSY_TIMEOUT_MS = 60_000
_MIGRATION_LOCK_ID = 0x7961726400  # "yard" for pg_advisory_lock
WRITE = {"yard_write": True}


def normalise_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_store_engine(url: str) -> Engine:
    """Create an engine configured for modelyard's access pattern on this backend."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
    elif backend == "postgresql":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        raise StoreError(
            f"unsupported metadata database {backend!r} in {url!r}; use sqlite:///path or "
            "postgresql://user@host/db"
        )
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("yard_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to HEAD_REVISION; cheap when it is already there."""
    if current_revision(engine) == HEAD_REVISION:
        return
    with _migration_lock(engine) as conn:
        _upgrade(conn)


def _upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            conn.commit()
            try:
                yield conn
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with engine.connect() as conn:
            yield conn
            conn.commit()
        return
    lock_path = f"{database}.migrate.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with engine.connect() as conn:
            yield conn
            conn.commit()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def refresh_statistics(engine: Engine) -> None:
    """Keep SQLite's query-planner statistics roughly current (PostgreSQL's autovacuum does
    this itself). Without them SQLite drives a filtered search from the runs table; with them
    it starts from the selective index. Re-analysed, with sampling (a millisecond), when the
    number of runs has doubled since the last time."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT coalesce(max(pk), 0) FROM runs")).scalar_one()
        if runs < 1000:
            return
        try:
            stats = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'runs'")).scalars()
            analysed = max((int(s.split()[0]) for s in stats), default=0)  # sampled: estimates
        except OperationalError:  # no statistics table yet
            analysed = 0
    if runs < 2 * analysed:
        return
    with engine.execution_options(**WRITE).begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit = 400")
        conn.exec_driver_sql("ANALYZE")
