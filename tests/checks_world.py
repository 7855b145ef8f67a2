"""A small world for the checks tests: churn-like data, two registered models, a crasher."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import modelyard as yard
from modelyard.data import DataClient
from modelyard.models import ModelClient
from modelyard.workspace import Workspace

INPUTS = ["tenure_months", "monthly_charges"]


def churn(rows: int = 1200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    monthly = rng.gamma(4.0, 15.0, rows).round(2)
    logit = 1.5 - 0.08 * tenure + 0.01 * monthly
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "region": rng.choice(["north", "south"], rows),
            "gender": rng.choice(["f", "m"], rows),
            "customer_name": [f"c{i}" for i in range(rows)],
            "churned": churned,
        }
    )


class Crashing(yard.PythonModel):
    def predict(self, frame):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom: the model is broken")


def build(ws: Workspace) -> dict[str, str]:
    """churn@1 (training), churn@2 (evaluation); churn/1 a good model (champion), churn/2 a
    model that ignores tenure (worse), churn/3 a crashing model."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    data = DataClient(ws)
    models = ModelClient(ws)
    train, evaluation = churn(seed=3), churn(seed=4)
    data.add_frame(train, "churn", message="train")
    data.add_frame(evaluation, "churn", message="eval")
    from modelyard.tracking import TrackingClient

    tracking = TrackingClient(ws, synchronous=True)
    with tracking.start_run("churn", name="good") as run:
        data.use("churn@1", consumer=run.uri)
        good = LogisticRegression(max_iter=500).fit(train[INPUTS], train["churned"])
        models.log_model(good, run_id=run.id, name="churn", input_example=train[INPUTS].head(5))
    models.set_alias("churn", "champion", 1)
    weak = DummyClassifier(strategy="prior").fit(train[INPUTS], train["churned"])
    models.log_model(weak, name="churn", input_example=train[INPUTS].head(5))
    models.log_model(
        Crashing(), name="churn", signature=yard.infer_signature(train[INPUTS]), flavor="python"
    )
    return {"good": "models:/churn/1", "weak": "models:/churn/2", "crash": "models:/churn/3"}


def write_cases(folder: Path, right: bool = True) -> Path:
    cases = pd.DataFrame(
        {"tenure_months": [1, 70], "monthly_charges": [60.0, 60.0], "churned": [1, 0]}
    )
    if not right:
        cases["churned"] = [0, 1]
    path = folder / ("cases.csv" if right else "wrong_cases.csv")
    cases.to_csv(path, index=False)
    return path
