"""Operating ``yard serve`` as a real process: SIGTERM under load, soak, JSON access logs."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("sklearn")

from modelyard.models import ModelClient
from modelyard.serving import ServeConfig, export_predictions
from modelyard.workspace import open_workspace
from serving_helpers import add_fragile, add_gated, live_server

ACCESS_LOGGER = "modelyard.serving.access"
HELD = 8  # requests held in flight when SIGTERM arrives
SOAK_THREADS = 32
RSS_GROWTH_BOUND_MIB = 64  # after warm-up; the open log segment is bounded by --log-segment-rows
# A connection the kernel queued just before the listener closed is reset rather than refused;
# both mean the server took no new request.
REFUSED = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)
ACCESS_FIELDS = {
    "time", "request_id", "method", "path", "status", "latency_ms", "model", "version", "rows",
}  # fmt: skip


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def logged_request_ids(folder: Path, model: str) -> list[str]:
    out = folder / f"{model}-export.parquet"
    export_predictions(ModelClient(open_workspace()), model, str(out))
    return list(pd.read_parquet(out, columns=["yard_request_id"])["yard_request_id"])


def test_sigterm_drains_in_flight_refuses_new_and_flushes_the_log(workspace_dir: Path) -> None:
    from serving_helpers import yard_serve

    gate = workspace_dir / "gate"
    add_gated(open_workspace(), gate)
    outcomes: dict[int, list[tuple[str, object, float]]] = {i: [] for i in range(HELD)}
    loading, gated = threading.Event(), threading.Event()
    barrier = threading.Barrier(HELD + 1, timeout=30)

    with yard_serve(workspace_dir, "models:/gated/1", "--no-access-log") as served:

        def post(client: httpx.Client, worker: int, n: int) -> bool:
            request_id = f"w{worker}-{n}"
            try:
                response = client.post(
                    "/predict",
                    json={"records": [{"x": float(n)}]},
                    headers={"x-request-id": request_id},
                )
            except httpx.TransportError as exc:
                outcomes[worker].append((request_id, type(exc).__name__, time.monotonic()))
                return False
            outcomes[worker].append((request_id, response.status_code, time.monotonic()))
            return response.status_code == 200

        def drive(worker: int) -> None:
            with httpx.Client(base_url=served.url, timeout=60) as client:
                n = 0
                while loading.is_set() and post(client, worker, n):  # the load phase
                    n += 1
                barrier.wait()  # nothing of this worker's is outstanding
                gated.wait(30)
                while post(client, worker, n):  # held at the gate; then refused
                    n += 1

        loading.set()
        threads = [threading.Thread(target=drive, args=(i,)) for i in range(HELD)]
        for thread in threads:
            thread.start()
        wait_until(lambda: sum(map(len, outcomes.values())) >= 200, "200 requests under load")
        loading.clear()
        barrier.wait()
        gate.touch()
        gated.set()
        wait_until(lambda: served.metric("yard_requests_in_flight") == HELD, "held requests")

        terminated = time.monotonic()
        served.process.send_signal(signal.SIGTERM)

        def refused() -> bool:
            try:
                httpx.get(f"{served.url}/v2/health/live", timeout=2)
            except REFUSED:
                return True
            return False

        wait_until(refused, "new connections to be refused", timeout=10)
        assert all(outcomes[w][-1][1] == 200 for w in outcomes), "a held request was answered"
        gate.unlink()  # let the held requests finish
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
        assert served.process.wait(30) in (0, -signal.SIGTERM)
        stderr = served.stderr.read_text()

    answered = []
    for worker, results in outcomes.items():
        *done, (_, last, _) = results
        # every request the server accepted got its answer; only the one after shutdown failed
        assert [status for _, status, _ in done] == [200] * len(done), worker
        assert last in {error.__name__ for error in REFUSED}, (worker, last)
        assert done[-1][2] > terminated  # the held request was answered after SIGTERM
        answered += [request_id for request_id, _, _ in done]
    assert len(answered) >= 200 + HELD
    logged = logged_request_ids(workspace_dir, "gated")
    assert sorted(logged) == sorted(answered)  # flushed at shutdown, each exactly once
    assert '"request_id"' not in stderr  # --no-access-log


@pytest.mark.parametrize(
    "requests",
    [3_000, pytest.param(100_000, marks=[pytest.mark.slow, pytest.mark.timeout(1200)])],
)
def test_soak_no_errors_bounded_memory_every_request_logged_once(
    workspace_dir: Path, requests: int, record_property: Callable[[str, object], None]
) -> None:
    from serving_helpers import yard_serve

    add_fragile(open_workspace())
    per_thread = requests // SOAK_THREADS
    total = per_thread * SOAK_THREADS
    done = [0] * SOAK_THREADS
    failures: list[str] = []
    args = ("models:/fragile/1", "--log-segment-rows", str(max(total // 10, 100)))
    with yard_serve(workspace_dir, *args) as served:

        def drive(worker: int) -> None:
            with httpx.Client(base_url=served.url, timeout=30) as client:
                for n in range(per_thread):
                    request_id = f"s{worker}-{n}"
                    try:
                        response = client.post(
                            "/predict",
                            json={"records": [{"x": float(n % 97)}]},
                            headers={"x-request-id": request_id},
                        )
                        if response.status_code != 200:
                            failures.append(f"{request_id}: {response.status_code}")
                    except httpx.HTTPError as exc:
                        failures.append(f"{request_id}: {type(exc).__name__}: {exc}")
                    done[worker] += 1

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(SOAK_THREADS)]
        for thread in threads:
            thread.start()
        wait_until(lambda: sum(done) >= total // 10, "the warm-up tenth", timeout=600)
        warm_kib = served.rss_kib()
        for thread in threads:
            thread.join(1200)
        end_kib = served.rss_kib()
        dropped = served.metric("yard_prediction_log_dropped_total")
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(60) in (0, -signal.SIGTERM)
        access = [
            json.loads(line)
            for line in served.stderr.read_text().splitlines()
            if line.startswith("{")
        ]

    assert failures == []
    growth_mib = (end_kib - warm_kib) / 1024
    record_property("rss_warm_mib", round(warm_kib / 1024, 1))
    record_property("rss_growth_mib", round(growth_mib, 1))
    assert growth_mib < RSS_GROWTH_BOUND_MIB, f"RSS grew {growth_mib:.1f} MiB after warm-up"
    assert dropped == 0
    logged = logged_request_ids(workspace_dir, "fragile")
    assert len(logged) == total and len(set(logged)) == total  # each request exactly once
    # the access log (on by default for `yard serve`): one JSON line per scoring request
    scoring = [line for line in access if line["path"] == "/predict"]
    assert len(scoring) == total
    assert {line["request_id"] for line in scoring} == set(logged)
    assert all(set(line) == ACCESS_FIELDS for line in access)
    assert all(line["status"] == 200 and line["rows"] == 1 for line in scoring)


def test_access_log_is_one_json_line_per_request(
    workspace_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_fragile(open_workspace())
    config = ServeConfig(models=("models:/fragile/1",), access_log=True)
    with (
        caplog.at_level(logging.INFO, logger=ACCESS_LOGGER),
        live_server(open_workspace(), config) as live,
        httpx.Client(base_url=live.url) as client,
    ):
        for request_id, records in (("a1", [{"x": 1.0}, {"x": 2.0}]), ("a2", [{"x": -1.0}])):
            client.post("/predict", json={"records": records}, headers={"x-request-id": request_id})
        client.post("/predict", json={"records": [{"y": 1.0}]}, headers={"x-request-id": "a3"})
        client.get("/v2/health/live", headers={"x-request-id": "a4"})
    lines = {
        line["request_id"]: line
        for line in (json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER)
        if line["request_id"] in ("a1", "a2", "a3", "a4")
    }
    assert set(lines) == {"a1", "a2", "a3", "a4"}
    assert all(set(line) == ACCESS_FIELDS for line in lines.values())
    first = lines["a1"]
    assert (first["method"], first["path"], first["status"]) == ("POST", "/predict", 200)
    assert (first["model"], first["version"], first["rows"]) == ("fragile", "1", 2)
    assert first["latency_ms"] > 0 and first["time"].endswith("+00:00")
    assert (lines["a2"]["status"], lines["a2"]["rows"]) == (500, 1)  # the model raised
    assert (lines["a3"]["status"], lines["a3"]["rows"]) == (422, None)  # failed validation
    health = lines["a4"]
    assert (health["path"], health["status"], health["model"]) == ("/v2/health/live", 200, None)


def test_access_log_is_off_unless_asked(
    workspace_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_fragile(open_workspace())
    config = ServeConfig(models=("models:/fragile/1",))
    with (
        caplog.at_level(logging.INFO, logger=ACCESS_LOGGER),
        live_server(open_workspace(), config) as live,
    ):
        httpx.post(f"{live.url}/predict", json={"records": [{"x": 1.0}]})
    assert not [r for r in caplog.records if r.name == ACCESS_LOGGER]
