"""Background metric batcher: calls return at once, points reach the store in batches.

A bounded buffer collects points; a daemon thread writes them, one transaction per run, when
``FLUSH_POINTS`` are waiting or ``FLUSH_SECONDS`` have passed since the oldest, and whenever
someone calls ``flush()`` (run end, interpreter exit, ``yard.flush()``). When the buffer is
full, logging waits for the writer (back-pressure) rather than dropping points. A write that
fails is reported by the next call, and the points stay queued to be retried.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from modelyard.domain.records import Metric
from modelyard.errors import InvalidInput, InvalidState, StoreError, YardError
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
        self._buffer: dict[str, list[Metric]] = defaultdict(list)
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
            self._buffer[run_id].extend(points)
            self._pending += len(points)
            self._queued += len(points)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="yard-metrics", daemon=True)
                self._thread.start()
            if self._pending >= self._flush_points:
                self._lock.notify_all()

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

    def take(self, run_id: str) -> list[Metric]:
        """Remove and return ``run_id``'s queued points so the caller can store them itself
        (a run's last points are written in the same transaction that ends it). Waits for
        batches already being written, so every earlier point is stored first."""
        with self._lock:
            while self._writing:
                self._lock.wait(0.5)
            points = self._buffer.pop(run_id, [])
            self._pending -= len(points)
            self._written += len(points)
            return points

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
        with self._lock:
            batch, self._buffer = self._buffer, defaultdict(list)
            self._pending = 0
            self._writing += 1
        failed: dict[str, list[Metric]] = {}
        error: YardError | None = None
        done = 0
        for run_id, points in batch.items():
            try:
                self._runs.log_metrics(run_id, points)
                done += len(points)
            except (InvalidState, InvalidInput) as exc:  # retrying cannot help: report, drop
                error, done = exc, done + len(points)
            except Exception as exc:  # kept for retry, and reported to the next caller
                error = StoreError(
                    f"{len(points)} metric points for run {run_id} are not stored yet "
                    f"({type(exc).__name__}: {exc}); they stay queued and will be retried"
                )
                error.__cause__ = exc
                failed[run_id] = points
        with self._lock:
            for run_id, points in failed.items():
                self._buffer[run_id][:0] = points
                self._pending += len(points)
            if self._pending:
                self._oldest = time.monotonic()
            self._written += done
            self._writing -= 1
            if error is not None:
                self._error = error
            self._lock.notify_all()
        return bool(failed)


class SyncMetricWriter:
    """Writes every call straight to the store; for tests and debugging."""

    def __init__(self, runs: RunStore) -> None:
        self._runs = runs

    def add(self, run_id: str, points: Iterable[Metric]) -> None:
        self._runs.log_metrics(run_id, list(points))

    def flush(self) -> None:
        return None

    def take(self, run_id: str) -> list[Metric]:
        return []
