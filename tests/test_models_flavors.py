"""Every flavor round-trips: the loaded model predicts exactly what the original did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelyard as yard
from modelyard.errors import InvalidState, InvalidValue


def frame(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, n),
            "charges": rng.normal(70, 20, n),
            "calls": rng.poisson(2, n).astype("int64"),
        }
    )
    y = ((x["charges"] > 75) ^ (x["tenure"] < 12)).astype(int).to_numpy()
    return x, y


def round_trip(model: Any, x: pd.DataFrame, **options: Any) -> yard.Model:
    with yard.start_run(experiment="flavors"):
        logged = yard.log_model(model, name="m", input_example=x.head(5), **options)
    assert logged.version is not None
    return yard.load_model(f"models:/m/{logged.version.number}")


def test_sklearn_pipeline_with_column_transformer(workspace_dir: Path) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x, y = frame()
    x["plan"] = np.where(x["tenure"] > 30, "annual", "monthly")
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), ["tenure", "charges", "calls"]),
                        ("cat", OneHotEncoder(), ["plan"]),
                    ]
                ),
            ),
            ("rf", RandomForestClassifier(n_estimators=20, random_state=0)),
        ]
    ).fit(x, y)
    loaded = round_trip(model, x)
    assert loaded.flavor == "sklearn"
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))
    assert [c.name for c in loaded.signature.inputs] == ["tenure", "charges", "calls", "plan"]
    assert loaded.signature.inputs[3].type == "string"


def test_sklearn_model_fitted_on_arrays_takes_frames(workspace_dir: Path) -> None:
    from sklearn.linear_model import LinearRegression

    x, y = frame()
    model = LinearRegression().fit(x.to_numpy(), y)
    loaded = round_trip(model, x)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x.to_numpy()))
    assert not hasattr(loaded, "predict_proba")


def test_xgboost_classifier_and_booster(workspace_dir: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    x, y = frame()
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(x, y)
    loaded = round_trip(model, x)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), num_boost_round=5)
    loaded = round_trip(booster, x)
    np.testing.assert_array_equal(loaded.predict(x), booster.predict(xgb.DMatrix(x)))


def test_lightgbm_classifier_and_regressor(workspace_dir: Path) -> None:
    lgb = pytest.importorskip("lightgbm")
    x, y = frame()
    classifier = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(x, y)
    loaded = round_trip(classifier, x)
    np.testing.assert_array_equal(loaded.predict(x), classifier.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), classifier.predict_proba(x), rtol=0)
    regressor = lgb.LGBMRegressor(n_estimators=20, verbose=-1).fit(x, x["charges"])
    loaded = round_trip(regressor, x)
    np.testing.assert_array_equal(loaded.predict(x), regressor.predict(x))


def test_onnx_model_runs_with_onnxruntime(workspace_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    x, y = frame()
    x = x.astype("float32")
    fitted = LogisticRegression(max_iter=500).fit(x.to_numpy(), y)
    proto = skl2onnx.convert_sklearn(
        fitted, initial_types=[("input", FloatTensorType([None, 3]))], options={"zipmap": False}
    )
    with yard.start_run(experiment="flavors"):
        logged = yard.log_model(proto, name="onnx", input_example=x.head(5))
    loaded = yard.load_model("models:/onnx")
    assert loaded.flavor == "onnx"
    direct = loaded.raw.run(None, {"input": x.to_numpy()})
    np.testing.assert_array_equal(loaded.predict(x), direct[0])
    np.testing.assert_array_equal(loaded.predict_proba(x), direct[1])
    np.testing.assert_array_equal(loaded.predict(x), fitted.predict(x.to_numpy()))
    assert logged.signature is not None and logged.signature.inputs[0].type == "float32"


class Threshold(yard.PythonModel):
    """Custom code packaged without pickle: a config value and an artifact file."""

    def __init__(self, column: str = "charges", cut: float = 0.0) -> None:
        self.column = column
        self.cut = cut
        self.offset = 0.0

    def load_context(self, context: Any) -> None:
        self.offset = float(context.artifacts["offset"].read_text())

    def predict(self, frame: pd.DataFrame) -> Any:
        return (frame[self.column] >= self.cut + self.offset).astype(int).to_numpy()


def test_python_model_restores_config_and_artifacts(workspace_dir: Path) -> None:
    x, _ = frame()
    (workspace_dir / "offset.txt").write_text("5")
    model = Threshold(cut=70.0)
    model.offset = 5.0
    loaded = round_trip(model, x, artifacts={"offset": workspace_dir / "offset.txt"})
    assert loaded.flavor == "python"
    assert loaded.raw.cut == 70.0
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_python_model_defined_in_a_function_is_refused_when_logged(workspace_dir: Path) -> None:
    class Local(yard.PythonModel):
        def predict(self, frame: pd.DataFrame) -> Any:
            return frame

    with yard.start_run(experiment="flavors"), pytest.raises(InvalidValue, match="a function"):
        yard.log_model(Local(), name="local")
    assert yard.ModelClient(yard.open_workspace()).list_models() == []


class Doubler:
    def predict(self, frame: pd.DataFrame) -> Any:
        return frame.to_numpy() * 2


def test_pickle_flavor_loads_only_when_trusted(workspace_dir: Path) -> None:
    x, _ = frame()
    with yard.start_run(experiment="flavors"):
        yard.log_model(Doubler(), name="pickled", flavor="pickle", input_example=x.head(3))
    with pytest.raises(InvalidState, match="trusted=True"):
        yard.load_model("models:/pickled/1")
    loaded = yard.load_model("models:/pickled/1", trusted=True)
    np.testing.assert_array_equal(loaded.predict(x), x.to_numpy() * 2)


def test_objects_no_flavor_knows_are_refused_with_the_choices(workspace_dir: Path) -> None:
    with yard.start_run(experiment="flavors"), pytest.raises(InvalidValue, match="flavor='pickle'"):
        yard.log_model(Doubler(), name="unknown")


def test_torch_module_round_trips(workspace_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    from torch_model import Net

    torch.manual_seed(0)
    x, _ = frame()
    x = x.astype("float32")
    net = Net(3, 4)
    loaded = round_trip(net, x)
    with torch.no_grad():
        expected = net(torch.tensor(x.to_numpy())).numpy()
    np.testing.assert_array_equal(loaded.predict(x), expected)
