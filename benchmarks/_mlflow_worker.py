"""MLflow side of the benchmarks; runs under ``.bench-venv/bin/python``.

One invocation = one repetition of one benchmark in a fresh working folder: the SQLite
tracking store ``sqlite:///<workdir>/mlflow.db`` and a local artifact folder are created
(untimed), the work is timed, and one JSON line of timings is printed.

Usage: _mlflow_worker.py BENCH --n N --workdir DIR
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

# No telemetry (there is no network here anyway: do not let it add noise) and no async logging.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c


def setup(workdir: Path) -> str:
    """Create the store and the experiment; returns the experiment id."""
    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    artifacts = workdir / "mlruns-artifacts"
    artifacts.mkdir()
    experiment_id = mlflow.create_experiment(c.EXPERIMENT, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def bench_log_metric_per_call(n: int) -> dict:
    values = c.per_call_values(n)
    with mlflow.start_run(run_name="per-call") as run:
        start = c.clock()
        for i, value in enumerate(values):
            mlflow.log_metric(c.PER_CALL_KEY, value, step=i)
        # mlflow.log_metric is synchronous: each call has committed when it returns.
        seconds = c.clock() - start
    stored = count_points(run.info.run_id)
    return {"points": n, "seconds": seconds, "rate": n / seconds, "stored": stored}


def bench_log_bulk(steps: int) -> dict:
    keys = c.bulk_keys()
    values = c.bulk_values(steps)
    client = MlflowClient()
    with mlflow.start_run(run_name="bulk") as run:
        run_id = run.info.run_id
        start = c.clock()
        for step, row in enumerate(values):
            now = int(time.time() * 1000)
            client.log_batch(
                run_id, metrics=[Metric(k, v, now, step) for k, v in zip(keys, row, strict=True)]
            )
        seconds = c.clock() - start
    points = steps * len(keys)
    stored = count_points(run_id)
    return {"points": points, "seconds": seconds, "rate": points / seconds, "stored": stored}


def count_points(run_id: str) -> int:
    """Metric rows stored for the run, counted in the database itself."""
    with sqlite3.connect(Path.cwd() / "mlflow.db") as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM metrics WHERE run_uuid = ?", (run_id,)
        ).fetchone()
    return count


def create_runs(specs: list) -> float:
    """Seconds to create the runs: start, log 5 params, log 5 metrics, end."""
    start = c.clock()
    for name, params, metrics in specs:
        with mlflow.start_run(run_name=name):
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
    return c.clock() - start


def bench_create_runs(n: int) -> dict:
    seconds = create_runs(c.run_specs(n))
    return {"runs": n, "seconds": seconds, "rate": n / seconds}


def bench_search_10k(n: int, experiment_id: str) -> dict:
    specs = c.run_specs(n)
    create_seconds = create_runs(specs)
    expected = c.expected_search(specs)
    times = []
    names: list[str] = []
    for _ in range(c.SEARCH_REPEATS):
        start = c.clock()
        frame = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string=c.SEARCH_FILTER,
            order_by=["metrics.m0 DESC"],
            max_results=c.SEARCH_LIMIT,
        )
        times.append(c.clock() - start)
        names = frame["tags.mlflow.runName"].tolist()
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


def main() -> None:
    args = c.parse_args()
    workdir = Path(args.workdir).resolve()
    os.chdir(workdir)
    experiment_id = setup(workdir)
    if args.bench == "log_metric_per_call":
        result = bench_log_metric_per_call(args.n)
    elif args.bench == "log_bulk":
        result = bench_log_bulk(args.n)
    elif args.bench == "create_runs":
        result = bench_create_runs(args.n)
    elif args.bench == "search_10k":
        result = bench_search_10k(args.n, experiment_id)
    else:
        raise SystemExit(f"unknown benchmark {args.bench!r}")
    result.update(tool="mlflow", version=mlflow.__version__, bench=args.bench)
    c.report(result)


if __name__ == "__main__":
    main()
