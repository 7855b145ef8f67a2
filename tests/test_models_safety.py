"""Safe loading and bad input: tampered files, crafted trees, missing dependencies, wrong
Python, signature problems, URIs - clear errors and nothing half-written."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import modelyard as yard
from modelyard.domain.models import ModelRef, RunModelRef, parse_model_uri
from modelyard.errors import (
    IntegrityError,
    InvalidName,
    InvalidState,
    InvalidValue,
    ModelNotFound,
)
from modelyard.models._package import DESCRIPTOR


@pytest.fixture
def trained() -> tuple[object, pd.DataFrame]:
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.normal(size=200), "b": rng.integers(0, 5, 200)})
    y = (x["a"] > 0).astype(int).to_numpy()
    return DecisionTreeClassifier(max_depth=4, random_state=0).fit(x, y), x


def log(model: object, x: pd.DataFrame, name: str = "churn") -> yard.ModelVersion:
    with yard.start_run(experiment="safety"):
        version = yard.log_model(model, name=name, input_example=x.head(5)).version
    assert version is not None
    return version


def blob_path(digest: str) -> Path:
    hexdigest = digest.split(":", 1)[1]
    return Path(".yard/blobs/blake3") / hexdigest[:2] / hexdigest[2:4] / hexdigest


def tamper(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_tampered_blob_is_refused_naming_the_file(workspace_dir: Path, trained) -> None:
    model, x = trained
    version = log(model, x)
    descriptor = yard.ModelClient(yard.open_workspace()).descriptor(version.uri)
    tamper(blob_path(descriptor.files["model.skops"].digest))
    with pytest.raises(
        IntegrityError, match=r"file 'model.skops' of model package models:/churn/1"
    ):
        yard.load_model("models:/churn/1")


def test_a_tampered_downloaded_file_is_refused_naming_it(workspace_dir: Path, trained) -> None:
    model, x = trained
    log(model, x)
    out = workspace_dir / "out"
    yard.ModelClient(yard.open_workspace()).download("models:/churn/1", out)
    assert sorted(p.name for p in out.iterdir()) == [
        DESCRIPTOR,
        "input_example.json",
        "model.skops",
    ]
    np.testing.assert_array_equal(yard.load_model(out).predict(x), model.predict(x))
    tamper(out / "input_example.json")
    with pytest.raises(IntegrityError, match=r"file 'input_example\.json'"):
        _ = yard.load_model(out).input_example


def craft(model: object, x: pd.DataFrame, workspace_dir: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """A package as an attacker would write it: valid digests around a crafted tree."""
    import dataclasses

    import skops.io as sio

    from modelyard.models._package import finish_folder, open_folder_package

    log(model, x)
    out = workspace_dir / "crafted"
    yard.ModelClient(yard.open_workspace()).download("models:/churn/1", out)
    edit(model.tree_)  # the node arrays are views: this edits the fitted tree in place
    os.chmod(out / "model.skops", 0o644)
    (out / "model.skops").unlink()
    sio.dump(model, out / "model.skops")
    descriptor = open_folder_package(out).descriptor
    fields = {f.name: getattr(descriptor, f.name) for f in dataclasses.fields(descriptor)}
    fields.pop("files")
    finish_folder(out, fields)
    return out


def test_a_crafted_tree_with_out_of_range_nodes_is_refused(workspace_dir: Path, trained) -> None:
    model, x = trained

    def edit(tree) -> None:  # type: ignore[no-untyped-def]
        tree.children_left[int(np.flatnonzero(tree.children_left != -1)[0])] = 10_000

    out = craft(model, x, workspace_dir, edit)
    with pytest.raises(IntegrityError, match=r"invalid decision tree at model.tree_.*child 10000"):
        yard.load_model(out)


def test_a_tree_whose_child_points_backwards_is_refused(workspace_dir: Path, trained) -> None:
    model, x = trained

    def edit(tree) -> None:  # type: ignore[no-untyped-def]
        tree.children_right[int(np.flatnonzero(tree.children_right != -1)[-1])] = 0

    out = craft(model, x, workspace_dir, edit)
    with pytest.raises(IntegrityError, match="right child 0"):
        yard.load_model(out)


def test_a_corrupted_tree_is_refused_before_it_is_saved(workspace_dir: Path, trained) -> None:
    model, x = trained
    model.tree_.feature[0] = 99
    with yard.start_run(experiment="safety"), pytest.raises(IntegrityError, match="feature 99"):
        yard.log_model(model, name="churn", input_example=x.head(5))
    assert yard.ModelClient(yard.open_workspace()).list_models() == []


def test_a_missing_flavor_dependency_names_the_package(
    workspace_dir: Path, trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, x = trained
    log(model, x)
    monkeypatch.setitem(sys.modules, "skops.io", None)  # import skops.io now fails
    with pytest.raises(InvalidState, match=r"needs the package 'skops'.*pip install 'skops=="):
        yard.load_model("models:/churn/1")


def test_a_model_saved_for_another_python_major_is_refused(workspace_dir: Path, trained) -> None:
    model, x = trained
    log(model, x)
    client = yard.ModelClient(yard.open_workspace())
    out = workspace_dir / "out"
    client.download("models:/churn/1", out)
    data = yaml.safe_load((out / DESCRIPTOR).read_text())
    data["python"] = "2.7.18"
    (out / DESCRIPTOR).write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InvalidState, match=r"saved with Python 2.7.18.*load it with Python 2"):
        yard.load_model(out)


def test_unknown_alias_and_deleted_version_are_clear(workspace_dir: Path, trained) -> None:
    model, x = trained
    log(model, x)
    log(model, x)
    client = yard.ModelClient(yard.open_workspace())
    with pytest.raises(ModelNotFound, match="no alias 'champion'"):
        yard.load_model("models:/churn@champion")
    client.delete_version("churn", 1)
    with pytest.raises(InvalidState, match="is deleted"):
        client.set_alias("churn", "champion", 1)
    with pytest.raises(ModelNotFound, match="is deleted"):
        yard.load_model("models:/churn/1")
    assert client.get_model("churn").aliases == {}


def test_a_failed_log_model_leaves_no_version_and_no_artifacts(workspace_dir: Path) -> None:
    class Broken:
        pass

    with yard.start_run(experiment="safety") as run:
        with pytest.raises(InvalidValue):
            yard.log_model(Broken(), name="churn")
        with pytest.raises(InvalidValue, match="cannot predict its input_example"):
            from sklearn.linear_model import LinearRegression

            fitted = LinearRegression().fit(np.ones((4, 2)), np.arange(4))
            yard.log_model(fitted, name="churn", input_example=pd.DataFrame({"a": ["x"]}))
    client = yard.ModelClient(yard.open_workspace())
    assert client.list_models() == []
    assert client.store.runs.artifacts(run.id) == []


def test_log_model_needs_an_active_run(workspace_dir: Path, trained) -> None:
    model, _ = trained
    with pytest.raises(InvalidState, match="no run is active"):
        yard.log_model(model, name="churn")


def test_the_signature_lists_every_problem_and_applies_safe_casts(
    workspace_dir: Path, trained
) -> None:
    model, x = trained
    log(model, x)
    loaded = yard.load_model("models:/churn/1")
    with pytest.raises(InvalidValue) as info:
        loaded.predict(pd.DataFrame({"b": [1.5], "c": ["x"]}))
    message = str(info.value)
    assert "2 problems" in message
    assert "missing required column 'a' (float64)" in message
    assert "column 'b' is float64, expected int64" in message
    ints = pd.DataFrame({"a": [1, -1], "b": np.array([1, 2], dtype="int32"), "c": ["x", "y"]})
    expected = model.predict(ints[["a", "b"]].astype({"a": "float64", "b": "int64"}))
    np.testing.assert_array_equal(loaded.predict(ints), expected)  # int -> float, extra dropped
    strict = yard.load_model("models:/churn/1", extra_columns="error")
    with pytest.raises(InvalidValue, match="unexpected column"):
        strict.predict(ints)
    np.testing.assert_array_equal(
        loaded.predict({"a": 1.0, "b": 2}), model.predict(pd.DataFrame({"a": [1.0], "b": [2]}))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/churn/3", ModelRef("churn", number=3)),
        ("churn/3", ModelRef("churn", number=3)),
        ("models:/churn@champion", ModelRef("churn", alias="champion")),
        ("churn@champion", ModelRef("churn", alias="champion")),
        ("models:/churn", ModelRef("churn")),
        ("churn@latest", ModelRef("churn")),
        ("runs:/" + "a" * 32 + "/model", RunModelRef("a" * 32, "model")),
    ],
)
def test_model_uris_parse(text: str, expected: object) -> None:
    assert parse_model_uri(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("churn/0", "versions start at 1"),
        ("churn/x", "cannot read the version"),
        ("churn@", "ends with '@'"),
        ("churn@3", "start with a letter"),
        ("bad name/1", "not valid"),
        ("runs:/short/model", "32-hex run id"),
        ("runs:/" + "a" * 32 + "/../x", "32-hex run id"),
        ("", "non-empty"),
    ],
)
def test_bad_model_uris_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(InvalidName, match=message):
        parse_model_uri(text)


def shift(values: np.ndarray) -> np.ndarray:
    return values + 1.0


def test_skops_types_outside_scikit_learn_need_trust(workspace_dir: Path) -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x = pd.DataFrame({"a": np.arange(10.0)})
    model = make_pipeline(FunctionTransformer(shift), LinearRegression()).fit(x, x["a"] * 2)
    log(model, x)
    with pytest.raises(InvalidState, match=r"test_models_safety\.shift.*trusted=True"):
        yard.load_model("models:/churn/1")
    loaded = yard.load_model("models:/churn/1", trusted=True)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_alias_moves_go_through_the_client_policy(workspace_dir: Path, trained) -> None:
    from modelyard.domain.models import AliasChange
    from modelyard.errors import PolicyDenied

    model, x = trained
    log(model, x)
    log(model, x)
    seen: list[AliasChange] = []

    def only_reviewed(change: AliasChange) -> None:
        seen.append(change)
        if change.after == 2:
            raise PolicyDenied("version 2 is not reviewed")

    client = yard.ModelClient(yard.open_workspace(), policy=only_reviewed)
    client.set_alias("churn", "champion", 1)
    with pytest.raises(PolicyDenied, match="not reviewed"):
        client.set_alias("churn", "champion", 2)
    assert [(c.before, c.after, c.actor) for c in seen] == [(None, 1, "tester"), (1, 2, "tester")]
    assert client.get_version("churn@champion").number == 1
