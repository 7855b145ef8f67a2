"""SQL metadata store: SQLAlchemy 2 on SQLite (WAL, embedded) or PostgreSQL (teams)."""

from __future__ import annotations

from collections.abc import Callable

from modelyard.store.base import MetadataStore
from modelyard.store.sql._audit import SqlAuditLog, SqlLineageStore
from modelyard.store.sql._backend import AlreadyApplied, SqlBackend, open_user_store
from modelyard.store.sql._data import SqlDatasetStore
from modelyard.store.sql._database import Database
from modelyard.store.sql._engine import (
    HEAD_REVISION,
    create_store_engine,
    migrate,
    refresh_statistics,
)
from modelyard.store.sql._evaluations import SqlEvaluationStore
from modelyard.store.sql._experiments import SqlExperimentStore
from modelyard.store.sql._models import SqlModelRegistryStore
from modelyard.store.sql._runs import SqlRunStore


def open_sql_store(url: str, *, actor: str) -> MetadataStore:
    """Open (creating or migrating when needed) the SQL store at ``url``, acting as ``actor``."""
    engine = create_store_engine(url)
    migrate(engine)
    refresh_statistics(engine)
    return assemble_store(Database(engine, actor), uri=url, close=engine.dispose)


def assemble_store(db: Database, *, uri: str, close: Callable[[], None]) -> MetadataStore:
    """Every SQL store over one Database (one engine, one acting user)."""
    experiments = SqlExperimentStore(db)
    return MetadataStore(
        experiments=experiments,
        runs=SqlRunStore(db, experiments),
        lineage=SqlLineageStore(db),
        audit=SqlAuditLog(db),
        datasets=SqlDatasetStore(db),
        models=SqlModelRegistryStore(db),
        evaluations=SqlEvaluationStore(db),
        actor=db.actor,
        uri=uri,
        close=close,
    )


__all__ = [
    "HEAD_REVISION",
    "AlreadyApplied",
    "SqlBackend",
    "open_sql_store",
    "open_user_store",
]
