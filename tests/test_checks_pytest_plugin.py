"""The pytest plugin: yard_model / yard_data in tests written in code."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from checks_world import build

pytest_plugins = ["pytester"]


def test_fixtures_score_a_registered_model_on_a_data_version(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.workspace import init_workspace

    root = Path(pytester.path)
    ws = init_workspace(root)
    build(ws)
    ws.store.close()
    monkeypatch.chdir(root)
    pytester.makepyfile(
        test_model="""
        def test_auc(yard_model, yard_data):
            assert yard_model.score(yard_data, "roc_auc") > 0.7

        def test_worse(yard_model, yard_data):
            assert yard_model.score(yard_data, "accuracy") > 0.999
        """
    )
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--yard-model",
        "models:/churn/1",
        "--yard-data",
        "churn@2",
        "--yard-target",
        "churned",
    )
    result.assert_outcomes(passed=1, failed=1)


def test_unused_fixtures_do_no_work(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
