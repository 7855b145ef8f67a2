"""yard.autolog(): params, training metrics and the model of every fit inside a run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelyard as yard
from modelyard.models import AutologWarning


@pytest.fixture
def autologging() -> Iterator[None]:
    yard.autolog(name="auto")
    yield
    yard.autolog(disable=True)


def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    return x, (x["a"] + x["b"] > 0).astype(int).to_numpy()


def test_sklearn_fit_logs_params_metrics_and_a_registered_model(
    workspace_dir: Path, autologging: None
) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = data()
    with yard.start_run(experiment="auto") as run:
        model = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5)).fit(x, y)
    info = yard.get_run(run.id)
    assert info.params["randomforestclassifier__n_estimators"] == "5"
    assert 0.5 < info.metrics["training_accuracy"].value <= 1.0
    assert "training_roc_auc" in info.metrics
    [version] = yard.ModelClient(yard.open_workspace()).versions("auto")  # one, not one per step
    assert version.run_id == run.id
    loaded = yard.load_model("models:/auto/1")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_fits_outside_a_run_log_nothing(workspace_dir: Path, autologging: None) -> None:
    from sklearn.linear_model import LinearRegression

    x, y = data()
    LinearRegression().fit(x, y)
    assert yard.ModelClient(yard.open_workspace()).list_models() == []


def test_a_logging_failure_warns_and_fit_still_returns(
    workspace_dir: Path, autologging: None
) -> None:
    from sklearn.linear_model import LinearRegression

    x, y = data()
    with yard.start_run(experiment="auto"):
        yard.log_param("fit_intercept", "something else")  # autolog's param will conflict
        with pytest.warns(AutologWarning, match="could not log the params"):
            model = LinearRegression().fit(x, y)
    assert hasattr(model, "coef_")


def test_boosters_log_metrics_per_iteration(workspace_dir: Path, autologging: None) -> None:
    xgb = pytest.importorskip("xgboost")
    x, y = data()
    with yard.start_run(experiment="auto") as run:
        xgb.XGBClassifier(n_estimators=7, max_depth=2).fit(x, y, eval_set=[(x, y)], verbose=False)
    history = yard.get_metric_history(run.id, "validation_0-logloss")
    assert [p.step for p in history] == list(range(7))
    assert yard.load_model(f"runs:/{run.id}/model").flavor == "xgboost"


def test_lightgbm_is_autologged(workspace_dir: Path, autologging: None) -> None:
    lgb = pytest.importorskip("lightgbm")
    x, y = data()
    with yard.start_run(experiment="auto") as run:
        lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(x, y, eval_X=(x,), eval_y=(y,))
    assert yard.get_metric_history(run.id, "valid_0-binary_logloss")
    assert yard.get_run(run.id).params["n_estimators"] == "5"


def test_disable_restores_the_original_fit(workspace_dir: Path) -> None:
    from sklearn.linear_model import LinearRegression

    original = LinearRegression.fit
    yard.autolog(log_models=False)
    assert LinearRegression.fit is not original
    yard.autolog(disable=True)
    assert LinearRegression.fit is original
