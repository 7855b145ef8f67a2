"""pytest plugin: ``yard_model`` and ``yard_data`` fixtures for model tests written in code.

    def test_auc(yard_model, yard_data):
        assert yard_model.score(yard_data, "roc_auc") > 0.8

Select what to test with ``--yard-model models:/churn/4 --yard-data churn@5 --yard-target
churned`` (or YARD_CHECK_MODEL / YARD_CHECK_DATA / YARD_CHECK_TARGET). Registered through the
``pytest11`` entry point; nothing is imported or opened unless a test uses a fixture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modelyard", "modelyard model checks")
    group.addoption("--yard-model", default=None, help="model URI for the yard_model fixture")
    group.addoption("--yard-data", default=None, help="dataset version or file for yard_data")
    group.addoption("--yard-target", default=None, help="label column of the yard_data")


@dataclass(frozen=True)
class EvaluationData:
    """The evaluation data: the frame, its label column and where it came from."""

    frame: Any
    target: str | None
    uri: str

    @property
    def labels(self) -> Any:
        if self.target is None:
            raise pytest.UsageError("set --yard-target (or YARD_CHECK_TARGET) to score models")
        return self.frame[self.target].to_numpy()


class ScoredModel:
    """A loaded model with ``score(data, metric)``; anything else goes to the model."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def score(self, data: EvaluationData, metric: str, *, task: str | None = None) -> float:
        from modelyard.checks._metrics import METRICS
        from modelyard.checks._model import model_inputs, predict
        from modelyard.checks._suite import Suite

        if metric not in METRICS:
            raise pytest.UsageError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
        suite = Suite(target=data.target, task=task or METRICS[metric].task)
        definition = METRICS[metric]
        inputs = model_inputs(self.model, data.frame, suite)
        predicted = predict(self.model, inputs, definition.task, suite.positive_label)
        return definition.compute(data.labels, predicted.labels, predicted.scores)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def _setting(config: pytest.Config, option: str, env: str) -> str | None:
    return config.getoption(option) or os.environ.get(env)


@pytest.fixture(scope="session")
def _yard_checks() -> Any:
    from modelyard.checks import CheckClient
    from modelyard.workspace import open_workspace

    return CheckClient(open_workspace())


@pytest.fixture(scope="session")
def yard_model(request: pytest.FixtureRequest, _yard_checks: Any) -> ScoredModel:
    uri = _setting(request.config, "--yard-model", "YARD_CHECK_MODEL")
    if not uri:
        raise pytest.UsageError(
            "yard_model needs --yard-model models:/name/N (or YARD_CHECK_MODEL)"
        )
    return ScoredModel(_yard_checks.models.load(uri))


@pytest.fixture(scope="session")
def yard_data(request: pytest.FixtureRequest, _yard_checks: Any) -> EvaluationData:
    ref = _setting(request.config, "--yard-data", "YARD_CHECK_DATA")
    if not ref:
        raise pytest.UsageError("yard_data needs --yard-data churn@5 (or YARD_CHECK_DATA)")
    frame, uri, _ = _yard_checks.load_data(ref)
    target = _setting(request.config, "--yard-target", "YARD_CHECK_TARGET")
    return EvaluationData(frame, target, uri)
