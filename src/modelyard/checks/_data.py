"""Data checks on table profiles: rows, nulls, and the schema against a reference profile.

They read only profiles (computed once per dataset version when it is added), so checking a
new data version against the training one costs no pass over the rows. The schema check
covers columns (missing ones), types (numbers stay numbers), ranges (numeric min/max within
the reference range, widened by ``range_tolerance`` of its span) and categories (no new values
in a text column whose reference categories are all known).
"""

from __future__ import annotations

from modelyard.checks._suite import DataSpec
from modelyard.domain.datasets import ColumnProfile, TableProfile
from modelyard.domain.evaluations import CheckOutcome, CheckStatus

_NUMBER_HINTS = ("int", "float", "double", "decimal")
_SHOWN = 5


def data_outcomes(
    spec: DataSpec,
    current: TableProfile | None,
    reference: TableProfile | None,
    reference_uri: str | None,
) -> list[CheckOutcome]:
    outcomes: list[CheckOutcome] = []
    if current is None:
        return [
            CheckOutcome(
                "data.profile",
                "data",
                CheckStatus.ERROR,
                None,
                "",
                "the evaluation data has no table profile; use a Parquet or CSV file",
            )
        ]
    if spec.min_rows is not None:
        outcomes.append(
            _bound("data.min_rows", current.rows, ">=", spec.min_rows, f"{current.rows:,} rows")
        )
    if spec.max_null_fraction is not None:
        worst = sorted(current.columns, key=lambda c: -c.null_fraction)
        over = [c for c in worst if c.null_fraction > spec.max_null_fraction]
        value = worst[0].null_fraction if worst else 0.0
        outcomes.append(
            _outcome(
                "data.max_null_fraction",
                not over,
                value,
                f"<= {spec.max_null_fraction:g}",
                "columns over the limit: "
                + _listed(f"{c.name} ({c.null_fraction:.2%})" for c in over)
                if over
                else f"largest null fraction {value:.2%}"
                + (f" ({worst[0].name})" if worst else ""),
            )
        )
    if spec.schema_reference is not None:
        outcomes.extend(_schema(spec, current, reference, reference_uri))
    return outcomes


def _schema(
    spec: DataSpec,
    current: TableProfile,
    reference: TableProfile | None,
    reference_uri: str | None,
) -> list[CheckOutcome]:
    against = reference_uri or spec.schema_reference
    if reference is None:
        return [
            CheckOutcome(
                "data.schema",
                "data",
                CheckStatus.ERROR,
                None,
                f"matches {against}",
                f"no table profile for the reference {against}; point data.schema.reference "
                "at a tabular dataset version",
            )
        ]
    missing = [c.name for c in reference.columns if current.column(c.name) is None]
    types, ranges, categories = [], [], []
    for ref in reference.columns:
        now = current.column(ref.name)
        if now is None:
            continue
        if _family(ref.type) != _family(now.type):
            types.append(f"{ref.name} ({ref.type} -> {now.type})")
            continue
        if _family(ref.type) == "number":
            problem = _range(ref, now, spec.range_tolerance)
            if problem:
                ranges.append(problem)
        elif ref.top and ref.distinct is not None and ref.distinct <= len(ref.top):
            known = {value for value, _ in ref.top}
            new = [value for value, _ in now.top if value not in known]
            if new:
                categories.append(f"{ref.name} (new: {_listed(new)})")
    extra = [c.name for c in current.columns if reference.column(c.name) is None]
    return [
        _outcome(
            "data.schema.columns",
            not missing,
            float(len(missing)),
            f"all columns of {against}",
            f"missing columns: {_listed(missing)}"
            if missing
            else f"{len(reference.columns)} columns present"
            + (f"; extra: {_listed(extra)}" if extra else ""),
        ),
        _outcome(
            "data.schema.types",
            not types,
            float(len(types)),
            f"types of {against}",
            f"changed types: {_listed(types)}" if types else "types match",
        ),
        _outcome(
            "data.schema.ranges",
            not ranges,
            float(len(ranges)),
            f"within {against} ranges (+{spec.range_tolerance:.0%})",
            f"out of range: {_listed(ranges)}" if ranges else "numeric columns in range",
        ),
        _outcome(
            "data.schema.categories",
            not categories,
            float(len(categories)),
            f"categories of {against}",
            f"unseen categories: {_listed(categories)}" if categories else "no new categories",
        ),
    ]


def _family(arrow_type: str) -> str:
    lowered = arrow_type.lower()
    if any(hint in lowered for hint in _NUMBER_HINTS):
        return "number"
    if lowered in ("string", "large_string") or lowered.startswith("dictionary"):
        return "text"
    return lowered


def _range(ref: ColumnProfile, now: ColumnProfile, tolerance: float) -> str | None:
    if not all(isinstance(v, (int, float)) for v in (ref.min, ref.max, now.min, now.max)):
        return None
    low, high = float(ref.min), float(ref.max)  # type: ignore[arg-type]
    margin = (high - low) * tolerance
    if float(now.min) < low - margin or float(now.max) > high + margin:  # type: ignore[arg-type]
        return f"{ref.name} [{now.min:g}, {now.max:g}] vs [{low:g}, {high:g}]"
    return None


def _bound(name: str, value: float, op: str, limit: float, message: str) -> CheckOutcome:
    ok = value >= limit if op == ">=" else value <= limit
    return _outcome(name, ok, float(value), f"{op} {limit:g}", message)


def _outcome(name: str, ok: bool, value: float, threshold: str, message: str) -> CheckOutcome:
    status = CheckStatus.PASSED if ok else CheckStatus.FAILED
    return CheckOutcome(name, "data", status, value, threshold, message)


def _listed(items) -> str:  # type: ignore[no-untyped-def]
    items = list(items)
    shown = ", ".join(str(i) for i in items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")
