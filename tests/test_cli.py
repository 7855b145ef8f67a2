"""The ``yard`` command, driven as a user drives it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import modelyard as yard
from modelyard.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def three_runs(workspace_dir: Path) -> list[str]:
    ids = []
    for depth, auc in [(4, 0.71), (8, 0.86), (8, 0.83)]:
        with yard.start_run(experiment="churn", name=f"rf-{depth}-{auc}") as run:
            yard.log_params({"max_depth": depth, "n_estimators": 100})
            yard.log_metrics({"auc": auc, "loss": 1 - auc})
        ids.append(run.id)
    return ids


def test_init_creates_a_workspace_and_refuses_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "init")
    assert code == 0 and "initialised" in out
    assert (tmp_path / ".yard" / "yard.db").is_file()
    code, _, err = run_cli(capsys, "init")
    assert code == 1 and "already" in err and "Traceback" not in err


def test_commands_outside_a_workspace_say_to_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "runs", "list")
    assert code != 0
    assert "yard init" in err and len(err.strip().splitlines()) == 1


def test_runs_list_filters_and_orders(
    three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys,
        "runs",
        "list",
        "--experiment",
        "churn",
        "--filter",
        "metrics.auc > 0.8",
        "--order-by",
        "metrics.auc desc",
    )
    assert code == 0
    assert out.index(three_runs[1]) < out.index(three_runs[2]) and three_runs[0] not in out
    code, out, _ = run_cli(capsys, "runs", "list", "--filter", "params.max_depth = '8'", "--json")
    assert {r["id"] for r in json.loads(out)} == set(three_runs[1:])


def test_a_bad_filter_points_at_the_problem(
    three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "runs", "list", "--filter", "metrics.auc >")
    assert code == 2
    assert "error:" in err and "position 13" in err and "^" in err and "Traceback" not in err


def test_debug_shows_the_traceback(
    three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from modelyard.errors import FilterSyntaxError

    with pytest.raises(FilterSyntaxError):
        main(["--debug", "runs", "list", "--filter", "metrics.auc >"])


def test_runs_show_has_everything_about_a_run(
    three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "runs", "show", three_runs[1])
    assert code == 0
    for expected in ("rf-8-0.86", "max_depth", "auc", "0.86", "environment", "python"):
        assert expected in out
    code, out, _ = run_cli(capsys, "runs", "show", three_runs[1], "--json")
    shown = json.loads(out)
    assert shown["run"]["params"]["max_depth"] == "8" and shown["environment"]["packages"]


def test_unknown_run_is_one_line(three_runs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "runs", "show", "deadbeef")
    assert (
        code == 1
        and err.strip() == "error: no run with id 'deadbeef'; `yard runs list` shows the runs"
    )


def test_compare_shows_differing_params_and_all_metrics(
    three_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "runs", "compare", *three_runs, "--json")
    compared = json.loads(out)
    assert compared["differing_params"] == ["max_depth"]
    assert compared["params"] == {"max_depth": ["4", "8", "8"]}
    assert compared["metrics"]["auc"] == [0.71, 0.86, 0.83]
    code, out, _ = run_cli(capsys, "runs", "compare", *three_runs)
    assert "params.max_depth" in out and "params.n_estimators" not in out
    assert "1 params are equal" in out
    code, _, err = run_cli(capsys, "runs", "compare", three_runs[0])
    assert code == 2 and "at least two" in err


def test_delete_restore_and_end(three_runs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "runs", "delete", three_runs[0])
    _, out, _ = run_cli(capsys, "runs", "list", "--json")
    assert three_runs[0] not in {r["id"] for r in json.loads(out)}
    run_cli(capsys, "runs", "restore", three_runs[0])
    _, out, _ = run_cli(capsys, "runs", "list", "--json")
    assert three_runs[0] in {r["id"] for r in json.loads(out)}
    code, _, err = run_cli(capsys, "runs", "end", three_runs[0])
    assert code == 1 and "already FINISHED" in err


def test_experiments_lifecycle(workspace_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "experiments", "create", "churn", "-d", "monthly")[0] == 0
    assert run_cli(capsys, "experiments", "rename", "churn", "churn-2026")[0] == 0
    _, out, _ = run_cli(capsys, "experiments", "list", "--json")
    assert [(e["name"], e["description"]) for e in json.loads(out)] == [("churn-2026", "monthly")]
    run_cli(capsys, "experiments", "delete", "churn-2026")
    _, out, _ = run_cli(capsys, "experiments", "list", "--json")
    assert json.loads(out) == []
    _, out, _ = run_cli(capsys, "experiments", "list", "--all", "--json")
    assert json.loads(out)[0]["lifecycle"] == "deleted"
    code, _, err = run_cli(capsys, "experiments", "delete", "nope")
    assert code == 1 and "no experiment named 'nope'" in err


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["init"],
        ["demo"],
        ["experiments", "list"],
        ["experiments", "create"],
        ["experiments", "rename"],
        ["experiments", "delete"],
        ["experiments", "restore"],
        ["runs", "list"],
        ["runs", "show"],
        ["runs", "compare"],
        ["runs", "delete"],
        ["runs", "restore"],
        ["runs", "end"],
    ],
)
def test_every_command_has_help_with_an_example(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, *command, "--help")
    assert code == 0
    assert "Usage" in out
    if command:
        assert "Example: yard" in out


def test_the_installed_yard_command_works(three_runs: list[str], workspace_dir: Path) -> None:
    yard_bin = Path(sys.executable).with_name("yard")
    done = subprocess.run(
        [str(yard_bin), "runs", "list", "--json"],
        cwd=workspace_dir,
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 3
