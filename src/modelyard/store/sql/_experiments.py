"""Experiments: named groups of runs, soft-deleted and restorable."""

from __future__ import annotations

import difflib

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from modelyard.domain.names import check_experiment_name
from modelyard.domain.records import Experiment, Lifecycle
from modelyard.errors import AlreadyExists, ExperimentNotFound
from modelyard.store.sql._database import Database, now_ms
from modelyard.store.sql._schema import ExperimentRow, RunRow

_BY_NAME = select(ExperimentRow).where(ExperimentRow.name == bindparam("name"))


def _record(row, run_count: int = 0) -> Experiment:  # type: ignore[no-untyped-def]
    return Experiment(
        row.id, row.name, row.description, Lifecycle(row.lifecycle), row.created_at, run_count
    )


class SqlExperimentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, description: str = "") -> Experiment:
        check_experiment_name(name)
        with self._db.write() as conn:
            return self._insert(conn, name, description)

    def _insert(self, conn: Connection, name: str, description: str) -> Experiment:
        if conn.execute(select(ExperimentRow.id).where(ExperimentRow.name == name)).first():
            raise AlreadyExists(
                f"experiment {name!r} already exists; pick another name or use it as it is"
            )
        row = conn.execute(
            ExperimentRow.__table__.insert()
            .values(name=name, description=description, lifecycle="active", created_at=now_ms())
            .returning(*ExperimentRow.__table__.c)
        ).one()
        self._db.audit(conn, "experiment.create", f"experiments:/{name}", {"id": row.id})
        return _record(row)

    def get(self, name: str) -> Experiment:
        with self._db.read() as conn:
            return self._get(conn, name)

    def _get(self, conn: Connection, name: str) -> Experiment:
        row = conn.execute(select(ExperimentRow).where(ExperimentRow.name == name)).first()
        if row is None:
            names = conn.execute(select(ExperimentRow.name)).scalars().all()
            close = difflib.get_close_matches(name, names, n=1)
            hint = (
                f"; did you mean {close[0]!r}?" if close else "; `yard experiments list` shows them"
            )
            raise ExperimentNotFound(f"no experiment named {name!r}{hint}")
        count = conn.execute(
            select(func.count())
            .select_from(RunRow)
            .where(RunRow.experiment_id == row.id, RunRow.lifecycle == "active")
        ).scalar_one()
        return _record(row, count)

    def get_or_create(self, name: str) -> Experiment:
        """Return the experiment, creating it on first use (safe under concurrency)."""
        check_experiment_name(name)
        with self._db.read() as conn:
            row = conn.execute(select(ExperimentRow).where(ExperimentRow.name == name)).first()
        if row is not None:
            return _record(row)
        try:
            with self._db.write() as conn:
                row = conn.execute(select(ExperimentRow).where(ExperimentRow.name == name)).first()
                return _record(row) if row is not None else self._insert(conn, name, "")
        except AlreadyExists:  # another client created it between our read and our write
            return self.get(name)

    def get_or_insert(self, conn: Connection, name: str) -> Experiment:
        """Inside the caller's write transaction: the experiment, created if missing."""
        row = conn.execute(_BY_NAME, {"name": name}).first()
        if row is not None:
            return _record(row)
        check_experiment_name(name)
        return self._insert(conn, name, "")

    def list(self, *, include_deleted: bool = False) -> list[Experiment]:
        counts = (
            select(RunRow.experiment_id, func.count().label("n"))
            .where(RunRow.lifecycle == "active")
            .group_by(RunRow.experiment_id)
            .subquery()
        )
        stmt = (
            select(ExperimentRow, func.coalesce(counts.c.n, 0).label("run_count"))
            .outerjoin(counts, counts.c.experiment_id == ExperimentRow.id)
            .order_by(ExperimentRow.name)
        )
        if not include_deleted:
            stmt = stmt.where(ExperimentRow.lifecycle == "active")
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        return [_record(row, row.run_count) for row in rows]

    def rename(self, name: str, new_name: str) -> Experiment:
        check_experiment_name(new_name)
        with self._db.write() as conn:
            self._get(conn, name)
            if conn.execute(select(ExperimentRow.id).where(ExperimentRow.name == new_name)).first():
                raise AlreadyExists(f"experiment {new_name!r} already exists; pick another name")
            conn.execute(
                update(ExperimentRow).where(ExperimentRow.name == name).values(name=new_name)
            )
            self._db.audit(
                conn,
                "experiment.rename",
                f"experiments:/{new_name}",
                {"before": name, "after": new_name},
            )
            return self._get(conn, new_name)

    def delete(self, name: str) -> Experiment:
        return self._set_lifecycle(name, Lifecycle.DELETED)

    def restore(self, name: str) -> Experiment:
        return self._set_lifecycle(name, Lifecycle.ACTIVE)

    def _set_lifecycle(self, name: str, lifecycle: Lifecycle) -> Experiment:
        with self._db.write() as conn:
            before = self._get(conn, name)
            conn.execute(
                update(ExperimentRow)
                .where(ExperimentRow.name == name)
                .values(lifecycle=lifecycle.value)
            )
            action = "experiment.delete" if lifecycle is Lifecycle.DELETED else "experiment.restore"
            self._db.audit(
                conn,
                action,
                f"experiments:/{name}",
                {"before": before.lifecycle.value, "after": lifecycle.value},
            )
            return self._get(conn, name)
