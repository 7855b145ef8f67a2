"""``yard.autolog()``: every scikit-learn / XGBoost / LightGBM ``fit()`` inside a run logs its
params, training metrics (per iteration for boosters with an eval set) and the fitted model
with its signature and an input example; registered too when ``name`` is given.

It patches the ``fit`` methods of the estimator classes (restored by
``autolog(disable=True)``). Only the outermost ``fit`` logs (a Pipeline logs once, not once
per step), only inside an active run (autolog never starts one), and a failure to log is a
``AutologWarning``, never an exception out of the user's ``fit()``.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import math
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from modelyard.domain.names import MAX_PARAM_VALUE_LENGTH
from modelyard.errors import InvalidValue
from modelyard.tracking import ActiveRun, active_run

FRAMEWORKS = ("sklearn", "xgboost", "lightgbm")
_BOOSTER_CLASSES = {
    "xgboost": (
        "xgboost.sklearn",
        (
            "XGBModel",
            "XGBClassifier",
            "XGBRegressor",
            "XGBRanker",
            "XGBRFClassifier",
            "XGBRFRegressor",
        ),
    ),
    "lightgbm": (
        "lightgbm.sklearn",
        ("LGBMModel", "LGBMClassifier", "LGBMRegressor", "LGBMRanker"),
    ),
}
EXAMPLE_ROWS = 5


class AutologWarning(UserWarning):
    """Autologging could not log something; the user's fit() went ahead regardless."""


@dataclass(frozen=True, slots=True)
class AutologConfig:
    log_params: bool = True
    log_metrics: bool = True
    log_models: bool = True
    name: str | None = None  # register every logged model under this name
    frameworks: tuple[str, ...] = FRAMEWORKS


_config: AutologConfig | None = None
_patches: list[tuple[type, Callable[..., Any]]] = []
_lock = threading.Lock()
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("yard_autolog_depth", default=0)
_models_per_run: dict[str, int] = {}


def autolog(
    *,
    log_params: bool = True,
    log_metrics: bool = True,
    log_models: bool = True,
    name: str | None = None,
    frameworks: Sequence[str] = FRAMEWORKS,
    disable: bool = False,
) -> AutologConfig | None:
    """Turn autologging on (again, with these settings) or off (``disable=True``).

    Frameworks that are not installed are skipped. Returns the active configuration."""
    global _config
    unknown = sorted(set(frameworks) - set(FRAMEWORKS))
    if unknown:
        raise InvalidValue(
            f"autolog cannot patch {', '.join(unknown)}; it knows {', '.join(FRAMEWORKS)}",
            field="frameworks",
        )
    with _lock:
        _unpatch()
        if disable:
            _config = None
            return None
        _config = AutologConfig(log_params, log_metrics, log_models, name, tuple(frameworks))
        for framework in _config.frameworks:
            for cls in _classes(framework):
                _patch(cls, framework)
        return _config


def _classes(framework: str) -> list[type]:
    if framework == "sklearn":
        try:
            from sklearn.utils import all_estimators
        except ImportError:
            return []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [cls for _, cls in all_estimators()]
    module_name, names = _BOOSTER_CLASSES[framework]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    return [getattr(module, n) for n in names if hasattr(module, n)]


def _patch(cls: type, framework: str) -> None:
    for klass in cls.__mro__:
        original = klass.__dict__.get("fit")
        if original is None or getattr(original, "_yard_autolog", False):
            continue
        if not klass.__module__.startswith(framework):
            continue
        patched = _wrap(original, framework)
        type.__setattr__(klass, "fit", patched)
        _patches.append((klass, original))


def _unpatch() -> None:
    while _patches:
        klass, original = _patches.pop()
        type.__setattr__(klass, "fit", original)


def _wrap(original: Callable[..., Any], framework: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        config = _config
        if config is None or _depth.get() > 0:
            return original(self, *args, **kwargs)
        token = _depth.set(_depth.get() + 1)
        try:
            result = original(self, *args, **kwargs)
            run = active_run()
            if run is not None:  # still nested: fits made while computing metrics log nothing
                _log_fit(run, config, framework, self, args, kwargs)
        finally:
            _depth.reset(token)
        return result

    fit._yard_autolog = True  # type: ignore[attr-defined]
    return fit


def _log_fit(
    run: ActiveRun,
    config: AutologConfig,
    framework: str,
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    x = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    kind = type(estimator).__name__
    if config.log_params:
        _safely(f"the params of {kind}", lambda: run.log_params(_params(estimator)))
    if config.log_metrics:
        _safely(f"the training metrics of {kind}", lambda: _log_metrics(run, estimator, x, y))
    if config.log_models and callable(getattr(estimator, "predict", None)):
        _safely(f"the {kind} model", lambda: _log_model(run, config, estimator, x))


def _safely(what: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as exc:  # autologging must never break the user's fit()
        warnings.warn(
            f"modelyard autolog could not log {what}: {type(exc).__name__}: {exc}",
            AutologWarning,
            stacklevel=4,
        )


def _params(estimator: Any) -> dict[str, str]:
    params = {}
    for key, value in estimator.get_params(deep=True).items():
        if value is None or isinstance(value, (bool, int, float, str)):
            text = str(value)
        else:
            text = type(value).__name__
        params[key] = text[:MAX_PARAM_VALUE_LENGTH]
    return params


def _log_metrics(run: ActiveRun, estimator: Any, x: Any, y: Any) -> None:
    metrics: dict[str, float] = {}
    if x is not None and y is not None:
        metrics.update(_training_metrics(estimator, x, y))
    if metrics:
        run.log_metrics(metrics)
    for key, values in _iteration_metrics(estimator).items():
        for step, value in enumerate(values):
            run.log_metric(key, float(value), step=step)


def _training_metrics(estimator: Any, x: Any, y: Any) -> dict[str, float]:
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        predicted = estimator.predict(x)
        binary = len(getattr(estimator, "classes_", ())) == 2
        average = "binary" if binary else "weighted"
        found = {
            "training_accuracy": metrics.accuracy_score(y, predicted),
            "training_precision": metrics.precision_score(
                y, predicted, average=average, zero_division=0
            ),
            "training_recall": metrics.recall_score(y, predicted, average=average, zero_division=0),
            "training_f1": metrics.f1_score(y, predicted, average=average, zero_division=0),
        }
        if callable(getattr(estimator, "predict_proba", None)):
            scores = estimator.predict_proba(x)
            found["training_log_loss"] = metrics.log_loss(y, scores, labels=estimator.classes_)
            if binary:
                found["training_roc_auc"] = metrics.roc_auc_score(y, scores[:, 1])
        return {k: float(v) for k, v in found.items()}
    if is_regressor(estimator):
        predicted = estimator.predict(x)
        mse = metrics.mean_squared_error(y, predicted)
        return {
            "training_mse": float(mse),
            "training_rmse": math.sqrt(mse),
            "training_mae": float(metrics.mean_absolute_error(y, predicted)),
            "training_r2": float(metrics.r2_score(y, predicted)),
        }
    return {}


def _iteration_metrics(estimator: Any) -> dict[str, list[float]]:
    """Per-iteration eval metrics of a booster fitted with an eval set: ``validation_0-logloss``."""
    results = getattr(estimator, "evals_result_", None)
    if results is None and callable(getattr(estimator, "evals_result", None)):
        try:
            results = estimator.evals_result()
        except Exception:  # XGBoost raises when fitted without an eval set
            results = None
    flat: dict[str, list[float]] = {}
    for dataset, by_metric in (results or {}).items():
        for metric, values in by_metric.items():
            flat[f"{dataset}-{metric}"] = list(values)
    return flat


def _log_model(run: ActiveRun, config: AutologConfig, estimator: Any, x: Any) -> None:
    from modelyard.models._fluent import client

    with _lock:
        count = _models_per_run.get(run.id, 0) + 1
        _models_per_run[run.id] = count
    path = "model" if count == 1 else f"model-{count}"
    example = None
    if x is not None:
        example = x.head(EXAMPLE_ROWS) if hasattr(x, "head") else x[:EXAMPLE_ROWS]
    client().log_model(
        estimator, run_id=run.id, artifact_path=path, name=config.name, input_example=example
    )
