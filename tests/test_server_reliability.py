"""Through a live server: concurrent clients, retried batches, a server killed mid-batch."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from modelyard.domain.records import Metric
from modelyard.store.rest import open_rest_store
from test_store_contract import new_run

pytestmark = pytest.mark.postgres


def _log_concurrently(server: Any, clients: int, points: int, batch: int) -> None:
    experiment = f"load-{uuid.uuid4().hex[:8]}"
    stores = [open_rest_store(server.url, token=server.token) for _ in range(clients)]
    runs = [store.runs.create(new_run(experiment)) for store in stores]
    errors: list[BaseException] = []
    start = threading.Barrier(clients)

    def work(i: int) -> None:
        try:
            start.wait()
            for first in range(0, points, batch):
                stores[i].runs.log_metrics(
                    runs[i].id,
                    [Metric("loss", float(s), s, s) for s in range(first, first + batch)],
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for store, run in zip(stores, runs, strict=True):
        steps = [m.step for m in store.runs.metric_history(run.id, "loss")]
        assert steps == list(range(points))  # every point exactly once
        store.close()


def test_32_concurrent_clients_store_every_point_exactly_once(yard_server: Any) -> None:
    _log_concurrently(yard_server, clients=32, points=500, batch=100)


@pytest.mark.slow
def test_32_concurrent_clients_x_5000_points(yard_server: Any) -> None:
    _log_concurrently(yard_server, clients=32, points=5_000, batch=500)


def test_a_replayed_batch_with_the_same_key_stores_nothing(yard_server: Any) -> None:
    store = open_rest_store(yard_server.url, token=yard_server.token)
    run = store.runs.create(new_run("replay"))
    body = {"keys": ["m", "m"], "values": [1.0, "NaN"], "steps": [0, 1], "timestamps": [1, 2]}
    headers = {"Authorization": f"Bearer {yard_server.token}", "Idempotency-Key": "k-" + run.id}
    path = f"{yard_server.url}/api/v1/runs/{run.id}/metrics"
    first = httpx.post(path, json=body, headers=headers)
    again = httpx.post(path, json=body, headers=headers)
    assert (first.json()["applied"], again.json()["applied"]) == (True, False)
    assert len(store.runs.metric_history(run.id, "m")) == 2
    # the key guards run end too: a retried end is not an error
    end = {"status": "FINISHED", "end_time": 5}
    end_headers = {**headers, "Idempotency-Key": "end-" + run.id}
    url = f"{yard_server.url}/api/v1/runs/{run.id}/end"
    assert httpx.post(url, json=end, headers=end_headers).status_code == 204
    assert httpx.post(url, json=end, headers=end_headers).status_code == 204
    store.close()


def test_a_batch_resent_by_a_new_client_is_stored_once(yard_server: Any) -> None:
    """The key comes from the batch's content: a resend after the client gave up on an
    outage (or from another process) is recognised too."""
    first = open_rest_store(yard_server.url, token=yard_server.token)
    run = first.runs.create(new_run("resend"))
    points = [Metric("loss", 0.5, s, 1000 + s) for s in range(10)]
    first.runs.log_metrics(run.id, points)
    second = open_rest_store(yard_server.url, token=yard_server.token)
    second.runs.log_metrics(run.id, points)
    second.runs.log_metrics(run.id, [Metric("loss", 0.4, 10, 2000)])  # new content: stored
    assert [m.step for m in first.runs.metric_history(run.id, "loss")] == list(range(11))
    first.close()
    second.close()


@pytest.fixture
def crashable(yard_server: Any) -> Iterator[Any]:
    """A second server on the same database and bucket, to kill and restart."""
    from server_fixture import YardServer

    server = YardServer(
        db_url=yard_server.db_url,
        blobs_url=yard_server.blobs_url,
        s3_endpoint=yard_server.s3_endpoint,
        token=yard_server.token,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_server_killed_mid_batch_loses_and_duplicates_nothing(crashable: Any) -> None:
    store = open_rest_store(crashable.url, token=crashable.token, retry_seconds=60)
    run = store.runs.create(new_run("crash"))
    batches, size = 30, 5_000
    errors: list[BaseException] = []
    sent = threading.Event()

    def work() -> None:
        try:
            for b in range(batches):
                points = [Metric("m", 0.5, b * size + i, 1) for i in range(size)]
                store.runs.log_batch(run.id, {}, points)
                if b == 3:
                    sent.set()
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    assert sent.wait(60)
    crashable.kill()  # batches are in flight back to back: this lands mid-request
    time.sleep(0.5)
    crashable.start()
    thread.join(120)
    assert errors == []
    steps = [m.step for m in store.runs.metric_history(run.id, "m")]
    assert len(steps) == batches * size
    assert steps == list(range(batches * size))
    store.close()
