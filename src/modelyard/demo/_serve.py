"""The serving step of ``yard demo``: serve the champion in-process, send a burst of
single-row requests, and show latency, the prediction log and a metric line."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from modelyard.models import ModelClient
from modelyard.workspace import Workspace


def serve_champion(workspace: Workspace, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Serve ``models:/churn@champion`` through the ASGI app (no socket), send ``rows`` as
    concurrent one-row requests; returns latency figures, logged rows and a metric line."""
    return asyncio.run(_burst(workspace, rows))


async def _burst(workspace: Workspace, rows: list[dict[str, Any]]) -> dict[str, Any]:
    import httpx

    from modelyard.serving import LogPolicy, ServeConfig, create_app, list_segments

    app = create_app(workspace, ServeConfig(models=("models:/churn@champion",), log=LogPolicy()))
    server = app.state.server
    await server.start()
    try:
        await asyncio.wait_for(server.ready.wait(), 60)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:

            async def one(row: dict[str, Any]) -> float:
                started = time.perf_counter()
                response = await client.post("/predict", json={"records": [row]})
                response.raise_for_status()
                return (time.perf_counter() - started) * 1000

            started = time.perf_counter()
            latencies = sorted(await asyncio.gather(*(one(r) for r in rows)))
            elapsed = time.perf_counter() - started
            metrics = (await client.get("/metrics")).text
    finally:
        await server.stop()  # flushes the prediction log
    line = next(
        (m for m in metrics.splitlines() if m.startswith('yard_requests_total{code="200"')), ""
    )
    batches = next((m for m in metrics.splitlines() if m.startswith("yard_batch_size_count")), "")
    segments = list_segments(ModelClient(workspace), "churn")
    logged = sum(len(t) for t in _tables(workspace, segments))
    return {
        "requests": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "per_second": len(latencies) / elapsed,
        "logged": logged,
        "metric": line,
        "predict_calls": batches.rsplit(" ", 1)[-1] if batches else "?",
    }


def _tables(workspace: Workspace, segments: list[Any]) -> list[Any]:
    from modelyard.serving import read_segments

    return list(read_segments(ModelClient(workspace), segments))
