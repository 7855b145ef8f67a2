"""The prediction log: every scored request, off the hot path, as Parquet segments in the
blob store.

``PredictionLog.record(entry)`` never blocks and never raises: it puts the entry on a bounded
queue (``buffer_requests`` entries). **When the queue is full the entry is dropped** and
``yard_prediction_log_dropped_total`` counts it: serving latency and availability come first,
the log is best-effort under overload. A background thread groups entries per model version
and writes a segment when it holds ``segment_rows`` rows or is ``segment_seconds`` old (and
on shutdown). Each segment is a Parquet blob (content-addressed) with one row per scored
row: ``yard_request_id``, ``yard_row``, ``yard_timestamp`` (ms), ``yard_latency_ms``,
``yard_model``, ``yard_version``, the input columns under their own names, and
``prediction``. A lineage edge ``<model version URI> -logged_predictions->
predictions:<model>/<version>/<digest>`` records it, so ``yard predictions list|export`` and
``yard lineage`` find every segment without a table of their own.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from modelyard.errors import InvalidValue, YardError
from modelyard.models import ModelClient, parse_model_ref
from modelyard.serving._metrics import ServingMetrics

log = logging.getLogger("modelyard.serving")
RELATION = "logged_predictions"
SCHEME = "predictions:"
DEFAULT_BUFFER_REQUESTS = 10_000
DEFAULT_SEGMENT_ROWS = 50_000
DEFAULT_SEGMENT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class LogEntry:
    request_id: str
    model: str  # served name
    version: str  # "3", or "" for an unregistered package
    source: str  # lineage source: models:/churn/3 or runs:/<id>/model
    timestamp_ms: int
    latency_ms: float
    inputs: dict[str, list[Any]]
    outputs: Any  # one prediction per row


@dataclass(frozen=True, slots=True)
class Segment:
    """One stored segment of the prediction log."""

    uri: str  # predictions:churn/3/blake3:...
    source: str  # the model version it came from
    digest: str
    created_at: int


@dataclass(frozen=True, slots=True)
class LogPolicy:
    """Prediction log settings: buffer bound (in requests) and segment rotation."""

    enabled: bool = True
    buffer_requests: int = DEFAULT_BUFFER_REQUESTS
    segment_rows: int = DEFAULT_SEGMENT_ROWS
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS


class PredictionLog:
    def __init__(
        self, blobs: Any, lineage: Any, policy: LogPolicy, metrics: ServingMetrics
    ) -> None:
        self._blobs = blobs
        self._lineage = lineage
        self.policy = policy
        self._metrics = metrics
        self._queue: queue.Queue[LogEntry | None] = queue.Queue(maxsize=policy.buffer_requests)
        self._open: dict[tuple[str, str], _OpenSegment] = {}
        self._thread = threading.Thread(target=self._run, name="yard-prediction-log", daemon=True)
        self._started = False
        self._lock = threading.Lock()
        self.written: list[Segment] = []

    def record(self, entry: LogEntry) -> bool:
        """Queue ``entry``; False (and counted) when the buffer is full."""
        if not self._started:
            with self._lock:
                if not self._started:
                    self._thread.start()
                    self._started = True
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self._metrics.log_dropped.labels(entry.model).inc()
            return False
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the writer thread."""
        if not self._started:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            log.warning("prediction log: writer is stuck; %d entries lost", self._queue.qsize())
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            timeout = self._next_deadline()
            try:
                entry = self._queue.get(timeout=timeout)
            except queue.Empty:
                entry = _TICK
            if entry is None:
                for key in list(self._open):
                    self._flush(key)
                return
            if entry is not _TICK:
                key = (entry.model, entry.source)
                segment = self._open.get(key)
                if segment is None:
                    segment = self._open[key] = _OpenSegment(entry.model, entry.source)
                segment.add(entry)
                if segment.rows >= self.policy.segment_rows:
                    self._flush(key)
            now = time.monotonic()
            for key, segment in list(self._open.items()):
                if now - segment.opened >= self.policy.segment_seconds:
                    self._flush(key)

    def _next_deadline(self) -> float | None:
        if not self._open:
            return None
        oldest = min(s.opened for s in self._open.values())
        return max(0.0, oldest + self.policy.segment_seconds - time.monotonic())

    def _flush(self, key: tuple[str, str]) -> None:
        segment = self._open.pop(key)
        if not segment.rows:
            return
        try:
            data = segment.to_parquet()
            digest, _ = self._blobs.put_bytes(data)
            uri = f"{SCHEME}{_segment_prefix(segment.source)}/{digest}"
            edge = self._lineage.add(segment.source, uri, RELATION)
        except Exception as exc:  # never take serving down; count and say why
            self._metrics.log_errors.labels(segment.model).inc()
            log.warning(
                "prediction log: could not store a segment of %d rows: %s", segment.rows, exc
            )
            return
        self._metrics.log_rows.labels(segment.model).inc(segment.rows)
        self._metrics.log_segments.labels(segment.model).inc()
        self.written.append(Segment(uri, segment.source, digest, edge.created_at))


_TICK: Any = object()


class _OpenSegment:
    def __init__(self, model: str, source: str) -> None:
        self.model = model
        self.source = source
        self.opened = time.monotonic()
        self.rows = 0
        self.entries: list[LogEntry] = []

    def add(self, entry: LogEntry) -> None:
        self.entries.append(entry)
        self.rows += len(entry.outputs)

    def to_parquet(self) -> bytes:
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        meta: dict[str, list[Any]] = {
            "yard_request_id": [],
            "yard_row": [],
            "yard_timestamp": [],
            "yard_latency_ms": [],
            "yard_model": [],
            "yard_version": [],
        }
        inputs: dict[str, list[Any]] = {}
        outputs: list[Any] = []
        for entry in self.entries:
            n = len(entry.outputs)
            meta["yard_request_id"] += [entry.request_id] * n
            meta["yard_row"] += list(range(n))
            meta["yard_timestamp"] += [entry.timestamp_ms] * n
            meta["yard_latency_ms"] += [entry.latency_ms] * n
            meta["yard_model"] += [entry.model] * n
            meta["yard_version"] += [entry.version] * n
            for name, values in entry.inputs.items():
                inputs.setdefault(name, []).extend(values)
            out = np.asarray(entry.outputs)
            outputs.extend(out.tolist())
        columns = {**meta, **inputs, "prediction": outputs}
        table = pa.table(columns)
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()


def _segment_prefix(source: str) -> str:
    if source.startswith("models:/"):
        return source.removeprefix("models:/")
    return source.replace(":/", "").strip("/")


# -- reading the log back ------------------------------------------------------------------------


def list_segments(client: ModelClient, model: str | None = None) -> list[Segment]:
    """Segments of one model (``churn``, ``churn/3``) or of every registered model."""
    sources: list[str] = []
    if model is None:
        for registered in client.list_models():
            sources += [v.uri for v in client.versions(registered.name)]
    else:
        ref = parse_model_ref(model)
        if ref.number is not None or ref.alias is not None:
            sources.append(client.get_version(ref).uri)
        else:
            sources += [v.uri for v in client.versions(ref.name)]
    found: list[Segment] = []
    for source in sources:
        for edge in client.store.lineage.downstream(source):
            if edge.relation == RELATION and edge.target.startswith(SCHEME):
                digest = edge.target.rsplit("/", 1)[-1]
                found.append(Segment(edge.target, source, digest, edge.created_at))
    return sorted(found, key=lambda s: (s.created_at, s.uri))


def read_segments(client: ModelClient, segments: Sequence[Segment]) -> Iterator[Any]:
    """Each segment as a pyarrow Table (digest verified on read)."""
    import pyarrow.parquet as pq

    for segment in segments:
        try:
            data = client.blobs.get_bytes(segment.digest)
        except YardError:
            raise
        yield pq.read_table(io.BytesIO(data))


def export_predictions(client: ModelClient, model: str | None, destination: str) -> int:
    """Write every logged prediction of ``model`` into one Parquet file; returns the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    segments = list_segments(client, model)
    if not segments:
        raise InvalidValue(
            f"no logged predictions for {model or 'any model'}; serve it with `yard serve` "
            "and send requests first",
            field="model",
        )
    tables = list(read_segments(client, segments))
    table = pa.concat_tables(tables, promote_options="default")
    pq.write_table(table, destination)
    return table.num_rows
