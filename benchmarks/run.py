"""Side-by-side benchmarks: modelyard experiment tracking against MLflow (SQLite backend).

Run from the repository root with the modelyard venv::

    .venv/bin/python benchmarks/run.py [--quick] [--only NAME[,NAME]] [--repeat N]

For every benchmark and repetition the harness starts one worker process per tool, each in a
fresh temporary folder with a fresh store: ``_mlflow_worker.py`` under ``.bench-venv``
(MLflow installed there) and ``_yard_worker.py`` under ``.venv``. Each worker times its work
and prints one JSON line. The harness alternates which tool goes first, takes medians over
the repetitions, prints a table with the ratio, and writes ``benchmarks/results.json``.
Temporary folders are removed only at the very end, after all timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YARD_PYTHON = ROOT / ".venv" / "bin" / "python"
MLFLOW_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
WORKERS = {
    "mlflow": (MLFLOW_PYTHON, HERE / "_mlflow_worker.py"),
    "modelyard": (YARD_PYTHON, HERE / "_yard_worker.py"),
    "sqlite3": (YARD_PYTHON, HERE / "_yard_worker.py"),
}
RESULT_PREFIX = "BENCH-RESULT "
WORKER_TIMEOUT_S = 3600
RETRY_WAIT_S = 60

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


@dataclass(frozen=True)
class Bench:
    name: str
    n: int  # full size: points, bulk steps (x1000 points) or runs
    quick_n: int
    tools: tuple[str, ...]
    target: float | None  # modelyard / MLflow, at least
    what: str


BENCHES = [
    Bench(
        "log_metric_per_call",
        5_000,
        500,
        ("mlflow", "modelyard"),
        300,
        "per-call log_metric in one run, until durably stored",
    ),
    Bench(
        "log_bulk",
        200,
        20,
        ("mlflow", "modelyard"),
        20,
        "1,000 metrics per call (log_batch / log_metrics), until durably stored",
    ),
    Bench(
        "search_10k",
        10_000,
        1_000,
        ("mlflow", "modelyard"),
        50,
        "create runs (5 params, 5 metrics), then filtered + ordered search of 100",
    ),
    Bench(
        "create_runs",
        300,
        100,
        ("mlflow", "modelyard"),
        10,
        "start run, log 5 params, log 5 metrics, end run",
    ),
    Bench(
        "sqlite_ceiling",
        200,
        20,
        ("sqlite3",),
        None,
        "raw sqlite3 executemany of the log_bulk rows (WAL, one index, one transaction)",
    ),
]
BY_NAME = {b.name: b for b in BENCHES}


# -- running workers --------------------------------------------------------------------------


class WorkerFailed(RuntimeError):
    pass


def run_worker(tool: str, bench: str, n: int, workdir: Path) -> dict[str, Any]:
    python, script = WORKERS[tool]
    env = {k: v for k, v in os.environ.items() if k not in ("YARD_URI", "YARD_BLOBS")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [str(python), str(script), bench, "--n", str(n), "--workdir", str(workdir)]
    try:
        done = subprocess.run(
            command,
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WorkerFailed(f"{tool} worker for {bench} took over {WORKER_TIMEOUT_S} s") from exc
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-25:])
    raise WorkerFailed(f"{tool} worker for {bench} exited {done.returncode}:\n{tail}")


def median_of(results: list[dict[str, Any]], field: str) -> float:
    return statistics.median(r[field] for r in results)


def spread(results: list[dict[str, Any]], field: str) -> tuple[float, float]:
    values = [r[field] for r in results]
    return min(values), max(values)


# -- one benchmark ----------------------------------------------------------------------------


def run_bench(
    bench: Bench, n: int, repeat: int, scratch: Path, retries: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """Run every tool ``repeat`` times, alternating which goes first.

    A failed worker is started again (fresh folder) up to ``retries`` times, after
    ``RETRY_WAIT_S``: meant for a tree that someone is editing while the benchmarks run.
    """
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in bench.tools}
    for rep in range(repeat):
        order = bench.tools if rep % 2 == 0 else tuple(reversed(bench.tools))
        for tool in order:
            for attempt in range(retries + 1):
                workdir = Path(
                    tempfile.mkdtemp(prefix=f"{bench.name}-{tool}-{rep}-{attempt}-", dir=scratch)
                )
                started = time.monotonic()
                try:
                    result = run_worker(tool, bench.name, n, workdir)
                    break
                except WorkerFailed as exc:
                    if attempt == retries:
                        raise
                    last = str(exc).strip().splitlines()[-1]
                    console.print(
                        f"  [yellow]{tool} worker failed ({last}); retrying in {RETRY_WAIT_S} s[/]"
                    )
                    time.sleep(RETRY_WAIT_S)
            result["wall_seconds"] = time.monotonic() - started
            runs[tool].append(result)
            console.print(
                f"  [dim]{bench.name} rep {rep + 1}/{repeat} {tool:<9}[/] {describe(result)}"
            )
    return runs


def describe(result: dict[str, Any]) -> str:
    if "search_seconds" in result:
        return (
            f"create {result['create_rate']:,.1f} runs/s ({result['create_seconds']:.1f} s), "
            f"search {result['search_seconds'] * 1000:,.2f} ms, "
            f"{result['returned']} returned of {result['matching']} matching, "
            f"correct={result['correct']}"
        )
    unit = "runs/s" if "runs" in result else "points/s"
    text = f"{result['rate']:,.0f} {unit} ({result['seconds']:.3f} s)"
    if "call_seconds" in result:
        text += f", calls returned after {result['call_seconds']:.3f} s"
    return text


def check(bench: Bench, runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Problems with what the workers stored or found (empty when all is well)."""
    problems = []
    for tool, results in runs.items():
        for i, r in enumerate(results):
            if "stored" in r and r["stored"] != r["points"]:
                problems.append(f"{tool} rep {i + 1} stored {r['stored']} of {r['points']} points")
            if "correct" in r and not r["correct"]:
                problems.append(f"{tool} rep {i + 1} search returned the wrong runs")
            if "returned" in r and r["returned"] != 100:
                problems.append(f"{tool} rep {i + 1} search returned {r['returned']} runs")
    digests = {r["digest"] for results in runs.values() for r in results if "digest" in r}
    if len(digests) > 1:
        problems.append("the tools' searches returned different runs")
    return problems


# -- summary ----------------------------------------------------------------------------------


@dataclass
class Row:
    bench: str
    measure: str
    baseline: str
    yard: str
    ratio: float | None
    ratio_text: str
    target: str
    met: bool | None
    baseline_value: float = 0.0  # median, in the unit of ``measure``
    yard_value: float = 0.0


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def cell(results: list[dict[str, Any]], field: str, scale: float = 1.0, digits: int = 0) -> str:
    lo, hi = spread(results, field)
    mid = median_of(results, field)
    if len(results) == 1:
        return fmt(mid * scale, digits)
    return (
        f"{fmt(mid * scale, digits)}\n[dim]{fmt(lo * scale, digits)}-{fmt(hi * scale, digits)}[/]"
    )


def summarise(
    bench: Bench, n: int, runs: dict[str, list[dict[str, Any]]], bulk_yard: list[dict[str, Any]]
) -> list[Row]:
    def ratio_row(
        measure: str,
        field: str,
        target: float | None,
        *,
        invert: bool = False,
        scale: float = 1.0,
        digits: int = 0,
    ) -> Row:
        ml, yd = runs["mlflow"], runs["modelyard"]
        ratio = median_of(yd, field) / median_of(ml, field)
        if invert:
            ratio = 1 / ratio
        return Row(
            bench.name,
            measure,
            cell(ml, field, scale, digits),
            cell(yd, field, scale, digits),
            ratio,
            f"{ratio:,.1f}x",
            f">= {target:g}x" if target else "",
            ratio >= target if target else None,
            median_of(ml, field) * scale,
            median_of(yd, field) * scale,
        )

    if bench.name == "log_metric_per_call":
        return [ratio_row(f"points/s ({n:,} calls)", "rate", bench.target)]
    if bench.name == "log_bulk":
        return [ratio_row(f"points/s ({n * 1000:,} points)", "rate", bench.target)]
    if bench.name == "create_runs":
        return [ratio_row(f"runs/s ({n:,} runs)", "rate", bench.target)]
    if bench.name == "search_10k":
        return [
            ratio_row(f"create runs/s ({n:,} runs)", "create_rate", None, digits=1),
            ratio_row(
                "search ms (median of 5)",
                "search_seconds",
                bench.target,
                invert=True,
                scale=1000,
                digits=2,
            ),
        ]
    if bench.name == "sqlite_ceiling":
        raw = runs["sqlite3"]
        fraction = median_of(bulk_yard, "rate") / median_of(raw, "rate")
        return [
            Row(
                bench.name,
                f"points/s ({n * 1000:,} rows): raw sqlite3 vs modelyard log_bulk",
                cell(raw, "rate"),
                cell(bulk_yard, "rate"),
                fraction,
                f"{fraction:.0%} of raw",
                "",
                None,
                median_of(raw, "rate"),
                median_of(bulk_yard, "rate"),
            )
        ]
    raise AssertionError(bench.name)


def print_table(rows: list[Row], repeat_note: str) -> None:
    table = Table(title="modelyard vs MLflow (SQLite backend)", caption=repeat_note)
    table.add_column("benchmark")
    table.add_column("measure")
    table.add_column("MLflow / baseline", justify="right")
    table.add_column("modelyard", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="right")
    table.add_column("met", justify="center")
    for row in rows:
        met = "" if row.met is None else ("[green]yes[/]" if row.met else "[red]NO[/]")
        table.add_row(
            row.bench, row.measure, row.baseline, row.yard, row.ratio_text, row.target, met
        )
    console.print(table)


# -- environment ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_at_start": load,
    }


def preflight(tools: set[str]) -> None:
    missing = [
        str(python)
        for tool, (python, _) in WORKERS.items()
        if tool in tools and not python.exists()
    ]
    if missing:
        raise SystemExit(
            f"missing interpreter(s): {', '.join(missing)}. Create the MLflow venv with\n"
            "  python3 -m venv .bench-venv && .bench-venv/bin/pip install mlflow\n"
            "(or `make -C benchmarks bench-venv`)"
        )


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads (~10x)")
    parser.add_argument(
        "--only", default="", help=f"comma-separated benchmarks: {', '.join(BY_NAME)}"
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool (median)")
    parser.add_argument(
        "--search-repeat",
        type=int,
        default=None,
        help="repetitions of search_10k (default: 1 in full mode, --repeat with --quick); "
        "each repetition rebuilds the 10,000-run stores, which takes MLflow 3-6 minutes",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores")
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        help=f"start a failed worker again up to N times, {RETRY_WAIT_S} s apart (default 0)",
    )
    parser.add_argument("--tmp", type=Path, default=None, help="where temporary stores go")
    return parser.parse_args(argv)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selected = [BY_NAME[name] for name in args.only.split(",") if name] if args.only else BENCHES
    unknown = [name for name in args.only.split(",") if name and name not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(BY_NAME)}")
    preflight({tool for b in selected for tool in b.tools} | {"modelyard"})
    search_repeat = args.search_repeat or (args.repeat if args.quick else 1)

    signal.signal(signal.SIGTERM, _terminate)  # so that the scratch folder is removed
    scratch = Path(tempfile.mkdtemp(prefix="modelyard-bench-", dir=args.tmp))
    started = time.time()
    info = machine()
    console.print(
        f"[bold]modelyard vs MLflow[/] on {info['cpu'] or info['platform']} "
        f"({info['cores']} cores), scratch {scratch}, repeat {args.repeat}"
        f"{' (quick)' if args.quick else ''}"
    )
    all_runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    rows: list[Row] = []
    problems: list[str] = []
    record: dict[str, Any] = {}
    try:
        for bench in selected:
            n = bench.quick_n if args.quick else bench.n
            repeat = search_repeat if bench.name == "search_10k" else args.repeat
            console.print(f"[bold]{bench.name}[/] - {bench.what} (n={n:,}, x{repeat})")
            try:
                runs = run_bench(bench, n, repeat, scratch, args.retries)
                bulk_yard = []
                if bench.name == "sqlite_ceiling":
                    bulk_yard = all_runs.get("log_bulk", {}).get("modelyard", [])
                    if not bulk_yard:  # log_bulk was not run in this invocation: measure it now
                        bulk_yard = run_bench(
                            Bench("log_bulk", n, n, ("modelyard",), None, ""),
                            n,
                            repeat,
                            scratch,
                            args.retries,
                        )["modelyard"]
                all_runs[bench.name] = runs
                bench_rows = summarise(bench, n, runs, bulk_yard)
                bench_problems = check(bench, runs)
            except WorkerFailed as exc:
                console.print(f"[red]{bench.name} failed:[/] {exc}")
                problems.append(f"{bench.name}: {exc}")
                continue
            problems += [f"{bench.name}: {p}" for p in bench_problems]
            rows += bench_rows
            record[bench.name] = {
                "what": bench.what,
                "n": n,
                "repeat": repeat,
                "runs": runs,
                "summary": [
                    {
                        "measure": r.measure,
                        "baseline": r.baseline_value,
                        "modelyard": r.yard_value,
                        "ratio": r.ratio,
                        "target": r.target,
                        "met": r.met,
                    }
                    for r in bench_rows
                ],
                "problems": bench_problems,
            }
            if bulk_yard:
                record[bench.name]["modelyard_log_bulk"] = bulk_yard
    finally:
        if args.keep:
            console.print(f"kept temporary stores in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    note = f"medians of {args.repeat} repetitions"
    if any(b.name == "search_10k" for b in selected):
        note += f" ({search_repeat} for search_10k; its search: median of 5 per repetition)"
    note += "; the small figures are min-max"
    if rows:
        print_table(rows, note)
    for problem in problems:
        console.print(f"[red]problem:[/] {problem}")

    versions = {}
    for runs in all_runs.values():
        for tool, results in runs.items():
            if results:
                versions[tool] = results[0].get("version")
    output = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_seconds": round(time.time() - started, 1),
        "command": " ".join([".venv/bin/python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "repeat": args.repeat,
        "search_repeat": search_repeat,
        "machine": info,
        "versions": versions,
        "benchmarks": record,
        "problems": problems,
    }
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    console.print(f"wrote {args.output}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
