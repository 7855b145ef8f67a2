"""The background metric batcher: nothing lost, failures reported, back-pressure."""

from __future__ import annotations

import threading

import pytest

from modelyard.domain.records import Metric
from modelyard.errors import InvalidState, StoreError
from modelyard.tracking._batcher import MetricBatcher


class FlakyRuns:
    """A RunStore double that records writes and fails while ``failures`` is positive."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or StoreError("database is down")
        self.points: list[tuple[str, Metric]] = []
        self.params: dict[str, str] = {}
        self.calls = 0

    def log_batch(self, run_id: str, params: dict[str, str], points: list[Metric]) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.points.extend((run_id, p) for p in points)
        self.params.update(params)


def points(n: int, key: str = "m") -> list[Metric]:
    return [Metric(key, float(i), i, i) for i in range(n)]


def test_flush_stores_everything_logged_before_it() -> None:
    runs = FlakyRuns()
    batcher = MetricBatcher(runs, flush_seconds=60)
    for i in range(10):
        batcher.add("r1", points(100, key=f"k{i}"))
        batcher.add("r2", points(10))
    batcher.flush()
    assert len(runs.points) == 1100
    assert runs.calls <= 4  # batched: one write per run per batch, not one per call


def test_points_are_written_in_the_background_after_the_time_limit() -> None:
    runs = FlakyRuns()
    batcher = MetricBatcher(runs, flush_seconds=0.05)
    batcher.add("r", points(5))
    deadline = threading.Event()
    for _ in range(100):
        if len(runs.points) == 5:
            break
        deadline.wait(0.02)
    assert len(runs.points) == 5


def test_a_failed_write_is_reported_and_retried_without_loss() -> None:
    runs = FlakyRuns(failures=1)
    batcher = MetricBatcher(runs, flush_seconds=60)
    batcher.add("r", points(50))
    with pytest.raises(StoreError, match=r"50 metric points .* will be retried"):
        batcher.flush()
    batcher.flush()
    assert [p.step for _, p in runs.points] == list(range(50))


def test_points_for_an_ended_run_are_reported_not_retried_forever() -> None:
    runs = FlakyRuns(failures=1, error=InvalidState("run r is FINISHED"))
    batcher = MetricBatcher(runs, flush_seconds=60)
    batcher.add("r", points(3))
    with pytest.raises(InvalidState):
        batcher.flush()
    batcher.flush()
    assert runs.points == [] and runs.calls == 1


def test_a_full_buffer_makes_loggers_wait_instead_of_dropping() -> None:
    runs = FlakyRuns()
    batcher = MetricBatcher(runs, flush_points=100, flush_seconds=60, max_pending=200)
    for _ in range(50):
        batcher.add("r", points(100))
    batcher.flush()
    assert len(runs.points) == 5000


def test_unexpected_errors_in_the_writer_are_surfaced() -> None:
    runs = FlakyRuns(failures=1, error=RuntimeError("bug"))
    batcher = MetricBatcher(runs, flush_seconds=60)
    batcher.add("r", points(2))
    with pytest.raises(StoreError, match="RuntimeError: bug") as caught:
        batcher.flush()
    assert isinstance(caught.value.__cause__, RuntimeError)
    batcher.flush()
    assert len(runs.points) == 2


def test_params_travel_with_the_points_and_survive_a_failed_write() -> None:
    runs = FlakyRuns(failures=1)
    batcher = MetricBatcher(runs, flush_seconds=60)
    batcher.add_params("r", {"lr": "0.1"})
    batcher.add("r", points(2))
    with pytest.raises(StoreError):
        batcher.flush()
    batcher.add_params("r", {"depth": "8"})
    batcher.flush()
    assert runs.params == {"lr": "0.1", "depth": "8"} and len(runs.points) == 2


def test_take_hands_over_a_runs_queue() -> None:
    runs = FlakyRuns()
    batcher = MetricBatcher(runs, flush_seconds=60)
    batcher.add_params("r", {"lr": "0.1"})
    batcher.add("r", points(3))
    batcher.add("other", points(1))
    params, taken = batcher.take("r")
    assert params == {"lr": "0.1"} and len(taken) == 3
    batcher.flush()
    assert [run for run, _ in runs.points] == ["other"]


def test_an_interrupted_write_requeues_the_batch_and_lets_the_run_end() -> None:
    runs = FlakyRuns(failures=1, error=KeyboardInterrupt())
    batcher = MetricBatcher(runs, flush_seconds=60)
    batcher.add("r", points(4))
    with pytest.raises(KeyboardInterrupt):
        batcher.flush()
    _params, taken = batcher.take("r")  # must not wait forever for the interrupted write
    assert len(taken) == 4 and runs.points == []
