"""Compile parsed search filters and order-by clauses (``modelyard.domain.filters``) to SQL.

Every value from a filter becomes a bound parameter; nothing the user typed is formatted into
SQL text. Only portable constructs are used, so the statements run on SQLite and PostgreSQL.

- A metric, param or tag comparison is ``runs.pk IN (SELECT run_pk FROM <table> WHERE key = :k
  AND value <op> :v)``, which the (key, value) indexes serve. ``!=`` and ``not in`` therefore
  mean "has the key, with another value"; runs without the key never match, and neither does
  a NaN metric (stored as NULL).
- ``like`` always uses backslash as its escape character, so ``\\%`` and ``\\_`` match a
  literal ``%`` and ``_`` on both backends. Case sensitivity is the backend's (SQLite: ASCII
  case-insensitive; PostgreSQL: case-sensitive).
- Ordering by a metric, param or tag LEFT OUTER JOINs one row of that key per run; runs
  without it (or with a NaN metric, or with no end_time) sort last in both directions. Every
  ordering ends with ``start_time DESC, pk DESC`` so that pages are stable.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from modelyard.domain.filters import And, Comparison, Expr, FieldKind, Op, Or, OrderBy
from modelyard.errors import InvalidInput
from modelyard.store.sql._schema import LatestMetricRow, ParamRow, RunRow, TagRow

_SelectT = TypeVar("_SelectT", bound="Select[Any]")

_KEYED_TABLES: dict[FieldKind, type[LatestMetricRow] | type[ParamRow] | type[TagRow]] = {
    FieldKind.METRIC: LatestMetricRow,
    FieldKind.PARAM: ParamRow,
    FieldKind.TAG: TagRow,
}
_ATTRIBUTE_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "status": RunRow.status,
    "name": RunRow.name,
    "start_time": RunRow.start_time,
    "end_time": RunRow.end_time,
    "run_id": RunRow.id,
    "user": RunRow.user,
    "parent_id": RunRow.parent_id,
}
_INTEGER_ATTRIBUTES = frozenset({"start_time", "end_time"})
_NULLABLE_ATTRIBUTES = frozenset({"end_time"})
_LIKE_ESCAPE = "\\"
_OPERATORS: dict[Op, Callable[[Any, Any], ColumnElement[bool]]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
    Op.LIKE: lambda column, value: column.like(value, escape=_LIKE_ESCAPE),
    Op.NOT_LIKE: lambda column, value: column.not_like(value, escape=_LIKE_ESCAPE),
    Op.IN: lambda column, values: column.in_(values),
    Op.NOT_IN: lambda column, values: column.not_in(values),
}


def filter_clause(expr: Expr) -> ColumnElement[bool]:
    """A WHERE clause over ``RunRow`` selecting the runs that match ``expr``."""
    if isinstance(expr, And):
        return and_(*(filter_clause(term) for term in expr.terms))
    if isinstance(expr, Or):
        return or_(*(filter_clause(term) for term in expr.terms))
    return _comparison(expr)


def apply_order(stmt: _SelectT, order_by: Sequence[OrderBy]) -> _SelectT:
    """Add ORDER BY (and the outer joins it needs) to a select over ``RunRow``.

    Missing values sort last whichever the direction; ties (and an empty ``order_by``) fall
    back to newest first: ``start_time DESC, pk DESC``.
    """
    for clause in order_by:
        field = clause.field
        if field.kind is FieldKind.ATTRIBUTE:
            column: Any = _attribute_column(field.key)
            nullable = field.key in _NULLABLE_ATTRIBUTES
        else:
            row = aliased(_KEYED_TABLES[field.kind])
            stmt = stmt.outerjoin(row, and_(row.run_pk == RunRow.pk, row.key == field.key))
            column, nullable = row.value, True
        if nullable:
            stmt = stmt.order_by(column.is_(None))
        stmt = stmt.order_by(column.desc() if clause.descending else column.asc())
    return stmt.order_by(RunRow.start_time.desc(), RunRow.pk.desc())


def _comparison(comparison: Comparison) -> ColumnElement[bool]:
    field, op, value = comparison.field, comparison.op, comparison.value
    if field.kind is FieldKind.ATTRIBUTE:
        if field.key in _INTEGER_ATTRIBUTES:
            value = _to_int(value)
        return _OPERATORS[op](_attribute_column(field.key), value)
    table = _KEYED_TABLES[field.kind]
    matching = select(table.run_pk).where(
        table.key == field.key, _OPERATORS[op](table.value, value)
    )
    return RunRow.pk.in_(matching)


def _attribute_column(name: str) -> InstrumentedAttribute[Any]:
    try:
        return _ATTRIBUTE_COLUMNS[name]
    except KeyError:
        valid = ", ".join(sorted(_ATTRIBUTE_COLUMNS))
        raise InvalidInput(
            f"cannot search on attribute {name!r}; valid attributes are: {valid}", field="filter"
        ) from None


def _to_int(value: Any) -> Any:
    """Times are BIGINT milliseconds: bind whole numbers as int so no backend casts a float."""
    if isinstance(value, tuple):
        return tuple(_to_int(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
