"""Models: modelyard against MLflow, side by side in one invocation.

    .venv/bin/python benchmarks/bench_models.py [--repeat 3] [--registry-n 200]

For a scikit-learn RandomForest (100 trees) and an XGBoost classifier (100 rounds), both
trained on the same seeded data in each tool's process:

1. ``log_model`` with registration (registered model ``bench``, version 1, alias champion);
2. load-to-first-prediction: a *fresh process* imports the tool, pandas and the model
   library, then the clock runs from ``load_model("models:/bench@champion")`` until a
   one-row ``predict`` returns (MLflow: ``mlflow.pyfunc.load_model``); the same again in
   that process ("warm");
3. registry operations per second: register a new version from the run's package, move the
   alias, get the version by alias (``--registry-n`` of each).

Each repeat uses fresh stores in a fresh temporary folder, and alternates which tool goes
first. Targets (issue 5): load-to-first-prediction <= 1/2 of MLflow's; registry >= 5x.
This file is also the modelyard worker (``--worker``), run under ``.venv``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YARD_PYTHON = ROOT / ".venv" / "bin" / "python"
MLFLOW_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
PREFIX = "BENCH-RESULT "
NAME = "bench"


# -- the modelyard worker --------------------------------------------------------------------


def _data():  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20240601)
    x = pd.DataFrame(rng.normal(size=(2000, 10)), columns=[f"f{i}" for i in range(10)])
    y = ((x["f0"] + x["f1"] * x["f2"]) > 0).astype(int).to_numpy()
    return x, y


def _train(kind: str, x, y):  # type: ignore[no-untyped-def]
    if kind == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0).fit(x, y)
    import xgboost

    return xgboost.XGBClassifier(n_estimators=100, max_depth=6, random_state=0).fit(x, y)


def worker(action: str, kind: str, folder: str, n: int) -> dict:
    os.chdir(folder)
    import modelyard as yard
    from modelyard.models import client as models_client

    if action == "log":
        yard.init_workspace(Path(folder))
        x, y = _data()
        model = _train(kind, x, y)
        started = time.perf_counter()
        with yard.start_run(experiment="models"):
            yard.log_model(model, name=NAME, input_example=x.head(5))
        elapsed = time.perf_counter() - started
        yard.set_model_alias(NAME, "champion", 1)
        return {"log_s": elapsed}
    if action == "load":
        x, _ = _data()
        import sklearn.ensemble  # noqa: F401  the model library is imported before the clock

        if kind == "xgb":
            import xgboost  # noqa: F401
        models_client()  # opening the workspace is not part of loading a model
        row = x.head(1)
        started = time.perf_counter()
        model = yard.load_model(f"models:/{NAME}@champion")
        model.predict(row)
        first = time.perf_counter() - started
        started = time.perf_counter()
        model = yard.load_model(f"models:/{NAME}@champion")
        model.predict(row)
        warm = time.perf_counter() - started
        return {"load_predict_s": first, "warm_load_predict_s": warm}
    client = models_client()
    version = client.get_version(f"{NAME}/1")
    source = version.source
    started = time.perf_counter()
    for _ in range(n):
        client.register(source, NAME)
    register = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(n):
        client.set_alias(NAME, "champion", i % 5 + 1)
    alias = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(n):
        client.get_version(f"{NAME}@champion")
    get = time.perf_counter() - started
    return {"register_per_s": n / register, "alias_per_s": n / alias, "get_per_s": n / get}


# -- the harness -----------------------------------------------------------------------------


def call(tool: str, action: str, kind: str, folder: Path, n: int) -> dict:
    if tool == "mlflow":
        cmd = [
            str(MLFLOW_PYTHON),
            str(HERE / "_mlflow_models_worker.py"),
            action,
            kind,
            str(folder),
            str(n),
        ]
    else:
        cmd = [
            str(YARD_PYTHON),
            str(Path(__file__).resolve()),
            "--worker",
            action,
            kind,
            str(folder),
            str(n),
        ]
    env = {  # without PYTHONDONTWRITEBYTECODE (set in this sandbox): users have bytecode
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("YARD_", "MLFLOW_", "PYTHONDONTWRITE"))
    }
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(PREFIX):
            return json.loads(line[len(PREFIX) :])
    raise SystemExit(f"{tool} {action} {kind} failed:\n{done.stdout}\n{done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--registry-n", type=int, default=200)
    parser.add_argument("--worker", nargs=4, metavar=("ACTION", "KIND", "FOLDER", "N"))
    args = parser.parse_args()
    if args.worker:
        action, kind, folder, n = args.worker
        result = worker(action, kind, folder, int(n))
        sys.stdout.write(PREFIX + json.dumps(result) + "\n")
        return

    results: dict[str, dict[str, list[float]]] = {}
    version = ""
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        for repeat in range(args.repeat):
            tools = ("modelyard", "mlflow") if repeat % 2 == 0 else ("mlflow", "modelyard")
            for kind in ("rf", "xgb"):
                for tool in tools:
                    folder = Path(tmp) / f"{tool}-{kind}-{repeat}"
                    folder.mkdir()
                    figures = call(tool, "log", kind, folder, 0)
                    figures |= call(tool, "load", kind, folder, 0)
                    if kind == "rf":
                        figures |= call(tool, "registry", kind, folder, args.registry_n)
                    version = figures.pop("mlflow", version)
                    for key, value in figures.items():
                        results.setdefault(f"{kind}:{key}", {}).setdefault(tool, []).append(value)
    print(
        f"modelyard vs MLflow {version}; medians of {args.repeat} repeats "
        f"(registry: {args.registry_n} operations of each kind)\n"
    )
    print(f"{'figure':36} {'modelyard':>12} {'MLflow':>12} {'ratio':>10}")
    for key, by_tool in results.items():
        yard = statistics.median(by_tool["modelyard"])
        mlflow = statistics.median(by_tool["mlflow"])
        higher_is_better = key.endswith("_per_s")
        ratio = yard / mlflow if higher_is_better else mlflow / yard
        unit = "/s" if higher_is_better else " s"
        print(f"{key:36} {yard:>10.3f}{unit} {mlflow:>10.3f}{unit} {ratio:>9.1f}x")
    print("\nratio: how many times better modelyard is (faster, or more operations per second)")


if __name__ == "__main__":
    main()
