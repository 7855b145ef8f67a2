"""Batch scoring (``yard predict``): stream a Parquet or CSV file through a model in chunks,
writing predictions to Parquet as it goes, so memory stays bounded by the chunk size."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidValue
from modelyard.models import Model

DEFAULT_CHUNK_ROWS = 50_000


def _chunks(path: Path, chunk_rows: int) -> tuple[Iterator[Any], int | None]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        handle = pq.ParquetFile(path)
        return handle.iter_batches(batch_size=chunk_rows), handle.metadata.num_rows
    if suffix in (".csv", ".txt"):
        import pyarrow.csv as pacsv

        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 22))
        return iter(reader), None
    raise InvalidValue(f"cannot score {path.name}: give a .parquet or .csv file", field="input")


def score_file(
    model: Model,
    source: str | Path,
    destination: str | Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    keep_inputs: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Score ``source`` into ``destination`` (Parquet, with a ``prediction`` column);
    returns the number of rows. ``progress(done, total)`` is called after every chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source, destination = Path(source), Path(destination)
    if not source.is_file():
        raise InvalidValue(f"{source} is not a file", field="input")
    batches, total = _chunks(source, chunk_rows)
    writer = None
    done = 0
    try:
        for batch in batches:
            frame = batch.to_pandas()
            if frame.empty:
                continue
            predictions = model.predict(frame)
            out = frame if keep_inputs else frame.iloc[:, :0]
            out = out.assign(
                prediction=list(predictions) if getattr(predictions, "ndim", 1) > 1 else predictions
            )
            table = pa.Table.from_pandas(out, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(destination, table.schema)
            writer.write_table(table.cast(writer.schema))
            done += len(frame)
            if progress is not None:
                progress(done, total)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise InvalidValue(f"{source} has no rows to score", field="input")
    return done
