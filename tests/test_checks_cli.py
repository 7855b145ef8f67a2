"""`yard check`, `yard ci init` and `yard models checks` through the real command."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml

pytest.importorskip("sklearn")

from checks_world import build
from modelyard.cli import main

PASSING = "target: churned\nmodel:\n  metrics:\n    - {metric: roc_auc, min: 0.7}\n"
FAILING = "target: churned\nmodel:\n  metrics:\n    - {metric: roc_auc, min: 0.99}\n"


@pytest.fixture
def world(workspace_dir: Path) -> Path:
    from modelyard.workspace import open_workspace

    ws = open_workspace()
    build(ws)
    ws.store.close()
    (workspace_dir / "pass.yaml").write_text(PASSING)
    (workspace_dir / "fail.yaml").write_text(FAILING)
    return workspace_dir


def test_check_exit_codes_are_0_pass_1_fail_2_error(world: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ok = ["check", "models:/churn/1", "--data", "churn@2", "--suite"]
    assert main([*ok, "pass.yaml", "--junit", "r.xml", "--markdown", "r.md"]) == 0
    assert ET.parse(world / "r.xml").getroot().find("testsuite").get("failures") == "0"
    assert (world / "r.md").read_text().startswith("## yard check: PASSED")
    assert main([*ok, "fail.yaml"]) == 1
    assert main(["check", "churn/3", "--data", "churn@2", "--suite", "pass.yaml"]) == 2
    (world / "bad.yaml").write_text("target: churned\nmodel:\n  metrics:\n    - {metric: auc}\n")
    capsys.readouterr()
    assert main([*ok, "bad.yaml"]) == 2
    assert "model.metrics[0].metric (line 4): unknown metric 'auc'" in capsys.readouterr().err
    assert main([*ok, "missing.yaml"]) == 2
    assert main(["check", "churn/9", "--data", "churn@2", "--suite", "pass.yaml"]) == 2


def test_check_json_and_stored_results(world: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", "churn/1", "-d", "churn@2", "-s", "fail.yaml", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "FAILED" and report["checks"][0]["name"] == "metric roc_auc"
    assert main(["models", "checks", "churn/1", "--json"]) == 0
    (stored,) = json.loads(capsys.readouterr().out)
    assert stored["id"] == report["evaluation"] and stored["status"] == "FAILED"
    assert main(["models", "checks", "churn/1"]) == 0
    assert "metric roc_auc" in capsys.readouterr().out


def test_check_data_against_another_version(world: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", "data", "churn@2", "--against", "churn@1"]) == 0
    assert "data.schema.columns" in capsys.readouterr().out
    assert main(["check", "data", "churn@2"]) == 2


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_ci_init_writes_a_valid_workflow_that_runs_the_suite(
    workspace_dir: Path, provider: str
) -> None:
    assert main(["ci", "init", provider, "--model", "churn", "--data", "churn@5"]) == 0
    path = workspace_dir / (
        ".github/workflows/yard.yml" if provider == "github" else ".gitlab-ci.yml"
    )
    workflow = yaml.safe_load(path.read_text())
    text = json.dumps(workflow)
    assert "yard check" in text and "--junit yard-report.xml" in text and "churn@5" in text
    if provider == "github":
        steps = workflow["jobs"]["check"]["steps"]
        assert any("upload-artifact" in s.get("uses", "") for s in steps)
        assert workflow["jobs"]["check"]["env"]["YARD_MODEL"] == "models:/churn@candidate"
    else:
        assert workflow["yard-check"]["artifacts"]["reports"]["junit"] == "yard-report.xml"
    assert main(["ci", "init", provider]) == 2  # exists: refuses without --force
    assert main(["ci", "init", provider, "--force"]) == 0
    assert main(["ci", "init", "jenkins"]) == 2
