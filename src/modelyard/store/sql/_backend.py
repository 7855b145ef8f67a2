"""One engine shared by many acting users: what the team server opens once.

``SqlBackend.store(actor)`` is a cheap per-request view of the metadata store whose audit
events are attributed to ``actor``. With ``idempotency_key`` the view records the key in the
same transaction as its write: a retried request carrying a key already recorded raises
``AlreadyApplied`` and changes nothing, so a retried metric batch never duplicates points.
Keys older than ``idempotency_days`` are pruned every ``prune_every`` keyed writes: a retry
that arrives later than that is applied again.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from modelyard.errors import AlreadyExists, Conflict, YardError
from modelyard.store.base import MetadataStore
from modelyard.store.sql._database import Database, now_ms
from modelyard.store.sql._engine import create_store_engine, migrate
from modelyard.store.sql._schema import AppliedBatchRow
from modelyard.store.sql._users import SqlUserStore

MAX_KEY_LENGTH = 64
PRUNE_EVERY = 1000
DAY_MS = 86_400_000
log = logging.getLogger(__name__)


class AlreadyApplied(Conflict):
    """A write with this idempotency key was committed before; nothing was done again."""

    code = "already_applied"


class _KeyedDatabase(Database):
    """A Database whose write transactions also record an idempotency key, and call
    ``committed()`` after each commit."""

    def __init__(self, engine: Engine, actor: str, key: str, committed: Callable[[], None]) -> None:
        super().__init__(engine, actor)
        self._key = key
        self._committed = committed

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with super().write() as conn:
            conn.execute(
                AppliedBatchRow.__table__.insert().values(key=self._key, created_at=now_ms())
            )
            yield conn
        self._committed()


class SqlBackend:
    """The SQL metadata database at ``url``, migrated once, shared by every request.

    Idempotency keys are kept ``idempotency_days``; every ``prune_every``-th keyed write of
    this process deletes the older ones.
    """

    def __init__(
        self, url: str, *, idempotency_days: float, prune_every: int = PRUNE_EVERY
    ) -> None:
        self.url = url
        self.idempotency_days = idempotency_days
        self.prune_every = prune_every
        self.engine = create_store_engine(url)
        migrate(self.engine)
        self._keyed_writes = itertools.count(1)  # next() is atomic: request threads share it

    def store(self, actor: str, *, idempotency_key: str | None = None) -> MetadataStore:
        if idempotency_key is None:
            db = Database(self.engine, actor)
        else:
            key = idempotency_key[:MAX_KEY_LENGTH]
            db = _KeyedDatabase(self.engine, actor, key, self._count_keyed_write)
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

    def prune_applied(self, before_ms: int) -> int:
        """Delete the idempotency keys recorded before ``before_ms``; return how many."""
        with Database(self.engine, "").write() as conn:
            done = conn.execute(
                delete(AppliedBatchRow).where(AppliedBatchRow.created_at < before_ms)
            )
        return done.rowcount

    def prune_expired(self) -> None:
        """Delete the keys older than ``idempotency_days``; on a database error, log a
        warning and carry on (the keys are deleted at a later prune)."""
        try:
            self.prune_applied(now_ms() - round(self.idempotency_days * DAY_MS))
        except YardError as exc:  # any database error, translated: it must not fail a write
            log.warning("could not prune old idempotency keys: %s", exc)

    def _count_keyed_write(self) -> None:
        if next(self._keyed_writes) % self.prune_every == 0:
            self.prune_expired()

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
