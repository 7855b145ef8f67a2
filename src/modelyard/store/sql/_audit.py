"""Reading the audit trail and the lineage graph."""

from __future__ import annotations

from sqlalchemy import or_, select

from modelyard.domain.records import AuditEvent, LineageEdge
from modelyard.store.sql._database import Database, dialect_module, now_ms
from modelyard.store.sql._schema import AuditRow, LineageRow


class SqlAuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def events(self, *, subject: str | None = None, limit: int = 100) -> list[AuditEvent]:
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if subject is not None:
            stmt = stmt.where(
                or_(AuditRow.subject == subject, AuditRow.subject.like(subject + "/%"))
            )
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        return [
            AuditEvent(r.id, r.timestamp, r.actor, r.action, r.subject, dict(r.detail))
            for r in rows
        ]


class SqlLineageStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, source: str, target: str, relation: str) -> LineageEdge:
        """Record ``source -relation-> target``; adding an existing edge changes nothing."""
        created = now_ms()
        with self._db.write() as conn:
            dialect = dialect_module(conn.dialect.name)
            stmt = (
                dialect.insert(LineageRow)
                .values(source=source, target=target, relation=relation, created_at=created)
                .on_conflict_do_nothing()
                .returning(LineageRow.id)
            )
            if conn.execute(stmt).first() is not None:
                self._db.audit(
                    conn, "lineage.add", source, {"target": target, "relation": relation}
                )
                return LineageEdge(source, target, relation, created)
            row = conn.execute(
                select(LineageRow).where(
                    LineageRow.source == source,
                    LineageRow.target == target,
                    LineageRow.relation == relation,
                )
            ).one()
        return LineageEdge(row.source, row.target, row.relation, row.created_at)

    def upstream(self, uri: str) -> list[LineageEdge]:
        """Edges that point at ``uri``: what it was made from."""
        return self._edges(LineageRow.target == uri)

    def downstream(self, uri: str) -> list[LineageEdge]:
        """Edges that leave ``uri``: what was made from it."""
        return self._edges(LineageRow.source == uri)

    def _edges(self, condition) -> list[LineageEdge]:  # type: ignore[no-untyped-def]
        stmt = select(LineageRow).where(condition).order_by(LineageRow.id)
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        return [LineageEdge(r.source, r.target, r.relation, r.created_at) for r in rows]
