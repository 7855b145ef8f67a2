"""Pieces shared by both benchmark workers: the workload (identical data for both tools),
the command line and the way a worker reports its timings.

This file is imported by ``_mlflow_worker.py`` (MLflow venv) and ``_yard_worker.py``
(modelyard venv), so it uses the standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "
SEED = 20240601

EXPERIMENT = "bench"
PER_CALL_KEY = "loss"
BULK_KEYS = 1000
N_PARAMS = 5
N_METRICS = 5
SEARCH_FILTER = "metrics.m0 > 0.5 and params.p1 = 'v1'"
SEARCH_LIMIT = 100
SEARCH_REPEATS = 5


def per_call_values(n: int) -> list[float]:
    rng = random.Random(SEED)
    return [rng.random() for _ in range(n)]


def bulk_keys() -> list[str]:
    return [f"m{j:04d}" for j in range(BULK_KEYS)]


def bulk_values(steps: int) -> list[list[float]]:
    """``steps`` rows of ``BULK_KEYS`` values: row s is logged at step s."""
    rng = random.Random(SEED + 1)
    return [[rng.random() for _ in range(BULK_KEYS)] for _ in range(steps)]


def run_specs(n: int) -> list[tuple[str, dict[str, str], dict[str, float]]]:
    """(name, params, metrics) of ``n`` runs.

    ``p1`` alternates v0/v1 and ``m0`` is uniform in [0, 1), so about a quarter of the runs
    match ``SEARCH_FILTER`` (~2,500 of 10,000; ~250 of 1,000): well over ``SEARCH_LIMIT``.
    """
    rng = random.Random(SEED + 2)
    specs = []
    for i in range(n):
        params = {f"p{j}": f"v{i % (j + 1)}" for j in range(N_PARAMS)}
        metrics = {f"m{j}": rng.random() for j in range(N_METRICS)}
        specs.append((f"run-{i:05d}", params, metrics))
    return specs


def expected_search(specs: list[tuple[str, dict[str, str], dict[str, float]]]) -> list[str]:
    """Names of the runs the search must return, in order."""
    hits = [(m["m0"], name) for name, p, m in specs if m["m0"] > 0.5 and p["p1"] == "v1"]
    hits.sort(reverse=True)
    return [name for _, name in hits[:SEARCH_LIMIT]]


def matching_count(specs: list[tuple[str, dict[str, str], dict[str, float]]]) -> int:
    return sum(1 for _, p, m in specs if m["m0"] > 0.5 and p["p1"] == "v1")


def names_digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("bench")
    parser.add_argument("--n", type=int, required=True, help="points, steps or runs")
    parser.add_argument("--workdir", required=True)
    return parser.parse_args(argv)


def report(result: dict[str, Any]) -> None:
    """Print the one JSON line the harness reads."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


clock = time.perf_counter
