"""The unit of work shared by the SQL stores: one transaction per operation, audited."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from modelyard.domain.clock import now_ms
from modelyard.errors import AlreadyExists, StoreError, YardError
from modelyard.store.sql._engine import WRITE
from modelyard.store.sql._schema import AuditRow

_AUDIT_INSERT = insert(AuditRow)
_AUDIT_KEY = "yard_audit_events"


def dialect_module(name: str) -> ModuleType:
    """SQLAlchemy's dialect module for ``name`` (for its ``insert ... on conflict``), imported
    on first use: opening a SQLite store never loads PostgreSQL's dialect, nor the reverse."""
    backend = "sqlite" if name == "sqlite" else "postgresql"
    return importlib.import_module(f"sqlalchemy.dialects.{backend}")


class Database:
    """An engine plus the acting user; hands out read and write transactions."""

    def __init__(self, engine: Engine, actor: str) -> None:
        self.engine = engine
        self.actor = actor
        self._writer = engine.execution_options(**WRITE)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error. Its audit
        events are inserted together just before the commit."""
        with _translated(), self._writer.begin() as conn:
            events: list[dict[str, Any]] = []
            conn.info[_AUDIT_KEY] = events
            try:
                yield conn
                if events:
                    conn.execute(_AUDIT_INSERT, events)
            finally:
                del conn.info[_AUDIT_KEY]

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with _translated(), self.engine.connect() as conn:
            yield conn

    def audit(
        self, conn: Connection, action: str, subject: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Record an audit event in the caller's write transaction (it commits with it)."""
        conn.info[_AUDIT_KEY].append(
            {
                "timestamp": now_ms(),
                "actor": self.actor,
                "action": action,
                "subject": subject,
                "detail": detail or {},
            }
        )


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except YardError:
        raise
    except IntegrityError as exc:
        raise AlreadyExists(f"conflicts with an existing record: {_reason(exc)}") from exc
    except DBAPIError as exc:
        reason = _reason(exc)
        raise StoreError(
            f"metadata database error: {reason}; check that the database is reachable and "
            "not full, then retry"
        ) from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"metadata store error: {exc}") from exc


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
