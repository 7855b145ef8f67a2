"""The MLflow side of ``bench_models.py``; runs under ``.bench-venv/bin/python``.

    python _mlflow_models_worker.py log|load|registry <model: rf|xgb> <folder> [n]

Prints one ``BENCH-RESULT {json}`` line. Standard library + MLflow + the model libraries.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

NAME = "bench"


def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(20240601)
    x = pd.DataFrame(rng.normal(size=(2000, 10)), columns=[f"f{i}" for i in range(10)])
    y = ((x["f0"] + x["f1"] * x["f2"]) > 0).astype(int).to_numpy()
    return x, y


def train(kind: str, x: pd.DataFrame, y: np.ndarray):  # type: ignore[no-untyped-def]
    if kind == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0).fit(x, y)
    import xgboost

    return xgboost.XGBClassifier(n_estimators=100, max_depth=6, random_state=0).fit(x, y)


def setup(folder: str) -> None:
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    mlflow.set_registry_uri(f"sqlite:///{folder}/mlflow.db")
    if mlflow.get_experiment_by_name("models") is None:
        mlflow.create_experiment("models", artifact_location=f"file://{folder}/artifacts")
    mlflow.set_experiment("models")


def flavor(kind: str):  # type: ignore[no-untyped-def]
    return mlflow.sklearn if kind == "rf" else mlflow.xgboost


def log(kind: str, folder: str) -> dict:
    setup(folder)
    x, y = data()
    model = train(kind, x, y)
    started = time.perf_counter()
    # MLflow 3 saves scikit-learn models with skops and refuses trees unless told to trust them
    extra = {"skops_trusted_types": ["sklearn.tree._tree.Tree"]} if kind == "rf" else {}
    with mlflow.start_run():
        flavor(kind).log_model(
            model, name="model", input_example=x.head(5), registered_model_name=NAME, **extra
        )
    elapsed = time.perf_counter() - started
    MlflowClient().set_registered_model_alias(NAME, "champion", 1)
    return {"log_s": elapsed}


def load(kind: str, folder: str) -> dict:
    setup(folder)
    x, _ = data()
    import sklearn.ensemble  # noqa: F401  the model library is imported before the clock

    if kind == "xgb":
        import xgboost  # noqa: F401
    row = x.head(1)
    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    model.predict(row)
    first = time.perf_counter() - started
    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    model.predict(row)
    warm = time.perf_counter() - started
    return {"load_predict_s": first, "warm_load_predict_s": warm}


def registry(kind: str, folder: str, n: int) -> dict:
    setup(folder)
    client = MlflowClient()
    version = client.get_model_version(NAME, "1")
    source, run_id = version.source, version.run_id
    started = time.perf_counter()
    for _ in range(n):
        client.create_model_version(NAME, source, run_id=run_id)
    register = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(n):
        client.set_registered_model_alias(NAME, "champion", str(i % 5 + 1))
    alias = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(n):
        client.get_model_version_by_alias(NAME, "champion")
    get = time.perf_counter() - started
    return {"register_per_s": n / register, "alias_per_s": n / alias, "get_per_s": n / get}


def main() -> None:
    action, kind, folder = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if action == "log":
        result = log(kind, folder)
    elif action == "load":
        result = load(kind, folder)
    else:
        result = registry(kind, folder, n)
    result["mlflow"] = mlflow.__version__
    sys.stdout.write("BENCH-RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
