"""Micro-batching and the prediction log's buffer policy."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("sklearn")

from modelyard.serving import (
    BatchPolicy,
    LogEntry,
    LogPolicy,
    MicroBatcher,
    PredictionLog,
    ServeConfig,
    ServingMetrics,
)
from modelyard.serving._validation import Columns
from serving_helpers import add_fragile, live_server


def _histogram(text: str, name: str, model: str) -> tuple[float, float]:
    count = re.search(rf'{name}_count{{model="{model}"}} ([0-9.e+]+)', text)
    total = re.search(rf'{name}_sum{{model="{model}"}} ([0-9.e+]+)', text)
    assert count and total, text
    return float(count.group(1)), float(total.group(1))


def test_concurrent_requests_share_predict_calls(tmp_path: Path) -> None:
    from modelyard.workspace import init_workspace

    workspace = init_workspace(tmp_path)
    add_fragile(workspace, delay=0.02)  # a slow predict: requests pile up behind it
    config = ServeConfig(models=("models:/fragile/1",), batch=BatchPolicy(max_batch_size=64))
    with live_server(workspace, config) as live:

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
                return await asyncio.gather(
                    *(
                        client.post("/predict", json={"records": [{"x": float(i)}]})
                        for i in range(48)
                    )
                )

        responses = asyncio.run(burst())
        assert all(r.status_code == 200 for r in responses)
        assert [r.json()["predictions"][0] for r in responses] == [2.0 * i for i in range(48)]
        batches, rows = _histogram(
            httpx.get(f"{live.url}/metrics").text, "yard_batch_size", "fragile"
        )
    assert rows == 48
    assert batches < 24, f"48 concurrent requests took {batches} predict calls"


def test_a_failing_request_in_a_batch_fails_alone(tmp_path: Path) -> None:
    from modelyard.workspace import init_workspace

    workspace = init_workspace(tmp_path)
    add_fragile(workspace, delay=0.01)
    with live_server(workspace, ServeConfig(models=("models:/fragile/1",))) as live:

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
                return await asyncio.gather(
                    *(
                        client.post("/predict", json={"records": [{"x": -1.0 if i == 5 else 1.0}]})
                        for i in range(20)
                    )
                )

        codes = [r.status_code for r in asyncio.run(burst())]
    assert codes[5] == 500
    assert codes[:5] + codes[6:] == [200] * 19


def test_batcher_respects_max_batch_size() -> None:
    sizes: list[int] = []

    def predict(columns: Columns) -> np.ndarray:
        sizes.append(columns.rows)
        return np.zeros(columns.rows)

    async def main() -> None:
        batcher = MicroBatcher(predict, BatchPolicy(max_batch_size=4, max_wait_ms=1))
        outs = await asyncio.gather(*(batcher.submit(Columns({"x": [i]}, 1)) for i in range(10)))
        await batcher.close()
        assert all(len(o) == 1 for o in outs)

    asyncio.run(main())
    assert sum(sizes) == 10 and max(sizes) <= 4


class _StuckBlobs:
    """A blob store whose writes hang until released: the log's writer thread stalls."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.stored: list[bytes] = []

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        self.release.wait(30)
        self.stored.append(data)
        return f"blake3:{len(self.stored):064x}", len(data)


class _Lineage:
    def __init__(self) -> None:
        self.edges: list[tuple[str, str, str]] = []

    def add(self, source: str, target: str, relation: str):  # type: ignore[no-untyped-def]
        from modelyard.domain.records import LineageEdge

        self.edges.append((source, target, relation))
        return LineageEdge(source, target, relation, 0)


def _entry(i: int) -> LogEntry:
    return LogEntry(f"r{i}", "m", "1", "models:/m/1", 0, 1.0, {"x": [float(i)]}, np.array([i]))


def test_full_log_buffer_drops_and_counts_instead_of_blocking() -> None:
    import time

    blobs, lineage, metrics = _StuckBlobs(), _Lineage(), ServingMetrics.create()
    log = PredictionLog(blobs, lineage, LogPolicy(buffer_requests=5, segment_rows=1), metrics)
    started = time.perf_counter()
    accepted = [log.record(_entry(i)) for i in range(50)]
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # never waits for the stuck writer
    assert accepted.count(False) >= 40
    dropped = metrics.registry.get_sample_value("yard_prediction_log_dropped_total", {"model": "m"})
    assert dropped == accepted.count(False)
    blobs.release.set()
    log.close()
    assert len(lineage.edges) == accepted.count(True)
    assert all(e[2] == "logged_predictions" for e in lineage.edges)


def test_log_store_failure_is_counted_not_raised() -> None:
    class Broken:
        def put_bytes(self, data: bytes) -> tuple[str, int]:
            raise OSError("disk full")

    metrics = ServingMetrics.create()
    log = PredictionLog(Broken(), _Lineage(), LogPolicy(segment_rows=1), metrics)
    assert log.record(_entry(1))
    log.close()
    assert (
        metrics.registry.get_sample_value("yard_prediction_log_errors_total", {"model": "m"}) == 1
    )


def test_serving_exports_exactly_the_intended_names() -> None:
    import modelyard.serving

    assert set(modelyard.serving.__all__) == {
        "BatchPolicy", "LogEntry", "LogPolicy", "MicroBatcher", "ModelServer", "ModelSpec",
        "Optimized", "PredictionLog", "Problem", "RequestInvalid", "Segment", "ServeConfig",
        "ServedModel", "ServingMetrics", "Validator", "create_app", "export_predictions",
        "list_segments", "optimize", "read_segments", "score_file", "serve",
    }  # fmt: skip
