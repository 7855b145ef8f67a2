"""Loading a model warns when its libraries are installed at other versions than it was saved
with; `yard models show` lists the differences."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelyard as yard
from modelyard.cli import main
from modelyard.domain.models import NewModelVersion
from modelyard.models import ModelEnvironmentWarning
from modelyard.models._package import DESCRIPTOR, open_folder_package, store_folder

SKLEARN = importlib.metadata.version("scikit-learn")
NUMPY = importlib.metadata.version("numpy")
OLD = {"scikit-learn": "1.5.0", "numpy": "1.26.4"}  # a minor and a major version apart

LOADERS: dict[str, Callable[..., Any]] = {
    "load_model": lambda uri, **kw: yard.load_model(uri, **kw),
    "ModelClient.load": lambda uri, **kw: yard.ModelClient(yard.open_workspace()).load(uri, **kw),
}


@pytest.fixture
def frame(workspace_dir: Path) -> pd.DataFrame:
    from sklearn.linear_model import LogisticRegression

    x = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20) % 3})
    with yard.start_run(experiment="env"):
        yard.log_model(LogisticRegression().fit(x, x["a"] > 9), name="churn")
    return x


def repinned(workspace_dir: Path, versions: dict[str, str]) -> Path:
    """models:/churn/1 downloaded into a folder whose MODEL.yaml pins ``versions`` instead."""
    out = workspace_dir / "repinned"
    yard.ModelClient(yard.open_workspace()).download("models:/churn/1", out)
    descriptor = open_folder_package(out).descriptor
    pins = []
    for pin in descriptor.requirements:
        name = pin.partition("==")[0]
        pins.append(f"{name}=={versions[name]}" if name in versions else pin)
    edited = dataclasses.replace(descriptor, requirements=tuple(pins))
    (out / DESCRIPTOR).write_bytes(edited.to_yaml())
    return out


@pytest.fixture
def old_version(workspace_dir: Path, frame: pd.DataFrame) -> str:
    """models:/churn/2: the same model, recorded as saved with OLD versions."""
    folder = repinned(workspace_dir, OLD)
    client = yard.ModelClient(yard.open_workspace())
    digest, descriptor, _ = store_folder(client.blobs, folder)
    client.store.models.add_version(
        NewModelVersion("churn", digest, descriptor.flavor, source=str(folder))
    )
    return "models:/churn/2"


@pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS)
def test_loading_other_library_versions_warns_naming_both(
    old_version: str, frame: pd.DataFrame, load: Callable[..., Any]
) -> None:
    with pytest.warns(ModelEnvironmentWarning) as caught:
        model = load(old_version)
    [warning] = caught
    assert str(warning.message) == (
        f"models:/churn/2 was saved with scikit-learn 1.5.0, numpy 1.26.4; this environment "
        f"has scikit-learn {SKLEARN}, numpy {NUMPY}: predictions may differ (`yard models env "
        "models:/churn/2 --create DIR` makes a virtualenv with the saved versions)"
    )
    assert warning.filename == __file__  # points at the caller's line
    assert len(model.predict(frame)) == len(frame)


@pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS)
def test_check_environment_false_silences_the_warning(
    old_version: str, load: Callable[..., Any]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelEnvironmentWarning)
        load(old_version, check_environment=False)


def test_a_warnings_filter_silences_the_warning(old_version: str) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ModelEnvironmentWarning)
        yard.load_model(old_version)


def test_a_model_whose_pins_match_loads_without_warning(frame: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelEnvironmentWarning)
        yard.load_model("models:/churn/1")


def test_pins_outside_the_flavors_libraries_are_not_compared(
    workspace_dir: Path, frame: pd.DataFrame
) -> None:
    folder = repinned(workspace_dir, {"modelyard": "0.0.1"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelEnvironmentWarning)
        yard.load_model(folder)


def test_a_downloaded_package_points_at_its_model_yaml(
    workspace_dir: Path, frame: pd.DataFrame
) -> None:
    folder = repinned(workspace_dir, {"scikit-learn": "1.5.0"})
    with pytest.warns(
        ModelEnvironmentWarning, match=r"\(its MODEL.yaml lists the saved versions\)"
    ):
        yard.load_model(folder)


def test_models_show_lists_each_mismatch(
    capsys: pytest.CaptureFixture[str], old_version: str
) -> None:
    assert main(["models", "show", "churn/1"]) == 0
    assert "environment: matches" in capsys.readouterr().out
    assert main(["models", "show", "churn/2"]) == 0
    assert (
        f"environment: scikit-learn 1.5.0 -> {SKLEARN} installed, numpy 1.26.4 -> {NUMPY} "
        "installed" in capsys.readouterr().out
    )
    assert main(["models", "show", "churn/2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["environment"] == [
        {"name": "scikit-learn", "saved": "1.5.0", "installed": SKLEARN},
        {"name": "numpy", "saved": "1.26.4", "installed": NUMPY},
    ]
