"""Model checks: metrics (overall, per slice, against the champion), fairness, behaviour and
operational checks, all on predictions computed once per model.

The model gets only its signature's columns; the target, slice and sensitive columns stay with
the checks. A model that raises while predicting makes its checks ERROR (not FAILED): a
crash is a broken build, not a worse model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelyard.checks._metrics import FAIRNESS_METRICS, METRICS
from modelyard.checks._suite import (
    CasesCheck,
    DirectionalCheck,
    InvarianceCheck,
    LatencyCheck,
    MetricCheck,
    PackageSizeCheck,
    Suite,
    column_error,
)
from modelyard.domain.evaluations import CheckOutcome, CheckStatus

_EPSILON = 1e-12
_MB = 1 << 20


@dataclass(frozen=True, slots=True)
class Predictions:
    """Predicted labels (or values) and, for classifiers with probabilities, scores: the
    positive class's probability (binary) or the probability matrix (multiclass)."""

    labels: np.ndarray
    scores: np.ndarray | None


class ModelCrashed(Exception):
    """The model raised while predicting; carries a one-line reason."""


def infer_task(suite: Suite, target: pd.Series | None) -> str:
    if suite.task:
        return suite.task
    from modelyard.checks._metrics import task_of

    for m in suite.metrics:
        return task_of(m.metric)
    if suite.fairness:
        return "classification"
    if target is not None and pd.api.types.is_float_dtype(target) and target.nunique() > 20:
        return "regression"
    return "classification"


def model_inputs(model: Any, frame: pd.DataFrame, suite: Suite) -> pd.DataFrame:
    """The columns the model takes: its signature's, or everything the checks do not own."""
    signature = getattr(model, "signature", None)
    if signature is not None:
        missing = [c for c in signature.input_names if c not in frame.columns]
        if missing:
            raise column_error(
                suite,
                "data",
                f"the evaluation data lacks the model's input columns {', '.join(missing)}; "
                f"it has {', '.join(map(str, frame.columns[:20]))}",
            )
        return frame[signature.input_names]
    return frame.drop(columns=[c for c in suite.columns if c in frame.columns])


def predict(model: Any, inputs: pd.DataFrame, task: str, positive_label: Any) -> Predictions:
    """One pass over ``inputs``: probabilities when there are any (labels derived from them
    for scikit-learn style classifiers), else ``predict``."""
    try:
        proba_fn = getattr(model, "predict_proba", None) if task == "classification" else None
        if proba_fn is not None:
            proba = np.asarray(proba_fn(inputs))
            classes = getattr(getattr(model, "raw", None), "classes_", None)
            if classes is not None and proba.ndim == 2 and proba.shape[1] == len(classes):
                labels = np.asarray(classes)[proba.argmax(axis=1)]
            else:
                labels = _flat(model.predict(inputs))
            if proba.ndim == 2 and proba.shape[1] == 2:
                column = 1
                if classes is not None and positive_label in list(classes):
                    column = list(classes).index(positive_label)
                return Predictions(labels, proba[:, column])
            return Predictions(labels, proba)
        return Predictions(_flat(model.predict(inputs)), None)
    except Exception as exc:  # reported as an ERROR outcome, never swallowed silently
        raise ModelCrashed(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc


def _flat(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    return array


@dataclass
class ModelRun:
    """What the model checks need; ``champion`` is None when there is nothing to compare."""

    suite: Suite
    frame: pd.DataFrame
    model: Any
    champion: Any = None
    champion_uri: str | None = None
    package_bytes: int | None = None


def model_outcomes(run: ModelRun) -> list[CheckOutcome]:
    suite, frame = run.suite, run.frame
    _check_columns(suite, frame)
    target = frame[suite.target] if suite.target else None
    task = infer_task(suite, target)
    inputs = model_inputs(run.model, frame, suite)
    outcomes: list[CheckOutcome] = []
    try:
        mine = predict(run.model, inputs, task, suite.positive_label)
    except ModelCrashed as exc:
        return [_crashed(name, kind, str(exc)) for name, kind in _names(suite)]
    theirs: Predictions | None = None
    champion_error = None
    if run.champion is not None and suite.needs_champion:
        try:
            theirs = predict(
                run.champion, model_inputs(run.champion, frame, suite), task, suite.positive_label
            )
        except ModelCrashed as exc:
            champion_error = f"the champion {run.champion_uri} crashed: {exc}"
    y = target.to_numpy() if target is not None else None
    for check in suite.metrics:
        outcomes.extend(_metric(check, y, mine, theirs, frame, run.champion_uri, champion_error))
    selected = None
    if suite.fairness:
        selected = (mine.labels == suite.positive_label).astype(float)
        if mine.labels.dtype.kind == "f" and mine.scores is not None:
            selected = (mine.scores >= suite.threshold).astype(float)
    for f in suite.fairness:
        name = f"fairness {f.metric} by {f.sensitive}"
        value = FAIRNESS_METRICS[f.metric](
            (y == suite.positive_label).astype(int), selected, frame[f.sensitive].to_numpy()
        )
        outcomes.append(_bounded(name, "fairness", value, f.min, f.max, ""))
    if suite.behaviour:
        sample = inputs
        if len(inputs) > suite.behaviour_sample:
            sample = inputs.sample(n=suite.behaviour_sample, random_state=0)
        for i, b in enumerate(suite.behaviour):
            outcomes.append(_behaviour(run, b, i, sample, task))
    for o in suite.operational:
        outcomes.append(_operational(run, o, inputs))
    return outcomes


def _check_columns(suite: Suite, frame: pd.DataFrame) -> None:
    wanted: list[tuple[str, str]] = []
    if suite.target:
        wanted.append(("target", suite.target))
    wanted += [
        (f"model.metrics[{i}].slice_by", m.slice_by)
        for i, m in enumerate(suite.metrics)
        if m.slice_by
    ]
    wanted += [
        (f"model.fairness[{i}].sensitive", f.sensitive) for i, f in enumerate(suite.fairness)
    ]
    wanted += [
        (f"model.behaviour[{i}].column", b.column)
        for i, b in enumerate(suite.behaviour)
        if isinstance(b, (InvarianceCheck, DirectionalCheck))
    ]
    for path, column in wanted:
        if column not in frame.columns:
            raise column_error(
                suite,
                path,
                f"column {column!r} is not in the evaluation data; its columns are "
                f"{', '.join(map(str, frame.columns[:20]))}",
            )


def _names(suite: Suite) -> list[tuple[str, str]]:
    names = [(_metric_name(m), "metric") for m in suite.metrics]
    names += [(f"fairness {f.metric} by {f.sensitive}", "fairness") for f in suite.fairness]
    names += [(_behaviour_name(b), "behaviour") for b in suite.behaviour]
    names += [(_operational_name(o), "operational") for o in suite.operational]
    return names


def _crashed(name: str, kind: str, reason: str) -> CheckOutcome:
    return CheckOutcome(name, kind, CheckStatus.ERROR, None, "", f"the model crashed: {reason}")


# -- metrics --------------------------------------------------------------------------------


def _metric_name(m: MetricCheck) -> str:
    if m.min_vs_champion is not None or m.max_vs_champion is not None:
        return f"metric {m.metric} vs champion"
    return f"metric {m.metric}" + (f" by {m.slice_by}" if m.slice_by else "")


def _score(metric: str, y: Any, p: Predictions) -> float:
    definition = METRICS[metric]
    if definition.needs_scores and p.scores is None:
        raise ValueError(
            f"{metric} needs predicted probabilities and the model has no predict_proba"
        )
    return definition.compute(y, p.labels, p.scores)


def _metric(
    m: MetricCheck,
    y: Any,
    mine: Predictions,
    theirs: Predictions | None,
    frame: pd.DataFrame,
    champion_uri: str | None,
    champion_error: str | None,
) -> list[CheckOutcome]:
    name = _metric_name(m)
    if m.min_vs_champion is not None or m.max_vs_champion is not None:
        if champion_error:
            return [CheckOutcome(name, "metric", CheckStatus.ERROR, None, "", champion_error)]
        if theirs is None:
            return [
                CheckOutcome(
                    name, "metric", CheckStatus.SKIPPED, None, "", "no champion to compare with"
                )
            ]
        return [_guarded(name, lambda: _versus(name, m, y, mine, theirs, champion_uri))]
    if m.slice_by is None:
        return [
            _guarded(
                name,
                lambda: _bounded(name, "metric", _score(m.metric, y, mine), m.min, m.max, ""),
            )
        ]
    keys = frame[m.slice_by].astype(str).to_numpy()
    codes, inverse = np.unique(keys, return_inverse=True)
    outcomes = []
    for code_index, value in enumerate(codes):
        mask = inverse == code_index
        if mask.sum() < m.min_slice_rows:
            continue
        part = Predictions(
            mine.labels[mask], mine.scores[mask] if mine.scores is not None else None
        )
        label = f"{name}={value}"
        outcomes.append(
            _guarded(
                label,
                lambda part=part, mask=mask, label=label: _bounded(
                    label,
                    "metric",
                    _score(m.metric, y[mask], part),
                    m.min,
                    m.max,
                    f"{int(mask.sum()):,} rows",
                ),
            )
        )
    return outcomes


def _versus(
    name: str,
    m: MetricCheck,
    y: Any,
    mine: Predictions,
    theirs: Predictions,
    champion_uri: str | None,
) -> CheckOutcome:
    ours, champ = _score(m.metric, y, mine), _score(m.metric, y, theirs)
    diff = ours - champ
    parts = []
    ok = True
    if m.min_vs_champion is not None:
        ok &= diff >= m.min_vs_champion
        parts.append(f">= champion {m.min_vs_champion:+g}")
    if m.max_vs_champion is not None:
        ok &= diff <= m.max_vs_champion
        parts.append(f"<= champion {m.max_vs_champion:+g}")
    return CheckOutcome(
        name,
        "metric",
        CheckStatus.PASSED if ok else CheckStatus.FAILED,
        diff,
        ", ".join(parts),
        f"candidate {ours:.4f} vs champion {champion_uri} {champ:.4f} (difference {diff:+.4f})",
    )


def _guarded(name: str, compute: Callable[[], CheckOutcome]) -> CheckOutcome:
    try:
        return compute()
    except ValueError as exc:  # e.g. roc_auc on a slice with one class
        return CheckOutcome(name, "metric", CheckStatus.ERROR, None, "", str(exc).splitlines()[0])


def _bounded(
    name: str, kind: str, value: float, low: float | None, high: float | None, note: str
) -> CheckOutcome:
    """Bounds are inclusive: a value equal to ``min`` or ``max`` passes."""
    ok = (low is None or value >= low) and (high is None or value <= high)
    parts = [f">= {low:g}" if low is not None else "", f"<= {high:g}" if high is not None else ""]
    threshold = ", ".join(p for p in parts if p)
    message = f"{value:.4f}" + (f" ({note})" if note else "")
    if not ok:
        message += f"; expected {threshold}"
    status = CheckStatus.PASSED if ok else CheckStatus.FAILED
    return CheckOutcome(name, kind, status, float(value), threshold, message)


# -- behaviour ------------------------------------------------------------------------------


def _behaviour_name(b: Any) -> str:
    if isinstance(b, InvarianceCheck):
        return f"invariance of {b.column} ({b.perturb})"
    if isinstance(b, DirectionalCheck):
        return f"directional {b.column} {b.delta:+g} -> {b.expect}"
    return f"cases {b.path}"


def _behaviour(run: ModelRun, b: Any, index: int, sample: pd.DataFrame, task: str) -> CheckOutcome:
    name = _behaviour_name(b)
    suite = run.suite
    try:
        if isinstance(b, CasesCheck):
            return _cases(run, b, name, task)
        full = run.frame.loc[sample.index]
        before = predict(run.model, sample, task, suite.positive_label)
        changed = sample.copy()
        column = full[b.column]
        if isinstance(b, InvarianceCheck):
            if b.perturb == "shuffle":
                values = np.random.default_rng(index).permutation(column.to_numpy())
            else:
                values = np.full(len(column), b.value)
            if b.column in changed.columns:
                changed[b.column] = values
            after = predict(run.model, changed, task, suite.positive_label)
            if task == "regression":
                moved = np.abs(after.labels.astype(float) - before.labels.astype(float))
                flips = moved > b.tolerance
            else:
                flips = after.labels != before.labels
            share = float(flips.mean()) if len(flips) else 0.0
            return _bounded(
                name,
                "behaviour",
                share,
                None,
                b.max_changed,
                f"{int(flips.sum())} of {len(flips)} predictions changed",
            )
        if b.column in changed.columns:
            delta: float | int = b.delta
            if column.dtype.kind in "iu" and float(delta).is_integer():
                delta = int(delta)  # keep integer columns integer (the signature may insist)
            changed[b.column] = column + delta
        after = predict(run.model, changed, task, suite.positive_label)
        old, new = _values(before), _values(after)
        diff = new - old
        wrong = {
            "non_increasing": diff > _EPSILON,
            "non_decreasing": diff < -_EPSILON,
            "increasing": diff <= _EPSILON,
            "decreasing": diff >= -_EPSILON,
        }[b.expect]
        share = float(wrong.mean()) if len(wrong) else 0.0
        return _bounded(
            name,
            "behaviour",
            share,
            None,
            b.max_violations,
            f"{int(wrong.sum())} of {len(wrong)} rows moved the wrong way",
        )
    except ModelCrashed as exc:
        return _crashed(name, "behaviour", str(exc))


def _values(p: Predictions) -> np.ndarray:
    if p.scores is not None and p.scores.ndim == 1:
        return p.scores.astype(float)
    return p.labels.astype(float)


def _cases(run: ModelRun, b: CasesCheck, name: str, task: str) -> CheckOutcome:
    path = Path(b.path)
    if not path.is_absolute():
        path = Path(run.suite.base_dir) / path
    try:
        cases = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        return CheckOutcome(
            name, "behaviour", CheckStatus.ERROR, None, "", f"cannot read cases {path}: {exc}"
        )
    target = run.suite.target
    if target not in cases.columns:
        return CheckOutcome(
            name,
            "behaviour",
            CheckStatus.ERROR,
            None,
            "",
            f"{path} has no {target!r} column with the expected outputs",
        )
    got = predict(
        run.model, model_inputs(run.model, cases, run.suite), task, run.suite.positive_label
    )
    expected = cases[target].to_numpy()
    if task == "regression":
        ok = np.isclose(got.labels.astype(float), expected.astype(float))
    else:
        ok = got.labels.astype(str) == expected.astype(str)
    share = float(ok.mean()) if len(ok) else 1.0
    failing = [int(i) + 2 for i in np.flatnonzero(~ok)[:5]]  # CSV line numbers
    note = f"{int(ok.sum())} of {len(ok)} cases right"
    if failing:
        note += f"; wrong on lines {', '.join(map(str, failing))} of {path.name}"
    return _bounded(name, "behaviour", share, b.min_pass, None, note)


# -- operational ----------------------------------------------------------------------------


def _operational_name(o: Any) -> str:
    if isinstance(o, LatencyCheck):
        return f"latency p95 (batch {o.batch_size})"
    return "package size"


def _operational(run: ModelRun, o: Any, inputs: pd.DataFrame) -> CheckOutcome:
    name = _operational_name(o)
    if isinstance(o, PackageSizeCheck):
        if run.package_bytes is None:
            return CheckOutcome(
                name, "operational", CheckStatus.SKIPPED, None, "", "package size unknown"
            )
        size = run.package_bytes / _MB
        return _bounded(name, "operational", size, None, o.max_package_mb, "MB")
    batch = inputs.head(o.batch_size)
    try:
        run.model.predict(batch)  # warm-up: first calls pay for lazy imports and caches
        timings = np.empty(o.repeats)
        for i in range(o.repeats):
            started = time.perf_counter()
            run.model.predict(batch)
            timings[i] = (time.perf_counter() - started) * 1000
    except Exception as exc:  # reported as an ERROR outcome
        return _crashed(name, "operational", f"{type(exc).__name__}: {exc}".splitlines()[0])
    p95 = float(np.percentile(timings, 95))
    return _bounded(name, "operational", p95, None, o.latency_p95_ms, f"ms over {o.repeats} calls")
