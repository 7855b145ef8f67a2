"""Runs: creation and end, params, tags, metric points, artifacts, search, soft deletion."""

from __future__ import annotations

import base64
import functools
import json
import math
from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from modelyard.domain.filters import parse_filter, parse_order_by
from modelyard.domain.records import (
    Artifact,
    Lifecycle,
    Metric,
    NewRun,
    Page,
    Run,
    RunStatus,
)
from modelyard.errors import (
    AlreadyExists,
    InvalidState,
    InvalidValue,
    ParamConflict,
    RunNotFound,
)
from modelyard.store.sql._database import Database, dialect_module
from modelyard.store.sql._schema import (
    ArtifactRow,
    ExperimentRow,
    LatestMetricRow,
    MetricRow,
    ParamRow,
    RunRow,
    TagRow,
)
from modelyard.store.sql._search import apply_order, filter_clause

MAX_PAGE = 10_000
_INSERT_RUN = insert(RunRow).returning(RunRow.pk)
_END_RUN = (
    update(RunRow)
    .where(RunRow.pk == bindparam("b_pk"))
    .values(status=bindparam("b_status"), end_time=bindparam("b_end_time"))
)
_PARAMS_OF_RUN = select(ParamRow.key, ParamRow.value).where(
    ParamRow.run_pk == bindparam("pk"), ParamRow.key.in_(bindparam("keys", expanding=True))
)
_RUN_BY_ID = (
    select(RunRow, ExperimentRow.name.label("experiment_name"))
    .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
    .where(RunRow.id == bindparam("run_id"))
)
_ARTIFACTS_BY_RUN_ID = (
    select(ArtifactRow.path, ArtifactRow.digest, ArtifactRow.size)
    .join(RunRow, RunRow.pk == ArtifactRow.run_pk)
    .where(RunRow.id == bindparam("run_id"))
    .order_by(ArtifactRow.path)
)


def _upsert(conn: Connection, table):  # type: ignore[no-untyped-def]
    return dialect_module(conn.dialect.name).insert(table)


class SqlRunStore:
    def __init__(self, db: Database, experiments) -> None:  # type: ignore[no-untyped-def]
        self._db = db
        self._experiments = experiments

    # -- life cycle ---------------------------------------------------------------------------

    def create(self, new: NewRun) -> Run:
        """Insert a RUNNING run (and its experiment on first use) in one transaction.

        Clients creating the first runs of a new experiment at once race to insert it (on
        PostgreSQL the losers get a unique violation): a loser retries once and finds it."""
        try:
            return self._create(new)
        except AlreadyExists:
            return self._create(new)

    def _create(self, new: NewRun) -> Run:
        with self._db.write() as conn:
            experiment = self._experiments.get_or_insert(conn, new.experiment_name)
            if new.parent_id is not None:
                self._row(conn, new.parent_id)
            pk = conn.execute(
                _INSERT_RUN,
                {
                    "id": new.id,
                    "experiment_id": experiment.id,
                    "name": new.name,
                    "status": RunStatus.RUNNING.value,
                    "start_time": new.start_time,
                    "end_time": None,
                    "parent_id": new.parent_id,
                    "user": new.user,
                    "host": new.host,
                    "command": new.command,
                    "git_commit": new.git_commit,
                    "git_dirty": new.git_dirty,
                    "environment_digest": new.environment_digest,
                    "lifecycle": Lifecycle.ACTIVE.value,
                },
            ).scalar_one()
            if new.tags:
                conn.execute(
                    insert(TagRow),
                    [{"run_pk": pk, "key": k, "value": v} for k, v in new.tags.items()],
                )
            self._db.audit(
                conn,
                "run.create",
                f"runs:/{new.id}",
                {"experiment": experiment.name, "name": new.name, "parent": new.parent_id},
            )
        return Run(
            id=new.id,
            experiment_id=experiment.id,
            experiment_name=experiment.name,
            name=new.name,
            status=RunStatus.RUNNING,
            start_time=new.start_time,
            end_time=None,
            parent_id=new.parent_id,
            user=new.user,
            host=new.host,
            command=new.command,
            git_commit=new.git_commit,
            git_dirty=new.git_dirty,
            environment_digest=new.environment_digest,
            lifecycle=Lifecycle.ACTIVE,
            tags=dict(new.tags),
        )

    def end(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        last_points: Sequence[Metric] = (),
        last_params: Mapping[str, str] | None = None,
    ) -> None:
        """Move the run to a terminal status, storing its last params and points in the same
        transaction."""
        with self._db.write() as conn:
            row = self._row(conn, run_id)
            RunStatus(row.status).check_transition(status, run_id)
            if last_params:
                self._append_params(conn, row.pk, run_id, last_params)
            if last_points:
                self._append_points(conn, row.pk, run_id, last_points)
            conn.execute(
                _END_RUN, {"b_pk": row.pk, "b_status": status.value, "b_end_time": end_time}
            )
            self._db.audit(
                conn, "run.end", f"runs:/{run_id}", {"before": row.status, "after": status.value}
            )

    def delete(self, run_id: str) -> Run:
        return self._set_lifecycle(run_id, Lifecycle.DELETED)

    def restore(self, run_id: str) -> Run:
        return self._set_lifecycle(run_id, Lifecycle.ACTIVE)

    def _set_lifecycle(self, run_id: str, lifecycle: Lifecycle) -> Run:
        with self._db.write() as conn:
            row = self._row(conn, run_id)
            conn.execute(
                update(RunRow).where(RunRow.pk == row.pk).values(lifecycle=lifecycle.value)
            )
            action = "run.delete" if lifecycle is Lifecycle.DELETED else "run.restore"
            self._db.audit(
                conn, action, f"runs:/{run_id}", {"before": row.lifecycle, "after": lifecycle.value}
            )
        return self.get(run_id)

    # -- logging ------------------------------------------------------------------------------

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Params are write-once: the same value again is fine, a different one is refused."""
        if not params:
            return
        with self._db.write() as conn:
            self._append_params(conn, self._running_row(conn, run_id).pk, run_id, params)

    def _append_params(
        self, conn: Connection, pk: int, run_id: str, params: Mapping[str, str]
    ) -> None:
        existing = dict(conn.execute(_PARAMS_OF_RUN, {"pk": pk, "keys": list(params)}).all())
        for key, old in existing.items():
            if old != params[key]:
                raise ParamConflict(
                    f"param {key!r} of run {run_id} is already {old!r}, cannot change it to "
                    f"{params[key]!r}; params are fixed once logged - use a tag or a metric "
                    "for values that change"
                )
        new = [{"run_pk": pk, "key": k, "value": v} for k, v in params.items() if k not in existing]
        if new:
            conn.execute(insert(ParamRow), new)
            self._db.audit(conn, "run.log_params", f"runs:/{run_id}", {"params": dict(params)})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        if not tags:
            return
        with self._db.write() as conn:
            row = self._row(conn, run_id)
            stmt = _upsert(conn, TagRow)
            stmt = stmt.on_conflict_do_update(
                index_elements=[TagRow.run_pk, TagRow.key], set_={"value": stmt.excluded.value}
            )
            conn.execute(stmt, [{"run_pk": row.pk, "key": k, "value": v} for k, v in tags.items()])
            self._db.audit(conn, "run.set_tags", f"runs:/{run_id}", {"tags": dict(tags)})

    def log_batch(self, run_id: str, params: Mapping[str, str], points: Sequence[Metric]) -> None:
        """Params and metric points of one run in one transaction (what the batcher writes)."""
        if not params and not points:
            return
        with self._db.write() as conn:
            pk = self._running_row(conn, run_id).pk
            if params:
                self._append_params(conn, pk, run_id, params)
            if points:
                self._append_points(conn, pk, run_id, points)

    def log_metrics(self, run_id: str, points: Sequence[Metric]) -> None:
        """Append points in one transaction and advance each key's latest value."""
        if not points:
            return
        with self._db.write() as conn:
            self._append_points(conn, self._running_row(conn, run_id).pk, run_id, points)

    def _append_points(
        self, conn: Connection, pk: int, run_id: str, points: Sequence[Metric]
    ) -> None:
        latest: dict[str, Metric] = {}
        for p in points:
            best = latest.get(p.key)
            if best is None or (p.step, p.timestamp) >= (best.step, best.timestamp):
                latest[p.key] = p
        _insert_points(conn, pk, points)
        conn.execute(
            _latest_upsert(conn.dialect.name),
            [
                {
                    "run_pk": pk,
                    "key": m.key,
                    "value": None if math.isnan(m.value) else m.value,
                    "step": m.step,
                    "timestamp": m.timestamp,
                }
                for m in latest.values()
            ],
        )
        self._db.audit(
            conn,
            "run.log_metrics",
            f"runs:/{run_id}",
            {"points": len(points), "keys": sorted(latest)[:50]},
        )

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        with self._db.read() as conn:
            pk = self._row(conn, run_id).pk
            rows = conn.execute(
                select(MetricRow.value, MetricRow.step, MetricRow.timestamp)
                .where(MetricRow.run_pk == pk, MetricRow.key == key)
                .order_by(MetricRow.step, MetricRow.timestamp, MetricRow.id)
            ).all()
        return [Metric(key, math.nan if v is None else v, s, t) for v, s, t in rows]

    def add_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        if not artifacts:
            return
        with self._db.write() as conn:
            row = self._running_row(conn, run_id)
            stmt = _upsert(conn, ArtifactRow)
            stmt = stmt.on_conflict_do_update(
                index_elements=[ArtifactRow.run_pk, ArtifactRow.path],
                set_={"digest": stmt.excluded.digest, "size": stmt.excluded.size},
            )
            conn.execute(
                stmt,
                [
                    {"run_pk": row.pk, "path": a.path, "digest": a.digest, "size": a.size}
                    for a in artifacts
                ],
            )
            self._db.audit(
                conn,
                "run.log_artifacts",
                f"runs:/{run_id}",
                {"artifacts": {a.path: a.digest for a in artifacts[:100]}},
            )

    def artifacts(self, run_id: str) -> list[Artifact]:
        with self._db.read() as conn:
            rows = conn.execute(_ARTIFACTS_BY_RUN_ID, {"run_id": run_id}).all()
            if not rows:
                self._row(conn, run_id)  # an unknown run is an error, not an empty list
        return [Artifact(*r) for r in rows]

    # -- reading ------------------------------------------------------------------------------

    def get(self, run_id: str) -> Run:
        with self._db.read() as conn:
            row = self._row(conn, run_id)
            return self._hydrate(conn, [row])[0]

    def search(
        self,
        experiments: Sequence[str] = (),
        *,
        filter: str | None = None,
        order_by: Sequence[str] = (),
        limit: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> Page:
        """Runs matching ``filter`` in the named experiments (all when empty), one page."""
        if not 0 < limit <= MAX_PAGE:
            raise InvalidValue(
                f"limit must be between 1 and {MAX_PAGE}, got {limit}", field="limit"
            )
        expr = parse_filter(filter)
        offset = _decode_token(page_token)
        stmt = select(RunRow, ExperimentRow.name.label("experiment_name")).join(
            ExperimentRow, ExperimentRow.id == RunRow.experiment_id
        )
        if experiments:
            stmt = stmt.where(RunRow.experiment_id.in_(self._experiment_ids(experiments)))
        if not include_deleted:
            stmt = stmt.where(RunRow.lifecycle == Lifecycle.ACTIVE.value)
            stmt = stmt.where(ExperimentRow.lifecycle == Lifecycle.ACTIVE.value)
        if expr is not None:
            stmt = stmt.where(filter_clause(expr))
        stmt = apply_order(stmt, parse_order_by(order_by)).offset(offset).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
            more = len(rows) > limit
            runs = self._hydrate(conn, rows[:limit])
        token = _encode_token(offset + limit) if more else None
        return Page(tuple(runs), token)

    def _experiment_ids(self, names: Sequence[str]) -> list[int]:
        with self._db.read() as conn:
            found = dict(
                conn.execute(
                    select(ExperimentRow.name, ExperimentRow.id).where(
                        ExperimentRow.name.in_(list(names))
                    )
                ).all()
            )
        for name in names:
            if name not in found:
                self._experiments.get(name)  # raises ExperimentNotFound with a suggestion
        return list(found.values())

    def _row(self, conn: Connection, run_id: str):  # type: ignore[no-untyped-def]
        row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).first()
        if row is None:
            raise RunNotFound(f"no run with id {run_id!r}; `yard runs list` shows the runs")
        return row

    def _running_row(self, conn: Connection, run_id: str):  # type: ignore[no-untyped-def]
        row = self._row(conn, run_id)
        if row.status != RunStatus.RUNNING.value:
            raise InvalidState(
                f"run {run_id} is {row.status}; log to a RUNNING run (start a new run, or "
                "resume this one with yard.start_run(run_id=...))"
            )
        return row

    def _hydrate(self, conn: Connection, rows: Sequence) -> list[Run]:  # type: ignore[type-arg]
        pks = [r.pk for r in rows]
        params: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        tags: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        metrics: dict[int, dict[str, Metric]] = {pk: {} for pk in pks}
        if pks:
            for pk, k, v in conn.execute(
                select(ParamRow.run_pk, ParamRow.key, ParamRow.value).where(
                    ParamRow.run_pk.in_(pks)
                )
            ):
                params[pk][k] = v
            for pk, k, v in conn.execute(
                select(TagRow.run_pk, TagRow.key, TagRow.value).where(TagRow.run_pk.in_(pks))
            ):
                tags[pk][k] = v
            for pk, k, v, s, t in conn.execute(
                select(
                    LatestMetricRow.run_pk,
                    LatestMetricRow.key,
                    LatestMetricRow.value,
                    LatestMetricRow.step,
                    LatestMetricRow.timestamp,
                ).where(LatestMetricRow.run_pk.in_(pks))
            ):
                metrics[pk][k] = Metric(k, math.nan if v is None else v, s, t)
        return [
            Run(
                id=r.id,
                experiment_id=r.experiment_id,
                experiment_name=r.experiment_name,
                name=r.name,
                status=RunStatus(r.status),
                start_time=r.start_time,
                end_time=r.end_time,
                parent_id=r.parent_id,
                user=r.user,
                host=r.host,
                command=r.command,
                git_commit=r.git_commit,
                git_dirty=r.git_dirty,
                environment_digest=r.environment_digest,
                lifecycle=Lifecycle(r.lifecycle),
                params=dict(sorted(params[r.pk].items())),
                metrics=dict(sorted(metrics[r.pk].items())),
                tags=dict(sorted(tags[r.pk].items())),
            )
            for r in rows
        ]


@functools.cache
def _latest_upsert(dialect: str):  # type: ignore[no-untyped-def]
    """Insert-or-advance of latest_metrics: only a later (step, timestamp) replaces a value."""
    stmt = dialect_module(dialect).insert(LatestMetricRow)
    newer = (stmt.excluded.step > LatestMetricRow.step) | (
        (stmt.excluded.step == LatestMetricRow.step)
        & (stmt.excluded.timestamp >= LatestMetricRow.timestamp)
    )
    return stmt.on_conflict_do_update(
        index_elements=[LatestMetricRow.run_pk, LatestMetricRow.key],
        set_={
            "value": stmt.excluded.value,
            "step": stmt.excluded.step,
            "timestamp": stmt.excluded.timestamp,
        },
        where=newer,
    )


def _insert_points(conn: Connection, run_pk: int, points: Sequence[Metric]) -> None:
    """The ingest hot path: one DBAPI ``executemany`` of plain tuples.

    Building a dict per row for SQLAlchemy costs more than SQLite's own insert, so this one
    statement bypasses parameter processing; values are still bound, never formatted in.
    """
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c) for c in ("run_pk", "key", "value", "step", "timestamp"))
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * 5)
    sql = f"INSERT INTO {quote(MetricRow.__tablename__)} ({columns}) VALUES ({marks})"
    isnan = math.isnan
    conn.exec_driver_sql(
        sql,
        [(run_pk, p.key, None if isnan(p.value) else p.value, p.step, p.timestamp) for p in points],
    )


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidValue(
            "page token is not one this store issued; pass the next_token of the previous page",
            field="page_token",
        ) from exc
    return offset
