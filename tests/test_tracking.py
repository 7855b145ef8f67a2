"""The tracking API as a training script uses it."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import modelyard as yard
from modelyard.domain.records import RunStatus
from modelyard.errors import (
    FilterSyntaxError,
    InvalidArtifactPath,
    InvalidName,
    InvalidState,
    InvalidValue,
    ParamConflict,
    RunNotFound,
)
from modelyard.tracking import client


def test_the_issue_example_runs_end_to_end(workspace_dir: Path) -> None:
    (workspace_dir / "confusion.png").write_bytes(b"\x89PNG fake")
    with yard.start_run(experiment="churn", name="rf-baseline", tags={"team": "risk"}) as run:
        yard.log_params({"n_estimators": 200, "max_depth": 8})
        for epoch in range(100):
            yard.log_metrics({"loss": 1 / (epoch + 1), "auc": 0.5 + epoch / 250}, step=epoch)
        yard.log_artifact("confusion.png")
    df = yard.search_runs(
        "churn",
        filter="metrics.auc > 0.8 and params.max_depth = '8'",
        order_by=["metrics.auc desc"],
        limit=50,
    )
    assert list(df["run_id"]) == [run.id]
    assert df.loc[0, "metrics.auc"] == pytest.approx(0.896)
    assert df.loc[0, "params.n_estimators"] == "200" and df.loc[0, "tags.team"] == "risk"
    hist = yard.get_metric_history(run.id, "auc")
    assert [m.step for m in hist] == list(range(100))
    info = yard.get_run(run.id)
    assert info.status is RunStatus.FINISHED and info.end_time is not None
    assert [a.path for a in client().store.runs.artifacts(run.id)] == ["confusion.png"]


def test_search_without_matches_returns_an_empty_frame(workspace_dir: Path) -> None:
    df = yard.search_runs(filter="metrics.auc > 2")
    assert isinstance(df, pd.DataFrame) and df.empty and "run_id" in df.columns


def test_a_run_that_raises_is_failed(workspace_dir: Path) -> None:
    with pytest.raises(RuntimeError), yard.start_run(experiment="e") as run:
        yard.log_metric("loss", 1.0)
        raise RuntimeError("boom")
    assert yard.get_run(run.id).status is RunStatus.FAILED
    assert yard.get_run(run.id).metrics["loss"].value == 1.0  # logged points survive


@pytest.mark.parametrize(("code", "status"), [(0, RunStatus.FINISHED), (3, RunStatus.FAILED)])
def test_sys_exit_inside_a_run_block_follows_the_exit_code(
    workspace_dir: Path, code: int, status: RunStatus
) -> None:
    with pytest.raises(SystemExit), yard.start_run(experiment="e") as run:
        raise SystemExit(code)
    assert yard.get_run(run.id).status is status


def test_ctrl_c_marks_the_run_killed(workspace_dir: Path) -> None:
    with pytest.raises(KeyboardInterrupt), yard.start_run(experiment="e") as run:
        raise KeyboardInterrupt
    assert yard.get_run(run.id).status is RunStatus.KILLED


def test_nested_runs_need_to_say_so(workspace_dir: Path) -> None:
    with yard.start_run(experiment="e", name="sweep") as parent:
        with pytest.raises(InvalidState, match="nested=True"):
            yard.start_run(experiment="e")
        with yard.start_run(experiment="e", name="trial", nested=True) as child:
            assert yard.active_run() is child
            yard.log_metric("auc", 0.9)
        assert yard.active_run() is parent
    assert yard.active_run() is None
    assert yard.get_run(child.id).parent_id == parent.id


def test_explicit_end_run_and_status(workspace_dir: Path) -> None:
    run = yard.start_run(experiment="e")
    yard.end_run("killed")
    assert yard.get_run(run.id).status is RunStatus.KILLED
    with pytest.raises(InvalidState, match="no active run"):
        yard.log_metric("x", 1)
    run = yard.start_run(experiment="e")
    with pytest.raises(InvalidValue, match="valid statuses are"):
        run.end("done")
    assert yard.active_run() is run  # a refused end changes nothing
    run.end("FINISHED")


def test_set_tags_and_log_dict(workspace_dir: Path) -> None:
    with yard.start_run(experiment="e") as run:
        yard.set_tags({"stage": "dev"})
        yard.set_tag("stage", "prod")
        artifact = yard.log_dict({"layers": [1, 2]}, "config/model.json")
        yard.log_dict({"a": 1}, "config/model.yaml")
    assert yard.get_run(run.id).tags == {"stage": "prod"}
    stored = client().blobs.get_bytes(artifact.digest)
    assert json.loads(stored) == {"layers": [1, 2]}
    with yard.start_run(experiment="e"), pytest.raises(InvalidValue, match=r"\.json or \.yaml"):
        yard.log_dict({}, "config.txt")


def test_log_artifacts_keeps_relative_paths_and_dedups(workspace_dir: Path) -> None:
    plots = workspace_dir / "plots"
    (plots / "sub").mkdir(parents=True)
    (plots / "roc.png").write_bytes(b"same bytes")
    (plots / "sub" / "pr.png").write_bytes(b"same bytes")
    with yard.start_run(experiment="e") as run:
        artifacts = yard.log_artifacts(plots, artifact_path="figures")
    assert [a.path for a in artifacts] == ["figures/roc.png", "figures/sub/pr.png"]
    assert artifacts[0].digest == artifacts[1].digest
    blob_files = [
        p for p in (workspace_dir / ".yard" / "blobs" / "blake3").rglob("*") if p.is_file()
    ]
    stored = {p.read_bytes() for p in blob_files}
    assert b"same bytes" in stored
    assert len([p for p in blob_files if p.read_bytes() == b"same bytes"]) == 1
    assert len(client().store.runs.artifacts(run.id)) == 2


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: yard.log_metric("", 1.0), InvalidName, "non-empty"),
        (lambda: yard.log_metric("a" * 300, 1.0), InvalidName, "limit is 250"),
        (lambda: yard.log_metric("val\nloss", 1.0), InvalidName, "contains"),
        (lambda: yard.log_metric("../up", 1.0), InvalidName, "'..'"),
        (lambda: yard.log_metric("auc", "high"), InvalidValue, "must be numbers"),
        (lambda: yard.log_metric("auc", None), InvalidValue, "must be numbers"),
        (lambda: yard.log_metric("auc", True), InvalidValue, "must be numbers"),
        (lambda: yard.log_metric("auc", 0.5, step=-1), InvalidValue, "non-negative"),
        (lambda: yard.log_metrics({"ok": 1.0, "bad": "x"}), InvalidValue, "'bad'"),
        (lambda: yard.log_param("p", "x" * 7000), InvalidValue, "log_dict"),
        (lambda: yard.log_artifact("missing.txt"), InvalidArtifactPath, "not a file"),
        (lambda: yard.log_dict({}, "../escape.json"), InvalidArtifactPath, "escape"),
        (lambda: yard.log_dict({}, "/etc/x.json"), InvalidArtifactPath, "absolute"),
    ],
)
def test_bad_input_is_refused_with_a_specific_error(
    workspace_dir: Path, call, error: type[Exception], fragment: str
) -> None:
    with yard.start_run(experiment="e") as run:
        with pytest.raises(error, match=fragment):
            call()
        yard.log_metric("fine", 1.0)
    assert set(yard.get_run(run.id).metrics) == {"fine"}  # nothing from the bad call


def test_params_conflict_surfaces_immediately(workspace_dir: Path) -> None:
    with yard.start_run(experiment="e"):
        yard.log_param("lr", 0.1)
        with pytest.raises(ParamConflict):
            yard.log_param("lr", 0.2)


def test_numpy_values_are_accepted(workspace_dir: Path) -> None:
    import numpy as np

    with yard.start_run(experiment="e") as run:
        yard.log_metrics(
            {"a": np.float32(0.5), "b": np.int64(3), "c": float("nan")}, step=np.int64(2)
        )
    metrics = yard.get_run(run.id).metrics
    assert metrics["a"].value == 0.5 and metrics["b"].value == 3 and metrics["a"].step == 2
    assert math.isnan(metrics["c"].value)


def test_unknown_run_and_bad_filter(workspace_dir: Path) -> None:
    with pytest.raises(RunNotFound):
        yard.get_run("0" * 32)
    with pytest.raises(FilterSyntaxError) as info:
        yard.search_runs(filter="metrics.auc >> 3")
    assert info.value.position == 13


def test_environment_and_git_state_are_captured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "train.py").write_text("print(1)\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    (tmp_path / "train.py").write_text("print(2)\n")
    commit = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    yard.init_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    from modelyard.tracking import _environment

    _environment.forget()
    with yard.start_run(experiment="e") as run:
        pass
    info = yard.get_run(run.id)
    assert info.git_commit == commit and info.git_dirty is True
    env = json.loads(client().blobs.get_bytes(info.environment_digest))
    assert "print(2)" in env["git"]["diff"]
    assert env["packages"]["modelyard"] == yard.__version__
    assert env["python"].count(".") == 2


def test_runs_share_one_environment_blob(workspace_dir: Path) -> None:
    digests = set()
    for _ in range(3):
        with yard.start_run(experiment="e") as run:
            pass
        digests.add(yard.get_run(run.id).environment_digest)
    assert len(digests) == 1


def test_log_artifacts_refuses_links_that_leave_the_folder(workspace_dir: Path) -> None:
    secret = workspace_dir / "secret.txt"
    secret.write_text("do not upload")
    folder = workspace_dir / "out"
    folder.mkdir()
    (folder / "ok.txt").write_text("fine")
    (folder / "leak.txt").symlink_to(secret)
    run = yard.start_run(experiment="e")
    with run, pytest.raises(InvalidArtifactPath, match="outside"):
        yard.log_artifacts(folder)
    assert client().store.runs.artifacts(run.id) == []
