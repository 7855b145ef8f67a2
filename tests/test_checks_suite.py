"""Suites load from YAML or Python and fail with the offending key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.checks import (
    DirectionalCheck,
    InvarianceCheck,
    LatencyCheck,
    MetricCheck,
    Suite,
    SuiteError,
    load_suite,
)

ISSUE_SUITE = """\
target: churned
data:
  schema: {reference: training}
  max_null_fraction: 0.02
model:
  metrics:
    - {metric: roc_auc, min: 0.80}
    - {metric: roc_auc, min_vs_champion: -0.005}
    - {metric: f1, slice_by: region, min: 0.70}
  fairness:
    - {sensitive: gender, metric: demographic_parity_difference, max: 0.10}
  behaviour:
    - {invariance: {column: customer_name, perturb: shuffle}, max_changed: 0.01}
    - {directional: {column: tenure_months, delta: +12}, expect: non_increasing}
    - {cases: tests/churn_cases.csv}
  operational:
    - {latency_p95_ms: 20, batch_size: 1}
    - {max_package_mb: 200}
"""


def test_the_suite_from_the_issue_loads_into_typed_checks(tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text(ISSUE_SUITE)
    suite = load_suite(path)
    assert suite.target == "churned" and suite.data.max_null_fraction == 0.02
    assert suite.metrics[1] == MetricCheck("roc_auc", min_vs_champion=-0.005)
    assert suite.behaviour[0] == InvarianceCheck("customer_name", "shuffle", max_changed=0.01)
    assert suite.behaviour[1] == DirectionalCheck("tenure_months", 12.0, "non_increasing")
    assert suite.operational[0] == LatencyCheck(20.0, batch_size=1)
    assert suite.needs_champion and suite.base_dir == str(tmp_path)


def test_the_digest_depends_on_content_not_layout() -> None:
    a = Suite.from_yaml("target: y\nmodel:\n  metrics: [{metric: f1, min: 0.5}]\n")
    b = Suite.from_dict({"model": {"metrics": [{"min": 0.5, "metric": "f1"}]}, "target": "y"})
    c = Suite.from_dict({"model": {"metrics": [{"min": 0.6, "metric": "f1"}]}, "target": "y"})
    assert a.digest == b.digest != c.digest


@pytest.mark.parametrize(
    ("edit", "field", "line", "words"),
    [
        (
            ("roc_auc, min: 0.80", "roc_aucc, min: 0.80"),
            "model.metrics[0].metric",
            7,
            "did you mean 'roc_auc'",
        ),
        (("max: 0.10", "max: high"), "model.fairness[0].max", 11, "expected a number"),
        (("operational:", "operationl:"), "model.operationl", 16, "unknown key"),
        (("metric: f1,", "metric: rmse,"), "model.metrics", 6, "mixes classification"),
        (
            ("expect: non_increasing", "expect: down"),
            "model.behaviour[1].expect",
            14,
            "non_increasing",
        ),
        (
            ("{max_package_mb: 200}", "{max_package: 200}"),
            "model.operational[1]",
            18,
            "max_package_mb",
        ),
        (("target: churned", "target: [1]"), "target", 1, "non-empty text"),
        (("max_changed: 0.01", "max_changed: 2"), "model.behaviour[0].max_changed", 13, "fraction"),
        (
            ("{metric: roc_auc, min: 0.80}", "{metric: roc_auc}"),
            "model.metrics[0]",
            7,
            "at least one bound",
        ),
        (("{sensitive: gender, ", "{"), "model.fairness[0]", 11, "'sensitive'"),
    ],
)
def test_invalid_suites_name_the_key_and_line(edit, field, line, words) -> None:  # type: ignore[no-untyped-def]
    old, new = edit
    assert old in ISSUE_SUITE
    with pytest.raises(SuiteError) as caught:
        Suite.from_yaml(ISSUE_SUITE.replace(old, new, 1))
    assert caught.value.field == field
    assert caught.value.line == line
    assert words in str(caught.value)


def test_a_suite_that_is_not_yaml_names_the_line() -> None:
    with pytest.raises(SuiteError) as caught:
        Suite.from_yaml("target: y\nmodel: [unclosed\n")
    assert caught.value.line is not None and "not valid YAML" in str(caught.value)


def test_suites_built_in_python_are_validated_too() -> None:
    with pytest.raises(SuiteError, match="unknown metric 'auc'"):
        Suite(target="y", metrics=(MetricCheck("auc", min=0.5),))
    with pytest.raises(SuiteError, match="missing 'target'"):
        Suite(metrics=(MetricCheck("f1", min=0.5),))
    with pytest.raises(SuiteError, match="'f1' is a classification metric"):
        Suite(target="y", task="regression", metrics=(MetricCheck("f1", min=0.5),))


def test_a_missing_suite_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="cannot read suite file"):
        load_suite(tmp_path / "nope.yaml")
