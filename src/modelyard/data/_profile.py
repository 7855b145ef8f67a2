"""Tabular profiles computed with pyarrow: schema, rows, and per-column summaries.

Numbers (integers, floats, decimals): nulls, distinct, min, max, mean, std and quantiles.
Text, booleans and dictionaries: nulls, distinct (cardinality) and the most frequent values.
Dates and times: min and max as ISO text. Every statistic is one vectorised pyarrow call per
column; no Python loop runs over rows.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.domain.datasets import ColumnProfile, TableProfile
from modelyard.errors import InvalidValue

if TYPE_CHECKING:
    import pyarrow as pa

TABULAR_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv"}
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP = 20
MAX_PROFILE_BYTES = 2 << 30  # larger files are versioned without a profile


def tabular_format(path: str | Path) -> str | None:
    return TABULAR_SUFFIXES.get(Path(path).suffix.lower())


def read_table(path: str | Path) -> pa.Table:
    """Read a Parquet or CSV file into an Arrow table; errors name the file."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fmt = tabular_format(path)
    try:
        if fmt == "parquet":
            return pq.read_table(path)
        if fmt == "csv":
            delimiter = "\t" if str(path).lower().endswith(".tsv") else ","
            return pacsv.read_csv(
                path,
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
            )
    except (pa.ArrowException, OSError) as exc:
        raise InvalidValue(f"cannot read {path} as {fmt}: {exc}", field="source") from exc
    raise InvalidValue(
        f"{path} is not tabular; load_dataset reads .parquet, .csv and .tsv files",
        field="source",
    )


def profile_file(path: str | Path) -> TableProfile | None:
    """The profile of a Parquet/CSV file, or None for other files and very large ones."""
    fmt = tabular_format(path)
    if fmt is None or Path(path).stat().st_size > MAX_PROFILE_BYTES:
        return None
    return profile_table(read_table(path), fmt)


def profile_table(table: pa.Table, fmt: str = "parquet") -> TableProfile:
    return TableProfile(
        rows=table.num_rows,
        columns=tuple(_column(name, table.column(name)) for name in table.column_names),
        format=fmt,
    )


def _column(name: str, column: pa.ChunkedArray) -> ColumnProfile:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    nulls = column.null_count
    count = len(column) - nulls
    base: dict[str, Any] = {"name": name, "type": str(kind), "nulls": nulls, "count": count}
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = column.cast(pa.float64()) if pa.types.is_decimal(kind) else column
        if count == 0:
            return ColumnProfile(**base, distinct=0)
        extremes = pc.min_max(values)
        quantiles = pc.quantile(values, q=list(QUANTILES), skip_nulls=True).to_pylist()
        return ColumnProfile(
            **base,
            distinct=pc.count_distinct(values).as_py(),
            min=_number(extremes["min"].as_py()),
            max=_number(extremes["max"].as_py()),
            mean=_number(pc.mean(values).as_py()),
            std=_number(pc.stddev(values, ddof=1).as_py()) if count > 1 else 0.0,
            quantiles={
                f"p{round(q * 100)}": _number(v) for q, v in zip(QUANTILES, quantiles, strict=True)
            },
        )
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind):
        counts = pc.value_counts(column.drop_null())
        values = counts.field("values")
        freq = counts.field("counts")
        order = pc.array_sort_indices(freq, order="descending").to_pylist()[:TOP]
        labels = values.take(order).to_pylist()
        if pa.types.is_boolean(kind):
            labels = [str(v).lower() for v in labels]
        top = tuple(
            (str(v), int(c)) for v, c in zip(labels, freq.take(order).to_pylist(), strict=True)
        )
        return ColumnProfile(**base, distinct=len(counts), top=top)
    if pa.types.is_temporal(kind) and count:
        extremes = pc.min_max(column)
        return ColumnProfile(
            **base,
            distinct=pc.count_distinct(column).as_py(),
            min=str(extremes["min"].as_py()),
            max=str(extremes["max"].as_py()),
        )
    return ColumnProfile(**base)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
