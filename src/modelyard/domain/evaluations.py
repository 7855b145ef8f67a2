"""Records of model evaluations: a suite's per-check outcomes stored on a model version.

An evaluation is what ``yard check`` leaves behind and what promotion policies read: which
suite (by digest) ran on which data version, every check's outcome and measured value, and the
version it was compared with. No I/O here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

EVALUATIONS_SCHEME = "evaluations:/"


class CheckStatus(str, enum.Enum):
    """PASSED and FAILED are verdicts; ERROR means the check could not run (a crashing model,
    a missing column); SKIPPED means it did not apply (no champion to compare with)."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


def overall_status(statuses: list[CheckStatus]) -> CheckStatus:
    """ERROR beats FAILED beats PASSED; all skipped (or nothing) is PASSED."""
    if CheckStatus.ERROR in statuses:
        return CheckStatus.ERROR
    if CheckStatus.FAILED in statuses:
        return CheckStatus.FAILED
    return CheckStatus.PASSED


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check's result: ``value`` is what was measured (None when nothing was)."""

    name: str  # e.g. "metrics.roc_auc >= 0.8" or "fairness.gender.demographic_parity_difference"
    kind: str  # data | metric | fairness | behaviour | operational
    status: CheckStatus
    value: float | None
    threshold: str  # e.g. ">= 0.8", "<= 0.1", ">= champion - 0.005"
    message: str = ""


@dataclass(frozen=True, slots=True)
class NewEvaluation:
    """What a client supplies to store an evaluation; the store assigns id and time."""

    model: str
    number: int
    suite_digest: str
    data_uri: str  # data:churn@5, or file:<path> for a file outside data versioning
    status: CheckStatus
    outcomes: tuple[CheckOutcome, ...]
    compared_with: str | None = None  # models:/churn/3 when the champion took part
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class Evaluation:
    id: str
    model: str
    number: int
    suite_digest: str
    data_uri: str
    status: CheckStatus
    outcomes: tuple[CheckOutcome, ...]
    compared_with: str | None
    duration_ms: int
    created_by: str
    created_at: int  # milliseconds since the epoch

    @property
    def uri(self) -> str:
        return f"{EVALUATIONS_SCHEME}{self.id}"

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model}/{self.number}"
