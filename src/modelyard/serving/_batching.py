"""Adaptive micro-batching: concurrent requests for one model share one ``predict`` call.

A single consumer task takes the first waiting request, then everything already queued (up
to ``max_batch_size`` rows). It waits up to ``max_wait`` for more only while other requests
are still being read and parsed (``expect()`` counts them), so a lone request never waits.
``predict`` runs in a worker thread: the event loop keeps accepting and parsing requests,
which pile up and form the next batch. If a combined batch fails, each request is retried
alone, so only the requests that make the model raise get an error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from modelyard.serving._validation import Columns

DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_MAX_WAIT_MS = 2.0


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """How requests are combined: at most ``max_batch_size`` rows per ``predict`` call, and
    at most ``max_wait_ms`` spent waiting for requests that are on their way."""

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_wait_ms: float = DEFAULT_MAX_WAIT_MS


@dataclass(slots=True)
class _Job:
    columns: Columns
    future: asyncio.Future[Any]


class MicroBatcher:
    """``await submit(columns)`` -> that request's outputs (a NumPy array, one per row)."""

    def __init__(
        self,
        predict: Callable[[Columns], Any],
        policy: BatchPolicy,
        *,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self._predict = predict
        self.policy = policy
        self._on_batch = on_batch
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._incoming = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yard-predict")
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def expect(self) -> None:
        """A request for this model is being read; ``arrived()`` when it is submitted or
        abandoned. The batcher waits (briefly) only while some are on their way."""
        self._incoming += 1

    def arrived(self) -> None:
        self._incoming -= 1

    async def submit(self, columns: Columns) -> Any:
        if self._closing:
            raise RuntimeError("this model is being replaced or the server is stopping")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(columns, future))
        return await future

    async def close(self) -> None:
        """Finish every submitted request, then stop."""
        self._closing = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
        self._executor.shutdown(wait=False)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        limit = self.policy.max_batch_size
        max_wait = self.policy.max_wait_ms / 1000
        stop = False
        while not stop:
            job = await self._queue.get()
            if job is None:
                break
            batch = [job]
            rows = job.columns.rows
            deadline = loop.time() + max_wait
            while rows < limit:
                if not self._queue.empty():
                    nxt = self._queue.get_nowait()
                elif self._incoming > 0 and max_wait > 0:
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    try:
                        nxt = await asyncio.wait_for(self._queue.get(), left)
                    except asyncio.TimeoutError:
                        break
                else:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
                rows += nxt.columns.rows
            await self._execute(loop, batch, rows)

    async def _execute(self, loop: asyncio.AbstractEventLoop, batch: list[_Job], rows: int) -> None:
        started = time.perf_counter()
        try:
            combined = batch[0].columns if len(batch) == 1 else _concat(batch)
            outputs = await loop.run_in_executor(self._executor, self._predict, combined)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0].future, error=exc)
                return
            for job in batch:  # find which requests fail: score each alone
                try:
                    result = await loop.run_in_executor(self._executor, self._predict, job.columns)
                except Exception as single:
                    _settle(job.future, error=single)
                else:
                    _settle(job.future, result=result)
            return
        if self._on_batch is not None:
            self._on_batch(rows, time.perf_counter() - started)
        start = 0
        for job in batch:
            end = start + job.columns.rows
            _settle(job.future, result=outputs[start:end])
            start = end


def _concat(batch: list[_Job]) -> Columns:
    names = list(batch[0].columns.values)
    values: dict[str, list[Any]] = {n: [] for n in names}
    for job in batch:
        for name in names:
            values[name].extend(job.columns.values[name])
    return Columns(values, sum(j.columns.rows for j in batch))


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None
) -> None:
    if future.done():  # the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
