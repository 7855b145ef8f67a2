"""Background batcher: logging calls return at once, params and metric points reach the store
in batches.

A bounded buffer collects them; a daemon thread writes them, one transaction per run, when
``FLUSH_POINTS`` are waiting or ``FLUSH_SECONDS`` have passed since the oldest, and whenever
someone calls ``flush()`` (run end, interpreter exit, ``yard.flush()``). When the buffer is
full, logging waits for the writer (back-pressure) rather than dropping points. A write that
fails is reported by the next call, and the points stay queued to be retried.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping

from modelyard.domain.records import Metric
from modelyard.errors import Conflict, InvalidInput, InvalidState, StoreError, YardError
from modelyard.store.base import RunStore

FLUSH_POINTS = 20_000
FLUSH_SECONDS = 1.0
MAX_PENDING = 200_000


class MetricBatcher:
    def __init__(
        self,
        runs: RunStore,
        *,
        flush_points: int = FLUSH_POINTS,
        flush_seconds: float = FLUSH_SECONDS,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._runs = runs
        self._flush_points = flush_points
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        self._buffer: dict[str, _Pending] = defaultdict(_Pending)
        self._pending = 0
        self._oldest = 0.0
        self._queued = 0  # points ever queued
        self._written = 0  # points ever written (or dropped as invalid)
        self._writing = 0  # batches being written right now
        self._flush_wanted = False
        self._error: YardError | None = None
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, run_id: str, points: Iterable[Metric]) -> None:
        points = list(points)
        with self._lock:
            self._raise_pending_error()
            while self._pending >= self._max_pending:
                self._flush_wanted = True
                self._lock.notify_all()
                self._lock.wait(0.5)
                self._raise_pending_error()
            if self._pending == 0:
                self._oldest = time.monotonic()
            self._buffer[run_id].points.extend(points)
            self._pending += len(points)
            self._queued += len(points)
            self._start_writer()
            if self._pending >= self._flush_points:
                self._lock.notify_all()

    def _start_writer(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="yard-metrics", daemon=True)
            self._thread.start()

    def flush(self) -> None:
        """Return once every point queued before this call is durably stored.

        The caller writes what is buffered itself (no hand-off to the writer thread), then
        waits for any batch the writer thread already had in flight.
        """
        with self._lock:
            target = self._queued
        self._write_once()
        with self._lock:
            while self._written < target and self._error is None:
                if self._thread is None or not self._thread.is_alive():
                    break
                self._lock.wait(0.5)
            self._raise_pending_error()

    def add_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Queue params (already checked for conflicts by the caller's run)."""
        with self._lock:
            self._raise_pending_error()
            if self._pending == 0:
                self._oldest = time.monotonic()
            self._buffer[run_id].params.update(params)
            self._pending += len(params)
            self._queued += len(params)
            self._start_writer()

    def take(self, run_id: str) -> tuple[dict[str, str], list[Metric]]:
        """Remove and return ``run_id``'s queued params and points so the caller can store them
        itself (a run's last batch is written in the same transaction that ends it). Waits for
        batches already being written, so everything earlier is stored first."""
        with self._lock:
            while self._writing:
                self._lock.wait(0.5)
            pending = self._buffer.pop(run_id, _Pending())
            self._pending -= pending.size
            self._written += pending.size
            return pending.params, pending.points

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._due():
                    timeout = None
                    if self._pending:
                        timeout = max(0.0, self._oldest + self._flush_seconds - time.monotonic())
                    self._lock.wait(timeout)
            failed = self._write_once()
            if failed:
                time.sleep(0.2)  # do not spin on a store that is down

    def _due(self) -> bool:
        if not self._pending:
            self._flush_wanted = False
            return False
        return (
            self._flush_wanted
            or self._pending >= self._flush_points
            or time.monotonic() - self._oldest >= self._flush_seconds
        )

    def _write_once(self) -> bool:
        """Write everything queued, one transaction per run; return True if a write failed.

        Whatever was not stored - a failed write, or an interruption such as Ctrl-C or SIGTERM
        arriving while the caller's thread writes - goes back to the front of the queue.
        """
        with self._lock:
            batch, self._buffer = self._buffer, defaultdict(_Pending)
            self._pending = 0
            self._writing += 1
        settled: set[str] = set()  # stored, or refused for good
        error: YardError | None = None
        try:
            for run_id, pending in batch.items():
                try:
                    self._runs.log_batch(run_id, pending.params, pending.points)
                    settled.add(run_id)
                except (InvalidState, InvalidInput, Conflict) as exc:  # retrying cannot help
                    error = exc
                    settled.add(run_id)
                except Exception as exc:  # kept for retry, and reported to the next caller
                    error = StoreError(
                        f"{len(pending.points)} metric points for run {run_id} are not stored "
                        f"yet ({type(exc).__name__}: {exc}); they stay queued and will be retried"
                    )
                    error.__cause__ = exc
        finally:
            with self._lock:
                for run_id, pending in batch.items():
                    if run_id in settled:
                        self._written += pending.size
                        continue
                    queued = self._buffer[run_id]
                    queued.points[:0] = pending.points
                    queued.params = {**pending.params, **queued.params}
                    self._pending += pending.size
                if self._pending:
                    self._oldest = time.monotonic()
                self._writing -= 1
                if error is not None:
                    self._error = error
                self._lock.notify_all()
        return len(settled) < len(batch)


class _Pending:
    """What is queued for one run."""

    __slots__ = ("params", "points")

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self.points: list[Metric] = []

    @property
    def size(self) -> int:
        return len(self.params) + len(self.points)


class SyncMetricWriter:
    """Writes every call straight to the store; for tests and debugging."""

    def __init__(self, runs: RunStore) -> None:
        self._runs = runs

    def add(self, run_id: str, points: Iterable[Metric]) -> None:
        self._runs.log_metrics(run_id, list(points))

    def add_params(self, run_id: str, params: Mapping[str, str]) -> None:
        self._runs.log_params(run_id, params)

    def flush(self) -> None:
        return None

    def take(self, run_id: str) -> tuple[dict[str, str], list[Metric]]:
        return {}, []
