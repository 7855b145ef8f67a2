"""One engine shared by many acting users: what the team server opens once.

``SqlBackend.store(actor)`` is a cheap per-request view of the metadata store whose audit
events are attributed to ``actor``. With ``idempotency_key`` the view records the key in the
same transaction as its write: a retried request carrying a key already recorded raises
``AlreadyApplied`` and changes nothing, so a retried metric batch never duplicates points.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from modelyard.errors import AlreadyExists, Conflict
from modelyard.store.base import MetadataStore
from modelyard.store.sql._database import Database, now_ms
from modelyard.store.sql._engine import create_store_engine, migrate
from modelyard.store.sql._schema import AppliedBatchRow
from modelyard.store.sql._users import SqlUserStore

MAX_KEY_LENGTH = 64


class AlreadyApplied(Conflict):
    """A write with this idempotency key was committed before; nothing was done again."""

    code = "already_applied"


class _KeyedDatabase(Database):
    """A Database whose write transactions also record an idempotency key."""

    def __init__(self, engine, actor: str, key: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(engine, actor)
        self._key = key

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with super().write() as conn:
            conn.execute(
                AppliedBatchRow.__table__.insert().values(key=self._key, created_at=now_ms())
            )
            yield conn


class SqlBackend:
    """The SQL metadata database at ``url``, migrated once, shared by every request."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_store_engine(url)
        migrate(self.engine)

    def store(self, actor: str, *, idempotency_key: str | None = None) -> MetadataStore:
        if idempotency_key is None:
            db = Database(self.engine, actor)
        else:
            db = _KeyedDatabase(self.engine, actor, idempotency_key[:MAX_KEY_LENGTH])
        from modelyard.store.sql import assemble_store  # the package imports this module

        return assemble_store(db, uri=self.url, close=lambda: None)

    def users(self, actor: str) -> SqlUserStore:
        return SqlUserStore(Database(self.engine, actor))

    def was_applied(self, key: str) -> bool:
        with Database(self.engine, "").read() as conn:
            found = conn.execute(
                select(AppliedBatchRow.key).where(AppliedBatchRow.key == key[:MAX_KEY_LENGTH])
            ).first()
        return found is not None

    @contextlib.contextmanager
    def keyed(self, key: str | None) -> Iterator[None]:
        """Turn the unique-key violation of a replayed write into AlreadyApplied."""
        try:
            yield
        except AlreadyExists:
            if key is not None and self.was_applied(key):
                raise AlreadyApplied(
                    f"a request with idempotency key {key!r} was applied"
                ) from None
            raise

    def close(self) -> None:
        self.engine.dispose()


def open_user_store(url: str, *, actor: str) -> SqlUserStore:
    """Users of the database at ``url`` (bootstrap: ``yard users create boss --role admin``)."""
    engine = create_store_engine(url)
    migrate(engine)
    return SqlUserStore(Database(engine, actor), close=engine.dispose)
