"""Model serving benchmark: ``yard serve`` against ``mlflow models serve`` on the same
RandomForest (50 trees, 20 features), same machine, same run, load from a separate process.

Run from the repository root (MLflow in ``.bench-venv``)::

    .venv/bin/python benchmarks/bench_serving.py [--quick] [--repeats 3] [--seconds 4]

What it does:

1. trains the forest once (seeded) and logs it to a modelyard workspace and to an MLflow
   file store, both in a temporary folder;
2. measures the in-process ``predict`` floor of one row (scikit-learn, and ONNX Runtime);
3. for each server - MLflow (``--env-manager local``, 2 workers), ``yard serve`` (1 worker,
   prediction log on), ``yard serve --optimize`` (ONNX fast path) - starts it, warms it up,
   then runs the load generator (this file with ``--load``: an asyncio HTTP/1.1 keep-alive
   client in its own process) at concurrency 1, 16 and 64 for ``--seconds`` each, single-row
   JSON requests; reports p50/p99 latency, requests/s, errors and the resident memory of
   the server's process tree. Medians of ``--repeats`` runs; results go to
   ``benchmarks/serving_results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _net import free_port, wait_ready  # the script's folder is on sys.path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YARD_BIN = ROOT / ".venv" / "bin"
MLFLOW_BIN = ROOT / ".bench-venv" / "bin"
FEATURES = [f"f{i}" for i in range(20)]
CONCURRENCY = (1, 16, 64)
SEED = 7

TRAIN_MLFLOW = """
import sys, mlflow, numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
rng = np.random.default_rng({seed})
x = pd.DataFrame(rng.normal(size=(2000, 20)), columns=[f"f{{i}}" for i in range(20)])
y = (x["f0"] + x["f1"] * x["f2"] > 0).astype(int)
model = RandomForestClassifier(n_estimators=50, max_depth=10, random_state=0).fit(x, y)
mlflow.set_tracking_uri(sys.argv[1])
with mlflow.start_run() as run:
    mlflow.sklearn.log_model(
        model, name="model", input_example=x.head(5),
        skops_trusted_types=["sklearn.tree._tree.Tree"],  # our own file: trust the trees
    )
print(run.info.run_id)
"""


YARD_VARIANTS = {  # name -> `yard serve` options; MLflow always runs 2 workers
    "yard": [],
    "yard_optimize": ["--optimize"],
    "yard_optimize_2w": ["--optimize", "--workers", "2"],
}


# -- load generator (runs in its own process) ----------------------------------------------------


async def _client(host: str, port: int, request: bytes, stop_at: float, lat: list[float],
                  errors: list[int]) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def run_load(url: str, body: bytes, concurrency: int, seconds: float) -> dict[str, Any]:
    host, port_path = url.removeprefix("http://").split(":", 1)
    port, path = port_path.split("/", 1)
    request = (
        f"POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors: list[int] = []

    async def main() -> float:
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_client(host, int(port), request, stop_at, latencies, errors)
              for _ in range(concurrency))
        )  # fmt: skip
        return time.perf_counter() - started

    try:  # the same client for every server: uvloop (installed with uvicorn) halves its cost
        import uvloop

        elapsed = uvloop.run(main())
    except ImportError:
        elapsed = asyncio.run(main())
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": len(errors),
        "rps": n / elapsed,
        "p50_ms": latencies[n // 2] * 1000 if n else None,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else None,
    }


# -- servers --------------------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except OSError:
            continue
    return total / 1024


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def bench_server(
    name: str,
    command: list[str],
    cwd: Path,
    ready: str,
    predict_url: str,
    body: bytes,
    repeats: int,
    seconds: float,
    env: dict[str, str],
) -> dict[str, Any]:
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_ready(ready)
        _load_process(predict_url, body, 4, 1.0)  # warm up every worker
        result: dict[str, Any] = {}
        for concurrency in CONCURRENCY:
            runs = [_load_process(predict_url, body, concurrency, seconds) for _ in range(repeats)]
            result[f"c{concurrency}"] = {
                key: statistics.median(r[key] for r in runs)
                for key in ("rps", "p50_ms", "p99_ms", "errors", "requests")
            }
            print(f"  {name} c={concurrency}: {result[f'c{concurrency}']}", flush=True)
        result["rss_mb"] = _rss_mb(process.pid)
        return result
    finally:
        _stop(process)


def _load_process(url: str, body: bytes, concurrency: int, seconds: float) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--load", url, "--concurrency", str(concurrency),
         "--seconds", str(seconds), "--body", body.decode()],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- setup ----------------------------------------------------------------------------------------


def setup(folder: Path) -> tuple[Any, str, dict[str, float]]:
    """Train, log to both tools; return the row, the MLflow model URI and the floors."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    from modelyard.models import ModelClient
    from modelyard.serving import optimize
    from modelyard.workspace import init_workspace

    rng = np.random.default_rng(SEED)
    x = pd.DataFrame(rng.normal(size=(2000, 20)), columns=FEATURES)
    y = (x["f0"] + x["f1"] * x["f2"] > 0).astype(int)
    model = RandomForestClassifier(n_estimators=50, max_depth=10, random_state=0).fit(x, y)
    workspace = init_workspace(folder)
    client = ModelClient(workspace)
    client.log_model(model, name="rf", input_example=x.head(5))
    client.set_alias("rf", "champion", 1)
    done = subprocess.run(
        [str(MLFLOW_BIN / "python"), "-c", TRAIN_MLFLOW.format(seed=SEED),
         f"sqlite:///{folder / 'mlflow.db'}"],
        capture_output=True, text=True, check=True, cwd=folder,
    )  # fmt: skip
    run_id = done.stdout.strip().splitlines()[-1]
    row = x.head(1)
    loaded = client.load("models:/rf/1")
    floors = {}
    for label, fn in (
        ("sklearn_predict_ms", lambda: model.predict(row)),
        ("yard_model_predict_ms", lambda: loaded.predict(row)),
    ):
        fn()
        started = time.perf_counter()
        for _ in range(200):
            fn()
        floors[label] = (time.perf_counter() - started) / 200 * 1000
    fast = optimize(loaded)
    if fast.predict is not None:
        matrix = row.to_numpy(dtype="float32")
        started = time.perf_counter()
        for _ in range(2000):
            fast.predict(matrix)
        floors["onnx_predict_ms"] = (time.perf_counter() - started) / 2000 * 1000
    return row.iloc[0].to_dict(), f"runs:/{run_id}/model", floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat of 2 s per point")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--body", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(run_load(args.load, args.body.encode(), args.concurrency, args.seconds)))
        return
    repeats, seconds = (1, 2.0) if args.quick else (args.repeats, args.seconds)
    with tempfile.TemporaryDirectory(prefix="yard-bench-serving-") as tmp:
        folder = Path(tmp)
        row, mlflow_uri, floors = setup(folder)
        print(f"in-process floor of one row: {floors}", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YARD_", "MLFLOW_"))}
        results: dict[str, Any] = {"floors": floors}
        yard_body = json.dumps({"records": [row]}).encode()
        mlflow_body = json.dumps({"dataframe_records": [row]}).encode()
        port = free_port()
        results["mlflow"] = bench_server(
            "mlflow (2 workers)",
            [str(MLFLOW_BIN / "mlflow"), "models", "serve", "-m", mlflow_uri, "-p", str(port),
             "-h", "127.0.0.1", "-w", "2", "--env-manager", "local"],
            folder, f"http://127.0.0.1:{port}/ping", f"http://127.0.0.1:{port}/invocations",
            mlflow_body, repeats, seconds,
            {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
             "PATH": f"{MLFLOW_BIN}:{env.get('PATH', '')}"},
        )  # fmt: skip
        for name, extra in YARD_VARIANTS.items():
            port = free_port()
            workers = extra[extra.index("--workers") + 1] if "--workers" in extra else "1"
            results[name] = bench_server(
                f"{name} ({workers} worker{'s' if workers != '1' else ''})",
                [str(YARD_BIN / "yard"), "serve", "models:/rf@champion", "--port", str(port),
                 *extra],
                folder, f"http://127.0.0.1:{port}/v2/health/ready",
                f"http://127.0.0.1:{port}/predict", yard_body, repeats, seconds, env,
            )  # fmt: skip
    (HERE / "serving_results.json").write_text(json.dumps(results, indent=2) + "\n")
    _report(results)


def _report(results: dict[str, Any]) -> None:
    mlflow = results["mlflow"]
    print("\nmedians; ratio = modelyard / MLflow (throughput) or MLflow / modelyard (latency)")
    print(
        f"{'server':<16}{'conc':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'x rps':>8}{'x p99':>8}"
    )
    for name in ("mlflow", *YARD_VARIANTS):
        for c in CONCURRENCY:
            r, m = results[name][f"c{c}"], mlflow[f"c{c}"]
            print(
                f"{name:<16}{c:>5}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                f"{r['rps'] / m['rps']:>8.1f}{m['p99_ms'] / r['p99_ms']:>8.1f}"
            )
        print(f"{name:<16} resident memory {results[name]['rss_mb']:.0f} MB")
    print(f"floors: {results['floors']}")


if __name__ == "__main__":
    main()
