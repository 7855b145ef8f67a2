"""Team server benchmark: ``yard server`` against MLflow's tracking server, both on the local
PostgreSQL (each in a database of its own), both with 2 workers, clients over HTTP.

Run from the repository root (MLflow and psycopg2 in ``.bench-venv``)::

    .venv/bin/python benchmarks/bench_server.py [--quick] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Workloads, timed until every point is durably stored on the server:

- ``per_call``: N points logged one call at a time in one run (MLflow: ``mlflow.log_metric``,
  one HTTP request each; modelyard: ``yard.log_metric`` + ``yard.flush()``, batched).
- ``bulk``: steps x 1,000 metrics per call (MLflow ``log_batch``; modelyard ``log_metrics``).
- ``concurrent``: 32 client processes at once, each logging P points in requests of 100
  points (MLflow ``log_batch``; modelyard ``store.runs.log_metrics``): total points/s and the
  p50/p99 latency of one request.

The same file is the client worker of each side (``--client mlflow|yard``), so it imports
neither tool at the top. It prints a table and writes ``benchmarks/server_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _net import free_port, wait_ready  # the script's folder is on sys.path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YARD_PYTHON = ROOT / ".venv" / "bin" / "python"
MLFLOW_BIN = ROOT / ".bench-venv" / "bin"
RESULT = "SERVER-BENCH "
BATCH = 100


# -- client side (runs in either venv) -------------------------------------------------------


def _values(n: int) -> list[float]:
    import random

    rng = random.Random(7)
    return [rng.random() for _ in range(n)]


def client_mlflow(work: str, n: int, url: str) -> dict[str, Any]:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(url)
    experiment = f"bench-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(experiment)
    client = MlflowClient()
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        latencies: list[float] = []
        start = time.perf_counter()
        if work == "per_call":
            for i, v in enumerate(_values(n)):
                mlflow.log_metric("loss", v, step=i)
        elif work == "bulk":
            keys = [f"m{j:04d}" for j in range(1000)]
            for step in range(n):
                ts = int(time.time() * 1000)
                client.log_batch(
                    run_id, metrics=[Metric(k, 0.5, ts, step) for k in keys], synchronous=True
                )
        else:  # concurrent: one of 32 processes
            ts = int(time.time() * 1000)
            began = time.time()
            for first in range(0, n, BATCH):
                t0 = time.perf_counter()
                client.log_batch(
                    run_id,
                    metrics=[Metric("loss", 0.5, ts, s) for s in range(first, first + BATCH)],
                    synchronous=True,
                )
                latencies.append(time.perf_counter() - t0)
            ended = time.time()
        seconds = time.perf_counter() - start
    if work != "concurrent":
        began = ended = 0.0
    return {"seconds": seconds, "latencies": latencies, "began": began, "ended": ended}


def client_yard(work: str, n: int, url: str) -> dict[str, Any]:
    import modelyard as yard
    from modelyard.domain.records import Metric

    os.environ["YARD_URI"] = url  # this worker process only
    latencies: list[float] = []
    experiment = f"bench-{uuid.uuid4().hex[:8]}"
    with yard.start_run(experiment=experiment) as run:
        start = time.perf_counter()
        if work == "per_call":
            for i, v in enumerate(_values(n)):
                yard.log_metric("loss", v, step=i)
            yard.flush()
        elif work == "bulk":
            keys = [f"m{j:04d}" for j in range(1000)]
            for step in range(n):
                yard.log_metrics(dict.fromkeys(keys, 0.5), step=step)
            yard.flush()
        else:
            store = yard.open_workspace().store  # a synchronous store: one request per call
            ts = int(time.time() * 1000)
            start = time.perf_counter()
            began = time.time()
            for first in range(0, n, BATCH):
                t0 = time.perf_counter()
                store.runs.log_metrics(
                    run.id, [Metric("loss", 0.5, s, ts) for s in range(first, first + BATCH)]
                )
                latencies.append(time.perf_counter() - t0)
            ended = time.time()
            store.close()
        seconds = time.perf_counter() - start
    if work != "concurrent":
        began = ended = 0.0
    return {"seconds": seconds, "latencies": latencies, "began": began, "ended": ended}


# -- harness (modelyard venv) ------------------------------------------------------------------


def create_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def start_mlflow(db: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    artifacts = workdir / "mlflow-artifacts"
    artifacts.mkdir()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    process = subprocess.Popen(
        [
            str(MLFLOW_BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            db.replace("postgresql://", "postgresql+psycopg2://", 1),
            "--default-artifact-root",
            artifacts.as_uri(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "mlflow.log").open("wb"),
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/health")
    return process, url


def start_yard(db: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YARD_")}
    env.update(YARD_URI=db)
    created = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "yard"),
            "users",
            "create",
            "bench",
            "--role",
            "admin",
            "--json",
        ],
        env=env,
        capture_output=True,
        check=True,
    )
    token = json.loads(created.stdout)["token"]
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "yard"),
            "server",
            "--db",
            db,
            "--blobs",
            str(workdir / "yard-blobs"),
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "yard.log").open("wb"),
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/readyz")
    return process, url, token


def run_clients(
    tool: str, work: str, n: int, url: str, token: str, count: int
) -> list[dict[str, Any]]:
    python = str(MLFLOW_BIN / "python") if tool == "mlflow" else str(YARD_PYTHON)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YARD_")}
    env["YARD_TOKEN"] = token
    args = [python, __file__, "--client", tool, "--work", work, "--n", str(n), "--url", url]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=3600)
        lines = [line for line in out.decode().splitlines() if line.startswith(RESULT)]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"{tool} client failed: {err.decode()[-2000:]}")
        results.append(json.loads(lines[-1][len(RESULT) :]))
    return results


def measure(tool: str, url: str, token: str, sizes: dict[str, int], clients: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    r = run_clients(tool, "per_call", sizes["per_call"], url, token, 1)[0]
    out["per_call_points_s"] = sizes["per_call"] / r["seconds"]
    r = run_clients(tool, "bulk", sizes["bulk"], url, token, 1)[0]
    out["bulk_points_s"] = sizes["bulk"] * 1000 / r["seconds"]
    wall = time.perf_counter()
    results = run_clients(tool, "concurrent", sizes["concurrent"], url, token, clients)
    wall = time.perf_counter() - wall
    latencies = sorted(x for r in results for x in r["latencies"])
    # From the first client's first request to the last client's last one: the time during
    # which the server had all the work, whatever the clients' start-up times.
    span = max(r["ended"] for r in results) - min(r["began"] for r in results)
    out["concurrent_points_s"] = clients * sizes["concurrent"] / span
    out["concurrent_wall_s"] = wall
    out["concurrent_p50_ms"] = 1000 * statistics.median(latencies)
    out["concurrent_p99_ms"] = 1000 * latencies[int(0.99 * (len(latencies) - 1))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", choices=["mlflow", "yard"])
    parser.add_argument("--work")
    parser.add_argument("--n", type=int)
    parser.add_argument("--url")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--output", default=str(HERE / "server_results.json"))
    args = parser.parse_args()
    if args.client:
        fn = client_mlflow if args.client == "mlflow" else client_yard
        print(RESULT + json.dumps(fn(args.work, args.n, args.url)), flush=True)
        return

    sizes = (
        {"per_call": 300, "bulk": 5, "concurrent": 1000}
        if args.quick
        else {"per_call": 1000, "bulk": 20, "concurrent": 5000}
    )
    workdir = Path(tempfile.mkdtemp(prefix="yard-server-bench-"))
    suffix = uuid.uuid4().hex[:8]
    results: dict[str, Any] = {"sizes": sizes, "clients": args.clients}
    try:
        for tool in ("mlflow", "yard"):
            name = f"bench_{tool}_{suffix}"
            db = create_database(args.pg, name)
            if tool == "mlflow":
                process, url = start_mlflow(db, workdir)
                token = ""
            else:
                process, url, token = start_yard(db, workdir)
            try:
                results[tool] = measure(tool, url, token, sizes, args.clients)
            finally:
                os.killpg(process.pid, 15)
                process.wait(30)
                drop_database(args.pg, name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    import importlib.metadata as md

    results["versions"] = {"modelyard": md.version("modelyard")}
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    m, y = results["mlflow"], results["yard"]
    rows = [
        ("per-call logging, points/s", "per_call_points_s", True),
        ("bulk logging, points/s", "bulk_points_s", True),
        (f"{args.clients} clients, points/s", "concurrent_points_s", True),
        (f"{args.clients} clients, p50 ms per 100-point request", "concurrent_p50_ms", False),
        (f"{args.clients} clients, p99 ms per 100-point request", "concurrent_p99_ms", False),
    ]
    print(f"{'measure':50} {'MLflow':>12} {'modelyard':>12} {'ratio':>8}")
    for label, key, higher in rows:
        ratio = y[key] / m[key] if higher else m[key] / y[key]
        print(f"{label:50} {m[key]:12,.1f} {y[key]:12,.1f} {ratio:7.1f}x")


if __name__ == "__main__":
    main()
