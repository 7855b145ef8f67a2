"""Request bodies -> validated columns, checked against the model signature.

Every problem is collected (missing column, wrong type, null where a value is required,
unknown category) and reported by field, so one 422 tells the client everything to fix.
Validation works on plain Python lists (a single-row request costs microseconds); the
batcher turns the lists of many requests into one frame or matrix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelyard.models import Signature

MAX_PROBLEMS = 100
UNKNOWN_CATEGORY_POLICIES = ("error", "allow")

_INT = frozenset({"int8", "int16", "int32", "int64"})
_UINT = frozenset({"uint8", "uint16", "uint32", "uint64"})
_FLOAT = frozenset({"float16", "float32", "float64"})
_TEXT = frozenset({"string", "category"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request: which field, which row, what, and what to do."""

    field: str
    problem: str  # missing | wrong_type | null | unknown_category | malformed
    message: str
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "problem": self.problem}
        if self.row is not None:
            data["row"] = self.row
        data["message"] = self.message
        return data


class RequestInvalid(Exception):
    """The request cannot be scored; carries every problem found (HTTP 422)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)[:MAX_PROBLEMS]
        first = self.problems[0].message if self.problems else "invalid input"
        more = len(problems) - 1
        super().__init__(first + (f" (and {more} more problems)" if more > 0 else ""))


@dataclass(slots=True)
class Columns:
    """Validated input: one list of values per signature column, all of length ``rows``."""

    values: dict[str, list[Any]]
    rows: int
    extra: dict[str, Any] = field(default_factory=dict)


class Validator:
    """Checks columns against a signature. ``categories`` maps a column to its known values
    (read from the model's encoders); ``unknown_category`` is ``error`` (422) or ``allow``."""

    def __init__(
        self,
        signature: Signature | None,
        *,
        categories: Mapping[str, frozenset[Any]] | None = None,
        unknown_category: str = "error",
    ) -> None:
        if unknown_category not in UNKNOWN_CATEGORY_POLICIES:
            raise ValueError(
                f"unknown_category={unknown_category!r}; use one of "
                f"{', '.join(UNKNOWN_CATEGORY_POLICIES)}"
            )
        self.signature = signature
        self.specs = list(signature.inputs) if signature else []
        self.names = [s.name for s in self.specs]
        self.categories = dict(categories or {})
        self.unknown_category = unknown_category

    # -- body forms ---------------------------------------------------------------------------

    def from_json(self, body: Any) -> Columns:
        """``{"records": [{...}, ...]}`` or ``{"columns": [...], "data": [[...], ...]}``."""
        if not isinstance(body, dict):
            raise RequestInvalid(
                [
                    Problem(
                        "body",
                        "malformed",
                        'the body must be a JSON object: {"records": [...]}'
                        ' or {"columns": [...], "data": [[...]]}',
                    )
                ]
            )
        if "records" in body:
            return self.from_records(body["records"])
        if "columns" in body and "data" in body:
            return self.from_split(body["columns"], body["data"])
        raise RequestInvalid(
            [
                Problem(
                    "body",
                    "malformed",
                    'give the rows as {"records": [{column: value, ...}, ...]} or '
                    '{"columns": [name, ...], "data": [[value, ...], ...]}',
                )
            ]
        )

    def from_records(self, records: Any) -> Columns:
        if not isinstance(records, list) or not records:
            raise RequestInvalid(
                [Problem("records", "malformed", "records must be a non-empty list of objects")]
            )
        problems: list[Problem] = []
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                problems.append(
                    Problem("records", "malformed", f"records[{i}] is not an object", row=i)
                )
        if problems:
            raise RequestInvalid(problems)
        if not self.specs:
            names = list(dict.fromkeys(k for r in records for k in r))
            return Columns({n: [r.get(n) for r in records] for n in names}, len(records))
        columns = {n: [r.get(n, _MISSING) for r in records] for n in self.names}
        return self.check(columns, len(records))

    def from_split(self, names: Any, data: Any) -> Columns:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RequestInvalid(
                [Problem("columns", "malformed", "columns must be a list of names")]
            )
        if not isinstance(data, list) or not data:
            raise RequestInvalid(
                [Problem("data", "malformed", "data must be a non-empty list of rows")]
            )
        width = len(names)
        bad = [i for i, row in enumerate(data) if not isinstance(row, list) or len(row) != width]
        if bad:
            raise RequestInvalid(
                [
                    Problem(
                        "data", "malformed", f"data[{i}] is not a list of {width} values", row=i
                    )
                    for i in bad
                ]
            )
        index = {n: j for j, n in enumerate(names)}
        wanted = self.names or names
        columns = {
            n: ([row[index[n]] for row in data] if n in index else [_MISSING] * len(data))
            for n in wanted
        }
        if not self.specs:
            return Columns(columns, len(data))
        return self.check(columns, len(data))

    def from_frame(self, frame: Any) -> Columns:
        """A parsed CSV upload: pandas NaN/None become nulls."""
        import pandas as pd

        present = set(map(str, frame.columns))
        columns: dict[str, list[Any]] = {}
        for name in self.names or [str(c) for c in frame.columns]:
            if name not in present:
                columns[name] = [_MISSING] * len(frame)
                continue
            values = frame[name].tolist()
            columns[name] = [None if _is_na(v, pd) else v for v in values]
        if not self.specs:
            return Columns(columns, len(frame))
        return self.check(columns, len(frame), lenient_numbers=True)

    # -- the checks ---------------------------------------------------------------------------

    def check(
        self, columns: dict[str, list[Any]], rows: int, *, lenient_numbers: bool = False
    ) -> Columns:
        problems: list[Problem] = []
        for spec in self.specs:
            values = columns[spec.name]
            if values and values[0] is _MISSING and all(v is _MISSING for v in values):
                if spec.required:
                    problems.append(
                        Problem(
                            spec.name,
                            "missing",
                            f"missing required column {spec.name!r} ({spec.type})",
                        )
                    )
                    continue
                columns[spec.name] = [None] * rows
                continue
            check = _CHECKS.get(spec.type, _check_any)
            known = self.categories.get(spec.name) if self.unknown_category == "error" else None
            for row, value in enumerate(values):
                if value is None or value is _MISSING:
                    if spec.required:
                        kind = "missing" if value is _MISSING else "null"
                        problems.append(
                            Problem(
                                spec.name,
                                kind,
                                f"{spec.name!r} is {'missing' if kind == 'missing' else 'null'} "
                                f"in row {row}; a {spec.type} value is required",
                                row=row,
                            )
                        )
                    else:
                        values[row] = None
                    continue
                fixed = check(value)
                if fixed is _BAD and lenient_numbers and isinstance(value, str):
                    fixed = _parse_number(value, spec.type)
                if fixed is _BAD:
                    problems.append(
                        Problem(
                            spec.name,
                            "wrong_type",
                            f"{spec.name!r} in row {row} is {_describe(value)}, expected "
                            f"{spec.type}",
                            row=row,
                        )
                    )
                    continue
                if fixed is not value:
                    values[row] = fixed
                if known is not None and fixed not in known:
                    choices = ", ".join(map(repr, sorted(map(str, known))[:10]))
                    problems.append(
                        Problem(
                            spec.name,
                            "unknown_category",
                            f"{spec.name!r} in row {row} is {fixed!r}, which the model never "
                            f"saw; known values: {choices}",
                            row=row,
                        )
                    )
                if len(problems) >= MAX_PROBLEMS:
                    break
        if problems:
            raise RequestInvalid(problems)
        return Columns({n: columns[n] for n in self.names}, rows)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
_BAD: Any = object()


def _describe(value: Any) -> str:
    kind = {
        bool: "a boolean",
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} ({text[:40]}{'...' if len(text) > 40 else ''})"


def _is_na(value: Any, pd: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _check_float(value: Any) -> Any:
    if type(value) is float or (type(value) is int):
        return value
    return _BAD


def _check_int(value: Any) -> Any:
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value) and value.is_integer():
        return int(value)
    return _BAD


def _check_uint(value: Any) -> Any:
    fixed = _check_int(value)
    return fixed if fixed is _BAD or fixed >= 0 else _BAD


def _check_bool(value: Any) -> Any:
    return value if type(value) is bool else _BAD


def _check_text(value: Any) -> Any:
    return value if type(value) is str else _BAD


def _check_datetime(value: Any) -> Any:
    return value if type(value) in (str, int, float) else _BAD


def _check_any(value: Any) -> Any:
    return value


def _parse_number(text: str, type_name: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return _BAD
    if type_name in _FLOAT:
        return number
    return _check_int(number) if type_name in _INT or type_name in _UINT else _BAD


_CHECKS: dict[str, Any] = {
    **dict.fromkeys(_FLOAT, _check_float),
    **dict.fromkeys(_INT, _check_int),
    **dict.fromkeys(_UINT, _check_uint),
    "bool": _check_bool,
    **dict.fromkeys(_TEXT, _check_text),
    "datetime": _check_datetime,
}


def known_categories(raw: Any, names: Sequence[str]) -> dict[str, frozenset[Any]]:
    """Categories of string inputs as the model's scikit-learn encoders learned them
    (OneHotEncoder / OrdinalEncoder inside Pipelines and ColumnTransformers)."""
    found: dict[str, set[Any]] = {}
    wanted = set(names)
    seen: set[int] = set()
    stack = [raw]
    while stack:
        node = stack.pop()
        if id(node) in seen or node is None:
            continue
        seen.add(id(node))
        categories = getattr(node, "categories_", None)
        features = getattr(node, "feature_names_in_", None)
        if isinstance(categories, list) and features is not None:
            for name, values in zip(list(features), categories, strict=False):
                if name in wanted and getattr(node, "handle_unknown", "error") == "error":
                    found.setdefault(str(name), set()).update(v for v in values.tolist())
        for attr in ("steps", "transformers_"):
            for item in getattr(node, attr, None) or ():
                if isinstance(item, tuple) and len(item) >= 2:
                    stack.append(item[1])
    return {k: frozenset(v) for k, v in found.items()}
