"""Evaluations of model versions: one row per suite run, one row per check outcome.

Storing an evaluation is one write transaction: the evaluation, its checks, the lineage edges
(``data:churn@5 -used_by-> evaluations:/<id>``, ``models:/churn/4 -evaluated_by->
evaluations:/<id>``, and the compared version ``-compared_in->``) and the audit event.
"""

from __future__ import annotations

import math
import uuid

from sqlalchemy import select
from sqlalchemy.engine import Connection

from modelyard.domain.evaluations import (
    CheckOutcome,
    CheckStatus,
    Evaluation,
    NewEvaluation,
)
from modelyard.domain.models import model_version_uri
from modelyard.errors import ModelNotFound, NotFound
from modelyard.store.sql._database import Database, dialect_module, now_ms
from modelyard.store.sql._schema import (
    EvaluationCheckRow,
    EvaluationRow,
    LineageRow,
    ModelVersionRow,
    RegisteredModelRow,
)

EVALUATED_BY = "evaluated_by"
USED_BY = "used_by"
COMPARED_IN = "compared_in"


class SqlEvaluationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, new: NewEvaluation) -> Evaluation:
        """Store ``new`` on its model version; the version must exist."""
        evaluation_id = uuid.uuid4().hex
        created = now_ms()
        with self._db.write() as conn:
            version_pk = _version_pk(conn, new.model, new.number)
            pk = conn.execute(
                EvaluationRow.__table__.insert().returning(EvaluationRow.pk),
                {
                    "id": evaluation_id,
                    "version_pk": version_pk,
                    "suite_digest": new.suite_digest,
                    "data_uri": new.data_uri,
                    "status": new.status.value,
                    "compared_with": new.compared_with,
                    "duration_ms": new.duration_ms,
                    "created_by": self._db.actor,
                    "created_at": created,
                },
            ).scalar_one()
            if new.outcomes:
                conn.execute(
                    EvaluationCheckRow.__table__.insert(),
                    [
                        {
                            "evaluation_pk": pk,
                            "position": i,
                            "name": o.name,
                            "kind": o.kind,
                            "status": o.status.value,
                            "value": _stored(o.value),
                            "threshold": o.threshold,
                            "message": o.message,
                        }
                        for i, o in enumerate(new.outcomes)
                    ],
                )
            target = f"evaluations:/{evaluation_id}"
            model_uri = model_version_uri(new.model, new.number)
            edges = [(model_uri, EVALUATED_BY)]
            if new.data_uri.startswith("data:"):
                edges.append((new.data_uri, USED_BY))
            if new.compared_with:
                edges.append((new.compared_with, COMPARED_IN))
            dialect = dialect_module(conn.dialect.name)
            conn.execute(
                dialect.insert(LineageRow).on_conflict_do_nothing(),
                [
                    {"source": s, "target": target, "relation": r, "created_at": created}
                    for s, r in edges
                ],
            )
            failed = [o.name for o in new.outcomes if o.status is not CheckStatus.PASSED]
            self._db.audit(
                conn,
                "model.evaluation.create",
                model_uri,
                {
                    "evaluation": evaluation_id,
                    "status": new.status.value,
                    "suite": new.suite_digest,
                    "data": new.data_uri,
                    "compared_with": new.compared_with,
                    "checks": len(new.outcomes),
                    "not_passed": failed[:20],
                },
            )
        return Evaluation(
            id=evaluation_id,
            model=new.model,
            number=new.number,
            suite_digest=new.suite_digest,
            data_uri=new.data_uri,
            status=new.status,
            outcomes=tuple(new.outcomes),
            compared_with=new.compared_with,
            duration_ms=new.duration_ms,
            created_by=self._db.actor,
            created_at=created,
        )

    def get(self, evaluation_id: str) -> Evaluation:
        with self._db.read() as conn:
            row = conn.execute(_joined().where(EvaluationRow.id == evaluation_id)).first()
            if row is None:
                raise NotFound(
                    f"no evaluation {evaluation_id!r}; `yard models checks <model>/<version>` "
                    "lists the evaluations of a version"
                )
            return _evaluations(conn, [row])[0]

    def list(self, model: str, number: int, *, limit: int = 100) -> list[Evaluation]:
        """Evaluations of one version, newest first."""
        with self._db.read() as conn:
            version_pk = _version_pk(conn, model, number)
            rows = conn.execute(
                _joined()
                .where(EvaluationRow.version_pk == version_pk)
                .order_by(EvaluationRow.created_at.desc(), EvaluationRow.pk.desc())
                .limit(limit)
            ).all()
            return _evaluations(conn, rows)


def _joined():  # type: ignore[no-untyped-def]
    return (
        select(EvaluationRow, ModelVersionRow.number, RegisteredModelRow.name)
        .join(ModelVersionRow, ModelVersionRow.pk == EvaluationRow.version_pk)
        .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.model_id)
    )


def _version_pk(conn: Connection, model: str, number: int) -> int:
    pk = conn.execute(
        select(ModelVersionRow.pk)
        .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.model_id)
        .where(RegisteredModelRow.name == model, ModelVersionRow.number == number)
    ).scalar()
    if pk is None:
        raise ModelNotFound(
            f"model {model!r} has no version {number}; `yard models versions {model}` lists them"
        )
    return pk


def _evaluations(conn: Connection, rows) -> list[Evaluation]:  # type: ignore[no-untyped-def]
    if not rows:
        return []
    checks: dict[int, list[CheckOutcome]] = {}
    for c in conn.execute(
        select(EvaluationCheckRow)
        .where(EvaluationCheckRow.evaluation_pk.in_([r.pk for r in rows]))
        .order_by(EvaluationCheckRow.evaluation_pk, EvaluationCheckRow.position)
    ).all():
        checks.setdefault(c.evaluation_pk, []).append(
            CheckOutcome(c.name, c.kind, CheckStatus(c.status), c.value, c.threshold, c.message)
        )
    return [
        Evaluation(
            id=r.id,
            model=r.name,
            number=r.number,
            suite_digest=r.suite_digest,
            data_uri=r.data_uri,
            status=CheckStatus(r.status),
            outcomes=tuple(checks.get(r.pk, ())),
            compared_with=r.compared_with,
            duration_ms=r.duration_ms,
            created_by=r.created_by,
            created_at=r.created_at,
        )
        for r in rows
    ]


def _stored(value: float | None) -> float | None:
    """NaN and infinities are stored as NULL (nothing finite was measured)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
