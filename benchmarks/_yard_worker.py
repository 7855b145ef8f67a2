"""modelyard side of the benchmarks (and the raw SQLite ceiling); runs under ``.venv/bin/python``.

One invocation = one repetition of one benchmark in a fresh working folder: a workspace
(``.yard/`` with SQLite metadata and local blobs) is created there (untimed), the work is
timed until the points are durably stored (``yard.flush()``), and one JSON line of timings is
printed.

Usage: _yard_worker.py BENCH --n N --workdir DIR
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import modelyard as yard

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c


def count_points(run_id: str) -> int:
    """Metric rows stored for the run, counted in the database itself."""
    with sqlite3.connect(Path.cwd() / ".yard" / "yard.db") as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM metrics m JOIN runs r ON r.pk = m.run_pk WHERE r.id = ?",
            (run_id,),
        ).fetchone()
    return count


def bench_log_metric_per_call(n: int) -> dict:
    values = c.per_call_values(n)
    with yard.start_run(experiment=c.EXPERIMENT, name="per-call") as run:
        start = c.clock()
        for i, value in enumerate(values):
            yard.log_metric(c.PER_CALL_KEY, value, step=i)
        queued = c.clock() - start
        yard.flush()
        seconds = c.clock() - start
    return {
        "points": n,
        "seconds": seconds,
        "rate": n / seconds,
        "call_seconds": queued,
        "stored": count_points(run.id),
    }


def bench_log_bulk(steps: int) -> dict:
    keys = c.bulk_keys()
    values = c.bulk_values(steps)
    with yard.start_run(experiment=c.EXPERIMENT, name="bulk") as run:
        start = c.clock()
        for step, row in enumerate(values):
            yard.log_metrics(dict(zip(keys, row, strict=True)), step=step)
        queued = c.clock() - start
        yard.flush()
        seconds = c.clock() - start
    points = steps * len(keys)
    return {
        "points": points,
        "seconds": seconds,
        "rate": points / seconds,
        "call_seconds": queued,
        "stored": count_points(run.id),
    }


def create_runs(specs: list) -> float:
    """Seconds to create the runs: start, log 5 params, log 5 metrics, end."""
    start = c.clock()
    for name, params, metrics in specs:
        with yard.start_run(experiment=c.EXPERIMENT, name=name):
            yard.log_params(params)
            yard.log_metrics(metrics)
    return c.clock() - start


def bench_create_runs(n: int) -> dict:
    seconds = create_runs(c.run_specs(n))
    return {"runs": n, "seconds": seconds, "rate": n / seconds}


def bench_search_10k(n: int) -> dict:
    specs = c.run_specs(n)
    create_seconds = create_runs(specs)
    expected = c.expected_search(specs)
    times = []
    names: list[str] = []
    for _ in range(c.SEARCH_REPEATS):
        start = c.clock()
        frame = yard.search_runs(
            c.EXPERIMENT,
            filter=c.SEARCH_FILTER,
            order_by=["metrics.m0 desc"],
            limit=c.SEARCH_LIMIT,
        )
        times.append(c.clock() - start)
        names = frame["name"].tolist()
    return {
        "runs": n,
        "create_seconds": create_seconds,
        "create_rate": n / create_seconds,
        "search_seconds": c.median(times),
        "search_times": times,
        "returned": len(names),
        "matching": c.matching_count(specs),
        "correct": names == expected,
        "digest": c.names_digest(names),
    }


def bench_sqlite_ceiling(steps: int) -> dict:
    """The same rows as ``log_bulk``, straight into SQLite with ``executemany``.

    Same table shape, index and durability settings as modelyard's metric table (WAL,
    synchronous=FULL), one transaction; the rows are built before the clock starts.
    """
    keys = c.bulk_keys()
    values = c.bulk_values(steps)
    now = int(time.time() * 1000)
    rows = [
        (1, key, value, step, now)
        for step, row in enumerate(values)
        for key, value in zip(keys, row, strict=True)
    ]
    conn = sqlite3.connect(Path.cwd() / "ceiling.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE metrics (id INTEGER PRIMARY KEY, run INTEGER, key TEXT, value REAL,"
        " step INTEGER, timestamp INTEGER)"
    )
    conn.execute("CREATE INDEX ix_metrics_run_key_step ON metrics (run, key, step)")
    start = c.clock()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO metrics (run, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)", rows
    )
    conn.execute("COMMIT")
    seconds = c.clock() - start
    (stored,) = conn.execute("SELECT count(*) FROM metrics").fetchone()
    conn.close()
    return {"points": len(rows), "seconds": seconds, "rate": len(rows) / seconds, "stored": stored}


BENCHES = {
    "log_metric_per_call": bench_log_metric_per_call,
    "log_bulk": bench_log_bulk,
    "create_runs": bench_create_runs,
    "search_10k": bench_search_10k,
    "sqlite_ceiling": bench_sqlite_ceiling,
}


def setup(workdir: Path) -> None:
    """Create the store and the experiment, like the MLflow worker's ``setup`` (untimed)."""
    from modelyard.tracking import client

    yard.init_workspace(workdir)
    client().store.experiments.create(c.EXPERIMENT)


def main() -> None:
    args = c.parse_args()
    workdir = Path(args.workdir).resolve()
    os.chdir(workdir)
    if args.bench not in BENCHES:
        raise SystemExit(f"unknown benchmark {args.bench!r}")
    tool = "sqlite3" if args.bench == "sqlite_ceiling" else "modelyard"
    version = sqlite3.sqlite_version if tool == "sqlite3" else yard.__version__
    if tool == "modelyard":
        setup(workdir)
    result = BENCHES[args.bench](args.n)
    result.update(tool=tool, version=version, bench=args.bench)
    c.report(result)


if __name__ == "__main__":
    main()
