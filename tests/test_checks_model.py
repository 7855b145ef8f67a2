"""Model and data checks end to end on a workspace: each check type passes and fails, the
champion is compared on the same data, crashes are errors, results are stored on the version."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("sklearn")

from checks_world import build, write_cases
from modelyard.checks import CheckClient, CheckStatus, Suite, SuiteError
from modelyard.checks._metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
)
from modelyard.workspace import open_workspace


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from modelyard.workspace import init_workspace

    root = tmp_path_factory.mktemp("checks-world")
    ws = init_workspace(root)
    uris = build(ws)
    ws.store.close()
    return root, uris


@pytest.fixture
def client(world, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    root, _ = world
    monkeypatch.chdir(root)
    ws = open_workspace()
    yield CheckClient(ws)
    ws.store.close()


def run(client: CheckClient, world, model: str, suite: dict, **kwargs):  # type: ignore[no-untyped-def]
    root, uris = world
    return client.check_model(
        uris[model], Suite.from_dict(suite, base_dir=str(root)), "churn@2", **kwargs
    )


def statuses(report) -> dict[str, CheckStatus]:  # type: ignore[no-untyped-def]
    return {o.name: o.status for o in report.outcomes}


def test_a_good_model_passes_a_suite_and_the_result_is_stored_on_its_version(client, world):
    suite = {
        "target": "churned",
        "data": {"schema": {"reference": "training"}, "max_null_fraction": 0.0},
        "model": {
            "metrics": [{"metric": "roc_auc", "min": 0.7}, {"metric": "accuracy", "min": 0.6}],
            "operational": [{"max_package_mb": 5}, {"latency_p95_ms": 1000, "repeats": 3}],
        },
    }
    report = run(client, world, "good", suite)
    assert report.status is CheckStatus.PASSED, report.to_markdown()
    assert report.data_uri == "data:churn@2"
    stored = client.evaluations("churn/1")
    assert stored[0].id == report.evaluation_id
    assert stored[0].outcomes == report.outcomes
    assert stored[0].data_uri == "data:churn@2"
    lineage = client.store.lineage.upstream(f"evaluations:/{report.evaluation_id}")
    assert {(e.source, e.relation) for e in lineage} == {
        ("models:/churn/1", "evaluated_by"),
        ("data:churn@2", "used_by"),
    }
    events = client.store.audit.events(subject="models:/churn/1")
    assert events[0].action == "model.evaluation.create"
    assert events[0].detail["evaluation"] == report.evaluation_id


def test_metric_bounds_are_inclusive_at_the_boundary(client, world):
    first = run(
        client,
        world,
        "good",
        {"target": "churned", "model": {"metrics": [{"metric": "accuracy", "min": 0.0}]}},
        store=False,
    )
    value = first.outcomes[0].value
    at = run(
        client,
        world,
        "good",
        {
            "target": "churned",
            "model": {"metrics": [{"metric": "accuracy", "min": value, "max": value}]},
        },
        store=False,
    )
    above = run(
        client,
        world,
        "good",
        {"target": "churned", "model": {"metrics": [{"metric": "accuracy", "min": value + 1e-9}]}},
        store=False,
    )
    assert at.outcomes[0].status is CheckStatus.PASSED
    assert above.outcomes[0].status is CheckStatus.FAILED
    assert "expected >= " in above.outcomes[0].message


def test_every_slice_is_checked_separately(client, world):
    report = run(
        client,
        world,
        "good",
        {
            "target": "churned",
            "model": {"metrics": [{"metric": "accuracy", "slice_by": "region", "min": 0.5}]},
        },
        store=False,
    )
    assert set(statuses(report)) == {
        "metric accuracy by region=north",
        "metric accuracy by region=south",
    }
    failing = run(
        client,
        world,
        "good",
        {
            "target": "churned",
            "model": {"metrics": [{"metric": "accuracy", "slice_by": "region", "min": 0.99}]},
        },
        store=False,
    )
    assert set(statuses(failing).values()) == {CheckStatus.FAILED}


def test_a_worse_candidate_fails_against_the_champion_on_the_same_data(client, world):
    suite = {
        "target": "churned",
        "model": {"metrics": [{"metric": "roc_auc", "min_vs_champion": -0.005}]},
    }
    weak = run(client, world, "weak", suite, store=False)
    (outcome,) = weak.outcomes
    assert outcome.status is CheckStatus.FAILED
    assert weak.compared_with == "models:/churn/1"
    assert outcome.value < -0.1 and "champion models:/churn/1" in outcome.message
    same = run(client, world, "good", suite, store=False)
    assert same.outcomes[0].status is CheckStatus.PASSED and same.outcomes[0].value == 0.0


def test_comparison_is_skipped_when_the_alias_points_nowhere(client, world):
    suite = {
        "target": "churned",
        "compare_to": "production",
        "model": {"metrics": [{"metric": "roc_auc", "min_vs_champion": 0.0}]},
    }
    report = run(client, world, "weak", suite, store=False)
    assert report.outcomes[0].status is CheckStatus.SKIPPED
    assert report.status is CheckStatus.PASSED


def test_fairness_metrics_measure_group_gaps():
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    groups = np.array(["a"] * 4 + ["b"] * 4)
    equal = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    skewed = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    assert demographic_parity_difference(y, equal, groups) == 0.0
    assert demographic_parity_difference(y, skewed, groups) == 1.0
    assert demographic_parity_ratio(y, skewed, groups) == 0.0
    assert equalized_odds_difference(y, equal, groups) == 0.0
    assert equalized_odds_difference(y, skewed, groups) == 1.0


def test_fairness_check_passes_and_fails_by_its_bound(client, world):
    def suite(limit: float) -> dict:
        return {
            "target": "churned",
            "model": {
                "fairness": [
                    {"sensitive": "gender", "metric": "demographic_parity_difference", "max": limit}
                ]
            },
        }

    loose = run(client, world, "good", suite(0.5), store=False)
    strict = run(client, world, "good", suite(0.0), store=False)
    assert loose.outcomes[0].status is CheckStatus.PASSED
    value = loose.outcomes[0].value
    assert strict.outcomes[0].status is (CheckStatus.PASSED if value == 0 else CheckStatus.FAILED)


def test_invariance_passes_for_an_unused_column_and_fails_for_a_used_one(client, world):
    suite = {
        "target": "churned",
        "model": {
            "behaviour": [
                {
                    "invariance": {"column": "customer_name", "perturb": "shuffle"},
                    "max_changed": 0.0,
                },
                {
                    "invariance": {"column": "tenure_months", "perturb": "shuffle"},
                    "max_changed": 0.01,
                },
            ]
        },
    }
    report = run(client, world, "good", suite, store=False)
    assert [o.status for o in report.outcomes] == [CheckStatus.PASSED, CheckStatus.FAILED]


def test_directional_expectations_follow_the_model(client, world):
    suite = {
        "target": "churned",
        "model": {
            "behaviour": [
                {
                    "directional": {"column": "tenure_months", "delta": 12},
                    "expect": "non_increasing",
                },
                {"directional": {"column": "tenure_months", "delta": 12}, "expect": "increasing"},
            ]
        },
    }
    report = run(client, world, "good", suite, store=False)
    assert [o.status for o in report.outcomes] == [CheckStatus.PASSED, CheckStatus.FAILED]
    assert "moved the wrong way" in report.outcomes[1].message


def test_minimum_functionality_cases(client, world):
    root, _ = world
    write_cases(root, right=True)
    write_cases(root, right=False)
    suite = {
        "target": "churned",
        "model": {
            "behaviour": [
                {"cases": "cases.csv"},
                {"cases": {"path": "wrong_cases.csv", "min_pass": 0.5}},
            ]
        },
    }
    report = run(client, world, "good", suite, store=False)
    assert [o.status for o in report.outcomes] == [CheckStatus.PASSED, CheckStatus.FAILED]
    assert "wrong on lines 2, 3" in report.outcomes[1].message


def test_package_size_limit_fails_when_exceeded(client, world):
    suite = {"target": "churned", "model": {"operational": [{"max_package_mb": 0.000001}]}}
    report = run(client, world, "good", suite, store=False)
    assert report.outcomes[0].status is CheckStatus.FAILED


def test_a_crashing_model_is_an_error_not_a_failure(client, world):
    suite = {
        "target": "churned",
        "model": {
            "metrics": [{"metric": "accuracy", "min": 0.5}],
            "behaviour": [{"invariance": {"column": "tenure_months"}}],
        },
    }
    report = run(client, world, "crash", suite)
    assert report.status is CheckStatus.ERROR
    assert all(o.status is CheckStatus.ERROR for o in report.outcomes)
    assert "boom: the model is broken" in report.outcomes[0].message
    assert client.evaluations("churn/3")[0].status is CheckStatus.ERROR


def test_a_column_missing_from_the_data_names_the_suite_key(client, world):
    suite = Suite.from_yaml(
        "target: churned\nmodel:\n  metrics:\n    - {metric: f1, slice_by: country, min: 0.5}\n"
    )
    with pytest.raises(SuiteError) as caught:
        client.check_model("models:/churn/1", suite, "churn@2")
    assert caught.value.field == "model.metrics[0].slice_by"
    assert "(line 4)" in str(caught.value) and "'country'" in str(caught.value)


def test_data_checks_compare_a_version_with_its_reference(client, world, tmp_path: Path):
    from checks_world import churn

    same = client.check_data("churn@2", "churn@1")
    assert same.status is CheckStatus.PASSED, same.to_markdown()
    drifted = churn(seed=5).drop(columns=["gender"])
    drifted["tenure_months"] = drifted["tenure_months"] * 10
    drifted.loc[0, "region"] = "atlantis"
    drifted.loc[:50, "monthly_charges"] = np.nan
    path = tmp_path / "drifted.parquet"
    drifted.to_parquet(path)
    suite = Suite(data=None)
    report = client.check_data(path, "churn@1", suite=suite)
    got = statuses(report)
    assert got["data.schema.columns"] is CheckStatus.FAILED
    assert got["data.schema.ranges"] is CheckStatus.FAILED
    assert got["data.schema.categories"] is CheckStatus.FAILED
    messages = {o.name: o.message for o in report.outcomes}
    assert "gender" in messages["data.schema.columns"]
    assert "atlantis" in messages["data.schema.categories"]
    nulls = client.check_data(
        path, "churn@1", suite=Suite.from_dict({"data": {"max_null_fraction": 0.01}})
    )
    assert statuses(nulls)["data.max_null_fraction"] is CheckStatus.FAILED


def test_junit_xml_parses_with_one_case_per_check(client, world):
    suite = {
        "target": "churned",
        "model": {
            "metrics": [{"metric": "accuracy", "min": 0.5}, {"metric": "accuracy", "min": 0.999}]
        },
    }
    report = run(client, world, "good", suite, store=False)
    root = ET.fromstring(report.to_junit())
    (testsuite,) = root.findall("testsuite")
    assert testsuite.get("tests") == "2" and testsuite.get("failures") == "1"
    cases = testsuite.findall("testcase")
    assert [c.find("failure") is not None for c in cases] == [False, True]


def test_markdown_lists_failing_checks_first(client, world):
    suite = {
        "target": "churned",
        "model": {"metrics": [{"metric": "accuracy", "min": 0.5}, {"metric": "f1", "min": 0.999}]},
    }
    markdown = run(client, world, "good", suite, store=False).to_markdown()
    rows = [line for line in markdown.splitlines() if line.startswith("| ")][2:]
    assert rows[0].startswith("| FAIL | metric f1")
    assert rows[1].startswith("| pass | metric accuracy")
    assert markdown.startswith("## yard check: FAILED")
