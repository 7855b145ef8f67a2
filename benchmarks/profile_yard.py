"""Profile the modelyard side of one benchmark with cProfile, background threads included.

    .venv/bin/python benchmarks/profile_yard.py create_runs [--n 300] [--top 30]

Runs the same work as ``_yard_worker.py`` in a fresh temporary workspace, once untimed to warm
up and once under cProfile. The metric writer thread is profiled too: the client is reopened
so that its writer thread starts under a patched ``Thread.run``, each thread gets its own
profiler and the statistics are merged, so time spent writing in the background shows up.
This reaches into modelyard internals (``tracking._fluent._clients``): a diagnostic only.
Also prints the time spent per SQL statement kind, measured around the cursor calls.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event

import modelyard as yard
from modelyard.tracking import _fluent

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _yard_worker as worker

DEFAULT_N = {
    "log_metric_per_call": 5_000,
    "log_bulk": 200,
    "create_runs": 300,
    "search_10k": 10_000,
}

_profiles: list[cProfile.Profile] = []
_profiles_lock = threading.Lock()
_original_run = threading.Thread.run


def _profiled_run(self: threading.Thread) -> None:
    profile = cProfile.Profile()
    with _profiles_lock:
        _profiles.append(profile)
    profile.enable()
    try:
        _original_run(self)
    finally:
        profile.disable()


def trace_sql() -> dict[tuple[str, str], list[float]]:
    """Seconds per (thread, statement kind), from SQLAlchemy's cursor events."""
    engine = _fluent.client().store.runs._db.engine
    spent: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        kind = " ".join(statement.split()[:3])[:40] + (" (many)" if executemany else "")
        entry = spent[(threading.current_thread().name, kind)]
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info["bench_t0"]

    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", choices=sorted(DEFAULT_N))
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    n = args.n or DEFAULT_N[args.bench]

    folder = Path(tempfile.mkdtemp(prefix="yard-profile-"))
    os.chdir(folder)
    yard.init_workspace(folder)
    bench = worker.BENCHES[args.bench]
    bench(max(1, n // 100))  # warm up: imports, experiment, statement caches

    # A fresh client, so that its metric writer thread starts under the patched Thread.run.
    _fluent._clients.clear()
    threading.Thread.run = _profiled_run  # type: ignore[method-assign]
    spent = trace_sql()
    main_profile = cProfile.Profile()
    main_profile.enable()
    result = bench(n)
    main_profile.disable()
    threading.Thread.run = _original_run  # type: ignore[method-assign]

    print(result)
    print("\nSQL time by thread and statement (includes waiting for the write lock):")
    for (thread, kind), (count, seconds) in sorted(spent.items(), key=lambda kv: -kv[1][1]):
        print(f"  {thread:<14} {kind:<48} {count:>7} calls {seconds:8.3f} s")
    stats = pstats.Stats(main_profile)
    with _profiles_lock:
        for profile in _profiles:
            stats.add(profile)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    os.chdir(tempfile.gettempdir())
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
