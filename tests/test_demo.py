"""`yard demo` (what `make demo` runs) works end to end and can be run again."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.cli import main
from modelyard.workspace import open_workspace, resolve


def test_demo_runs_the_lifecycle_twice_in_the_same_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    for _ in range(2):  # a second run replaces the first demo's workspace
        assert main(["demo", "--folder", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "summary" in out and "best model" in out
    ws = open_workspace(resolve(start=folder))
    try:
        runs = ws.store.runs.search(["churn"]).items
        assert len(runs) == 5  # the sweep and its four children, from the second run only
        assert all(r.status.value == "FINISHED" for r in runs)
        assert ws.store.lineage.upstream(runs[0].uri)  # trained on a dataset version
    finally:
        ws.store.close()


def test_demo_refuses_a_folder_it_did_not_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert main(["demo", "--folder", str(tmp_path)]) == 1
    assert "did not create" in capsys.readouterr().err
