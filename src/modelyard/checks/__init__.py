"""Checks: model and data test suites as CI quality gates.

What it owns:

- the suite (``_suite.py``): typed records built in Python or loaded from YAML, validated
  with errors that name the key path and line; identified by a content digest;
- data checks on table profiles (``_data.py``): rows, nulls, schema, ranges and categories
  against the training data or any dataset version;
- model checks (``_model.py``): metrics for classification and regression (scikit-learn),
  per slice and against the champion evaluated on the same data in the same call; fairness
  (NumPy); behaviour (invariance, directional, minimum-functionality cases); latency p95 and
  package size;
- reports (``_report.py``): JUnit XML, Markdown with failing checks first, JSON;
- ``CheckClient``: runs suites and stores each model evaluation on its version;
- ``ci_workflow``: GitHub / GitLab workflows that run a suite and fail the job on failure;
- a pytest plugin (``modelyard.checks.pytest_plugin``) with ``yard_model`` and ``yard_data``.
"""

from modelyard.checks._ci import ci_workflow
from modelyard.checks._client import CheckClient
from modelyard.checks._metrics import FAIRNESS_METRICS, METRICS
from modelyard.checks._report import CheckReport
from modelyard.checks._suite import (
    CasesCheck,
    DataSpec,
    DirectionalCheck,
    FairnessCheck,
    InvarianceCheck,
    LatencyCheck,
    MetricCheck,
    PackageSizeCheck,
    Suite,
    SuiteError,
    load_suite,
)
from modelyard.domain.evaluations import CheckOutcome, CheckStatus, Evaluation

__all__ = [
    "FAIRNESS_METRICS",
    "METRICS",
    "CasesCheck",
    "CheckClient",
    "CheckOutcome",
    "CheckReport",
    "CheckStatus",
    "DataSpec",
    "DirectionalCheck",
    "Evaluation",
    "FairnessCheck",
    "InvarianceCheck",
    "LatencyCheck",
    "MetricCheck",
    "PackageSizeCheck",
    "Suite",
    "SuiteError",
    "ci_workflow",
    "load_suite",
]
