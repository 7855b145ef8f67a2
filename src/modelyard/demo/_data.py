"""A synthetic churn data set: generated, never downloaded."""

from __future__ import annotations

import numpy as np
import pandas as pd

PLANS = np.array(["basic", "plus", "pro"])
REGIONS = np.array(["north", "south", "east", "west"])


def churn_frame(rows: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Customers with tenure, usage, plan and region; ``churned`` depends on them with noise."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    monthly = rng.gamma(4.0, 15.0, rows).round(2)
    support_calls = rng.poisson(1.5, rows)
    plan = rng.choice(PLANS, rows, p=[0.5, 0.3, 0.2])
    region = rng.choice(REGIONS, rows)
    logit = (
        -1.0
        - 0.045 * tenure
        + 0.012 * monthly
        + 0.35 * support_calls
        + np.where(plan == "basic", 0.6, 0.0)
        + np.where(region == "south", 0.3, 0.0)
        + rng.normal(0, 0.6, rows)
    )
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "support_calls": support_calls,
            "plan": plan,
            "region": region,
            "churned": churned,
        }
    )


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric model inputs: one-hot plan and region next to the numeric columns."""
    x = frame.drop(columns=["churned"])
    return pd.get_dummies(x, columns=["plan", "region"], dtype=float)
