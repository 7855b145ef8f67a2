"""The issue-6 suite on a 100,000-row evaluation set for a RandomForest: total check time
against the bare ``predict`` time of the candidate plus the champion, and peak memory.

    python benchmarks/bench_checks.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    monthly = rng.gamma(4.0, 15.0, rows)
    calls = rng.poisson(1.5, rows)
    logit = 1.0 - 0.06 * tenure + 0.01 * monthly + 0.3 * calls
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "support_calls": calls,
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "gender": rng.choice(["f", "m"], rows),
            "customer_name": rng.integers(0, 1_000_000, rows).astype(str),
            "churned": (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


SUITE = """\
target: churned
data:
  schema: {reference: training}
  max_null_fraction: 0.02
model:
  metrics:
    - {metric: roc_auc, min: 0.60}
    - {metric: roc_auc, min_vs_champion: -0.005}
    - {metric: f1, slice_by: region, min: 0.10}
  fairness:
    - {sensitive: gender, metric: demographic_parity_difference, max: 0.10}
  behaviour:
    - {invariance: {column: customer_name, perturb: shuffle}, max_changed: 0.01}
    - {directional: {column: tenure_months, delta: +12}, expect: non_increasing}
  operational:
    - {latency_p95_ms: 200, batch_size: 1}
    - {max_package_mb: 500}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from sklearn.ensemble import RandomForestClassifier

    from modelyard.checks import CheckClient, Suite
    from modelyard.data import DataClient
    from modelyard.models import ModelClient
    from modelyard.tracking import TrackingClient
    from modelyard.workspace import init_workspace

    inputs = ["tenure_months", "monthly_charges", "support_calls"]
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp))
        data, models = DataClient(ws), ModelClient(ws)
        train, evaluation = frame(20_000, 1), frame(args.rows, 2)
        data.add_frame(train, "churn")
        data.add_frame(evaluation, "churn")
        tracking = TrackingClient(ws, synchronous=True)
        for depth in (8, 10):
            with tracking.start_run("bench", name=f"rf{depth}") as run:
                data.use("churn@1", consumer=run.uri)
                rf = RandomForestClassifier(n_estimators=100, max_depth=depth, n_jobs=1)
                rf.fit(train[inputs], train["churned"])
                models.log_model(rf, run_id=run.id, name="churn", input_example=train[inputs][:5])
        models.set_alias("churn", "champion", 1)
        candidate, champion = models.load("models:/churn/2"), models.load("models:/churn/1")
        started = time.perf_counter()
        candidate.predict(evaluation[inputs])
        champion.predict(evaluation[inputs])
        bare = time.perf_counter() - started
        checks = CheckClient(ws)
        suite = Suite.from_yaml(SUITE)
        started = time.perf_counter()
        report = checks.check_model("models:/churn/2", suite, "churn@2")
        total = time.perf_counter() - started
        ws.store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows {args.rows:,}; checks {len(report.outcomes)} ({report.status.value})")
    print(
        f"bare predict candidate+champion {bare:.2f}s; whole suite {total:.2f}s; "
        f"ratio {total / bare:.2f}x (target <= 3x); peak RSS {peak_mb:.0f} MB"
    )
    sys.exit(0 if total <= 3 * bare else 1)


if __name__ == "__main__":
    main()
