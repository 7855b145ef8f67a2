"""`yard models ...` driven through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelyard as yard
from modelyard.cli import main

COMMANDS = ["list", "versions", "show", "alias", "tag", "describe", "lineage", "download", "env"]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def registered(workspace_dir: Path) -> str:
    from sklearn.linear_model import LogisticRegression

    x = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20) % 3})
    y = (x["a"] > 9).astype(int)
    yard.log_dataset(x, name="churn")
    with yard.start_run(experiment="cli") as run:
        yard.use_dataset("churn@1")
        model = LogisticRegression().fit(x, y)
        yard.log_model(model, name="churn", input_example=x.head(3))
        yard.log_model(model, name="churn")
    return run.id


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, _ = run_cli(capsys, "models", command, "--help")
    assert code == 0
    assert f"Example: yard models {command}" in out


def test_list_versions_and_show(capsys: pytest.CaptureFixture[str], registered: str) -> None:
    code, out, _ = run_cli(capsys, "models", "list", "--json")
    assert code == 0
    [model] = json.loads(out)
    assert (model["name"], model["latest_version"], model["version_count"]) == ("churn", 2, 2)
    code, out, _ = run_cli(capsys, "models", "versions", "churn", "--json")
    assert [v["number"] for v in json.loads(out)] == [1, 2]
    assert json.loads(out)[0]["run_id"] == registered
    code, out, _ = run_cli(capsys, "models", "show", "churn/1")
    assert code == 0 and "inputs: a: float64, b: int64" in out
    code, out, _ = run_cli(capsys, "models", "show", "churn/1", "--json")
    assert json.loads(out)["signature"]["inputs"][0] == {"name": "a", "type": "float64"}


def test_alias_tag_describe(capsys: pytest.CaptureFixture[str], registered: str) -> None:
    assert run_cli(capsys, "models", "alias", "churn", "1", "champion")[1].strip() == (
        "churn@champion -> version 1"
    )
    code, out, _ = run_cli(capsys, "models", "alias", "churn", "2", "champion")
    assert code == 0 and "moved from version 1 to 2" in out
    assert run_cli(capsys, "models", "tag", "churn@champion", "reviewed=yes")[0] == 0
    assert run_cli(capsys, "models", "describe", "churn/2", "-m", "the good one")[0] == 0
    _, out, _ = run_cli(capsys, "models", "show", "churn@champion", "--json")
    version = json.loads(out)["version"]
    assert (version["number"], version["tags"], version["description"]) == (
        2,
        {"reviewed": "yes"},
        "the good one",
    )
    audit = yard.ModelClient(yard.open_workspace()).store.audit.events(subject="models:/churn")
    assert {"model.alias.set", "model.version.tags.set", "model.version.describe"} <= {
        e.action for e in audit
    }


def test_lineage_shows_run_datasets_and_environment(
    capsys: pytest.CaptureFixture[str], registered: str
) -> None:
    code, out, _ = run_cli(capsys, "models", "lineage", "churn/1")
    assert code == 0
    assert f"run: runs:/{registered}" in out
    assert "datasets: data:churn@1" in out
    assert "environment: Python" in out
    code, out, _ = run_cli(capsys, "models", "lineage", "churn/1", "--json")
    assert json.loads(out)["datasets"] == ["data:churn@1"]


def test_download_and_env(
    capsys: pytest.CaptureFixture[str], registered: str, workspace_dir: Path
) -> None:
    code, out, _ = run_cli(capsys, "models", "download", "churn/1", str(workspace_dir / "out"))
    assert code == 0
    assert (workspace_dir / "out" / "MODEL.yaml").is_file()
    code, out, _ = run_cli(capsys, "models", "env", "churn/1")
    assert code == 0
    assert "scikit-learn==" in out and "skops==" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["models", "show", "chrun/1"], "did you mean 'churn'"),
        (["models", "alias", "churn", "9", "champion"], "has no version 9"),
        (["models", "alias", "churn", "x", "champion"], "version must be a number"),
        (["models", "download", "churn@champion", "out2"], "no alias 'champion'"),
        (["models", "tag", "churn/1", "novalue"], "is not key=value"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], registered: str, args: list[str], message: str
) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1
