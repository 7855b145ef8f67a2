"""ORM tables of the metadata store. Alembic migrations in ``migrations/`` create them.

Times are integer milliseconds since the epoch. A metric value of NULL means NaN (SQLite
cannot store NaN; PostgreSQL follows the same rule so both backends read back the same).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (auto-increment) when the type
# is exactly INTEGER; PostgreSQL gets a 64-bit key.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class ExperimentRow(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    lifecycle: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[int] = mapped_column(BigInteger)


class RunRow(Base):
    __tablename__ = "runs"

    pk: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    name: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user: Mapped[str] = mapped_column(String(250), default="")
    host: Mapped[str] = mapped_column(String(250), default="")
    command: Mapped[str] = mapped_column(Text, default="")
    git_commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    git_dirty: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    environment_digest: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lifecycle: Mapped[str] = mapped_column(String(16), default="active")

    __table_args__ = (
        Index("ix_runs_experiment_start", "experiment_id", "start_time"),
        Index("ix_runs_parent", "parent_id"),
    )


class ParamRow(Base):
    __tablename__ = "params"

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    # Covering (run_pk included): a filter on a param never touches the table itself.
    # On PostgreSQL the migration indexes (key, run_pk) only: long text cannot be indexed.
    __table_args__ = (Index("ix_params_key_value", "key", "value", "run_pk"),)


class TagRow(Base):
    __tablename__ = "tags"

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_tags_key_value", "key", "value", "run_pk"),)


class MetricRow(Base):
    """Every logged point. No primary key beyond the row id: one index, for history reads."""

    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_metrics_run_key_step", "run_pk", "key", "step"),)


class LatestMetricRow(Base):
    """The point with the highest (step, timestamp) per run and key: what search sorts on."""

    __tablename__ = "latest_metrics"

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_latest_metrics_key_value", "key", "value", "run_pk"),)


class ArtifactRow(Base):
    __tablename__ = "artifacts"

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    digest: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(BigInteger)


class LineageRow(Base):
    __tablename__ = "lineage_edges"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(1000))
    target: Mapped[str] = mapped_column(String(1000))
    relation: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("source", "target", "relation", name="uq_lineage_edge"),
        Index("ix_lineage_target", "target"),
    )


class AuditRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(250))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(1000))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_subject", "subject"),)


class DatasetRow(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)


class DatasetVersionRow(Base):
    """One immutable version: its manifest (a blob) lists every file's path, digest, size."""

    __tablename__ = "dataset_versions"

    pk: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    number: Mapped[int] = mapped_column(Integer)
    content_digest: Mapped[str] = mapped_column(String(80))
    manifest_digest: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    total_size: Mapped[int] = mapped_column(BigInteger)
    file_count: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        UniqueConstraint("dataset_id", "number", name="uq_dataset_version_number"),
        Index("ix_dataset_versions_digest", "dataset_id", "content_digest"),
    )


# -- team server: users, API tokens, role grants, applied metric batches ---------------------


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class TokenRow(Base):
    """An API token: its public id and the SHA-256 of its secret part, never the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    secret_hash: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)


class GrantRow(Base):
    __tablename__ = "role_grants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_name: Mapped[str] = mapped_column(String(250), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class AppliedBatchRow(Base):
    """Idempotency keys of applied writes: a retried request with a known key changes nothing."""

    __tablename__ = "applied_batches"
    __table_args__ = (Index("ix_applied_batches_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class RegisteredModelRow(Base):
    __tablename__ = "registered_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class RegisteredModelTagRow(Base):
    __tablename__ = "registered_model_tags"

    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersionRow(Base):
    """One registered version: its package is the blob ``package_digest`` (MODEL.yaml)."""

    __tablename__ = "model_versions"

    pk: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"))
    number: Mapped[int] = mapped_column(Integer)
    package_digest: Mapped[str] = mapped_column(String(80))
    flavor: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(1000), default="")
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("model_id", "number", name="uq_model_version_number"),
        Index("ix_model_versions_run", "run_id"),
    )


class ModelVersionTagRow(Base):
    __tablename__ = "model_version_tags"

    version_pk: Mapped[int] = mapped_column(ForeignKey("model_versions.pk"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelAliasRow(Base):
    """Where each alias points now: one row per (model, alias), so an alias is unique."""

    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(250), default="")
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ModelAliasHistoryRow(Base):
    """Every move of an alias; ``before``/``after`` NULL mean created/removed."""

    __tablename__ = "model_alias_history"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"))
    alias: Mapped[str] = mapped_column(String(64))
    before: Mapped[int | None] = mapped_column(Integer, nullable=True)
    after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(250), default="")
    timestamp: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_model_alias_history_model", "model_id", "alias"),)


# -- checks: evaluations of model versions ---------------------------------------------------


class EvaluationRow(Base):
    """One run of a check suite on a model version (``yard check``)."""

    __tablename__ = "evaluations"

    pk: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    version_pk: Mapped[int] = mapped_column(ForeignKey("model_versions.pk"))
    suite_digest: Mapped[str] = mapped_column(String(80))
    data_uri: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16))
    compared_with: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_evaluations_version", "version_pk", "created_at"),)


class EvaluationCheckRow(Base):
    """One check's outcome within an evaluation; ``value`` NULL means nothing was measured."""

    __tablename__ = "evaluation_checks"

    evaluation_pk: Mapped[int] = mapped_column(ForeignKey("evaluations.pk"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[str] = mapped_column(String(250), default="")
    message: Mapped[str] = mapped_column(Text, default="")
