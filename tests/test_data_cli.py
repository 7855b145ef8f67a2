"""Datasets from the command line and inside runs (lineage)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import modelyard as yard
from modelyard.cli import main
from modelyard.errors import InvalidState


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def churn_csv(workspace_dir: Path) -> Path:
    path = workspace_dir / "train.csv"
    pd.DataFrame({"tenure": [1, 5, 9], "plan": ["basic", "pro", "basic"]}).to_csv(path, index=False)
    return path


def test_use_dataset_records_lineage_and_returns_a_path(churn_csv: Path) -> None:
    yard.log_dataset(pd.read_csv(churn_csv), name="churn")
    with yard.start_run(experiment="churn") as run:
        path = yard.use_dataset("churn@1")
        frame = yard.load_dataset("churn")
    assert path.is_file() and path.suffix == ".parquet"
    assert list(frame.columns) == ["tenure", "plan"]
    store = yard.open_workspace().store
    edges = store.lineage.downstream("data:churn@1")
    assert [(e.target, e.relation) for e in edges] == [(run.uri, "used_by")]


def test_use_dataset_outside_a_run_says_to_start_one(churn_csv: Path) -> None:
    yard.log_dataset(pd.read_csv(churn_csv), name="churn")
    with pytest.raises(InvalidState, match="no run is active"):
        yard.use_dataset("churn")
    assert len(yard.load_dataset("churn")) == 3  # loading needs no run


def test_log_dataset_inside_a_run_records_the_producer(workspace_dir: Path) -> None:
    with yard.start_run(experiment="features") as run:
        version = yard.log_dataset(pd.DataFrame({"f": [0.1, 0.2]}), name="churn-features")
    assert version.uri == "data:churn-features@1"
    edges = yard.open_workspace().store.lineage.upstream(version.uri)
    assert [(e.source, e.relation) for e in edges] == [(run.uri, "produced")]


def test_add_list_versions_show_diff_from_the_cli(
    churn_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "data", "add", str(churn_csv), "--name", "churn", "-m", "Oct")
    assert code == 0 and "added churn@1" in out and "3 rows" in out
    code, out, _ = run_cli(capsys, "data", "add", str(churn_csv), "--name", "churn")
    assert code == 0 and "unchanged" in out and "no new version" in out
    pd.DataFrame({"tenure": [1, 5, 9, 12], "plan": ["basic", "pro", "team", "pro"]}).to_csv(
        churn_csv, index=False
    )
    assert run_cli(capsys, "data", "add", str(churn_csv), "--name", "churn")[0] == 0
    code, out, _ = run_cli(capsys, "data", "list", "--json")
    listed = json.loads(out)
    assert listed[0]["name"] == "churn" and listed[0]["latest"]["number"] == 2
    code, out, _ = run_cli(capsys, "data", "versions", "churn")
    assert "churn@2" in out and "Oct" in out
    with yard.start_run(experiment="churn") as run:
        yard.use_dataset("churn@2")
    code, out, _ = run_cli(capsys, "data", "show", "churn@2")
    assert code == 0 and "tenure" in out and run.uri in out and "profile" in out
    code, out, _ = run_cli(capsys, "data", "diff", "churn@1", "churn@2")
    assert code == 0 and "rows: 3 -> 4 (+1)" in out and "team" in out
    code, out, _ = run_cli(capsys, "runs", "show", run.id)
    assert "data:churn@2" in out


def test_get_status_push_pull_from_the_cli(
    workspace_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = workspace_dir / "images"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    assert run_cli(capsys, "data", "add", str(folder), "--name", "scans")[0] == 0
    code, out, _ = run_cli(capsys, "data", "status", str(folder))
    assert code == 0 and "unchanged since scans@1" in out
    (folder / "b.txt").write_text("b")
    code, out, _ = run_cli(capsys, "data", "status", str(folder))
    assert "1 added" in out and "+ b.txt" in out
    code, out, _ = run_cli(capsys, "data", "get", "scans@1", str(workspace_dir / "out"))
    assert code == 0 and (workspace_dir / "out" / "a.txt").read_text() == "a"
    remote = str(workspace_dir / "remote")
    code, out, _ = run_cli(capsys, "data", "push", "--remote", remote)
    assert code == 0 and "pushed 2 blobs" in out
    code, out, _ = run_cli(capsys, "data", "pull", "scans@1", "--remote", remote)
    assert code == 0 and "pulled 0 blobs" in out and "2 were already here" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["data", "show", "nope"], 1, "no dataset named 'nope'"),
        (["data", "show", "churn@9"], 1, "has no version 9"),
        (["data", "show", "churn@x!"], 2, "cannot read the version"),
        (["data", "add", "missing-folder", "--name", "x"], 2, "does not exist"),
        (["data", "add", "train.csv", "--name", "bad name"], 2, "not valid"),
    ],
)
def test_errors_are_one_line(
    churn_csv: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    run_cli(capsys, "data", "add", str(churn_csv), "--name", "churn")
    got, _, err = run_cli(capsys, *args)
    assert got == code and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "command", ["add", "list", "versions", "show", "diff", "get", "status", "push", "pull"]
)
def test_every_data_command_has_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "data", command, "--help")
    assert code == 0 and "Example: yard data " in out
