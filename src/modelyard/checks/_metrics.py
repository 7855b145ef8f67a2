"""Metrics by name: classification and regression (scikit-learn), fairness (NumPy).

A metric takes ``(y_true, labels, scores)``: ``labels`` are predicted classes (or values for
regression), ``scores`` the predicted probability of the positive class (binary) or the
probability matrix (multiclass); metrics that need scores say so. Fairness metrics compare
groups of a sensitive column on predicted labels, vectorised with ``np.unique`` and bincounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class MetricDef:
    task: str  # classification | regression
    needs_scores: bool
    compute: Callable[[Any, Any, Any], float]
    higher_is_better: bool = True


def _sk() -> Any:
    try:
        import sklearn.metrics
    except ImportError as exc:  # pragma: no cover - sklearn is in the sklearn extra
        from modelyard.errors import InvalidState

        raise InvalidState(
            "metric checks use scikit-learn; pip install 'modelyard[sklearn]'"
        ) from exc
    return sklearn.metrics


def _average(y_true: Any) -> str:
    return "binary" if len(np.unique(y_true)) <= 2 else "macro"


def _roc_auc(y: Any, _labels: Any, scores: Any) -> float:
    if np.ndim(scores) == 2:
        return float(_sk().roc_auc_score(y, scores, multi_class="ovr"))
    return float(_sk().roc_auc_score(y, scores))


def _f(name: str) -> Callable[[Any, Any, Any], float]:
    def compute(y: Any, labels: Any, _scores: Any) -> float:
        fn = getattr(_sk(), name)
        return float(fn(y, labels, average=_average(y), zero_division=0))

    return compute


def _simple(name: str, **kwargs: Any) -> Callable[[Any, Any, Any], float]:
    def compute(y: Any, labels: Any, _scores: Any) -> float:
        return float(getattr(_sk(), name)(y, labels, **kwargs))

    return compute


def _log_loss(y: Any, _labels: Any, scores: Any) -> float:
    return float(_sk().log_loss(y, scores))


def _rmse(y: Any, values: Any, _scores: Any) -> float:
    diff = np.asarray(y, dtype=float) - np.asarray(values, dtype=float)
    return float(np.sqrt(np.mean(diff * diff)))


METRICS: dict[str, MetricDef] = {
    "accuracy": MetricDef("classification", False, _simple("accuracy_score")),
    "balanced_accuracy": MetricDef("classification", False, _simple("balanced_accuracy_score")),
    "f1": MetricDef("classification", False, _f("f1_score")),
    "precision": MetricDef("classification", False, _f("precision_score")),
    "recall": MetricDef("classification", False, _f("recall_score")),
    "roc_auc": MetricDef("classification", True, _roc_auc),
    "log_loss": MetricDef("classification", True, _log_loss, higher_is_better=False),
    "rmse": MetricDef("regression", False, _rmse, higher_is_better=False),
    "mae": MetricDef("regression", False, _simple("mean_absolute_error"), higher_is_better=False),
    "mape": MetricDef(
        "regression",
        False,
        _simple("mean_absolute_percentage_error"),
        higher_is_better=False,
    ),
    "r2": MetricDef("regression", False, _simple("r2_score")),
}


def task_of(metric: str) -> str:
    return METRICS[metric].task


# -- fairness ------------------------------------------------------------------------------


def _group_rates(groups: Any, values: Any, mask: Any = None) -> np.ndarray:
    """Mean of ``values`` (0/1) per group, over rows where ``mask`` holds; groups with no
    such rows are left out."""
    _, codes = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    values = np.asarray(values, dtype=float)
    if mask is not None:
        codes, values = codes[mask], values[mask]
    counts = np.bincount(codes)
    sums = np.bincount(codes, weights=values, minlength=len(counts))
    present = counts > 0
    return sums[present] / counts[present]


def _spread(rates: np.ndarray) -> float:
    return float(rates.max() - rates.min()) if len(rates) else 0.0


def demographic_parity_difference(y: Any, selected: Any, groups: Any) -> float:
    """Largest gap in selection rate (share predicted positive) between groups."""
    return _spread(_group_rates(groups, selected))


def demographic_parity_ratio(y: Any, selected: Any, groups: Any) -> float:
    """Smallest selection rate over the largest (1.0 is parity)."""
    rates = _group_rates(groups, selected)
    if not len(rates) or rates.max() == 0:
        return 1.0
    return float(rates.min() / rates.max())


def equal_opportunity_difference(y: Any, selected: Any, groups: Any) -> float:
    """Largest gap in true positive rate between groups."""
    return _spread(_group_rates(groups, selected, np.asarray(y) == 1))


def equalized_odds_difference(y: Any, selected: Any, groups: Any) -> float:
    """The larger of the gaps in true positive rate and in false positive rate."""
    positive = np.asarray(y) == 1
    return max(
        _spread(_group_rates(groups, selected, positive)),
        _spread(_group_rates(groups, selected, ~positive)),
    )


FAIRNESS_METRICS: dict[str, Callable[[Any, Any, Any], float]] = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equal_opportunity_difference": equal_opportunity_difference,
    "equalized_odds_difference": equalized_odds_difference,
}
