"""The check suite: typed, validated, loaded from YAML or built in Python.

Every problem names the offending key as a path (``model.metrics[1].min``) and, when the suite
came from a file, the line. ``Suite.digest`` identifies a suite by its normalised content, so
two files that say the same thing have the same digest.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelyard.blobs.hashing import hash_bytes
from modelyard.checks._metrics import FAIRNESS_METRICS, METRICS, task_of
from modelyard.errors import InvalidValue

DIRECTIONS = ("non_increasing", "non_decreasing", "increasing", "decreasing")
PERTURBATIONS = ("shuffle", "constant")


class SuiteError(InvalidValue):
    """A suite that does not validate: ``field`` is the key path, ``line`` its line (1-based)."""

    code = "invalid_suite"

    def __init__(self, message: str, *, field: str, line: int | None = None) -> None:
        where = f"{field} (line {line})" if line else field
        super().__init__(f"{where}: {message}", field=field)
        self.line = line
        self.reason = message


# -- the suite as typed records -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataSpec:
    """Data checks: ``schema_reference`` is ``training`` (the data the model was trained on)
    or a dataset version such as ``churn@5``."""

    schema_reference: str | None = None
    range_tolerance: float = 0.1  # fraction of the reference range a value may exceed it by
    max_null_fraction: float | None = None
    min_rows: int | None = None


@dataclass(frozen=True, slots=True)
class MetricCheck:
    metric: str
    min: float | None = None
    max: float | None = None
    min_vs_champion: float | None = None  # candidate - champion >= this
    max_vs_champion: float | None = None  # candidate - champion <= this
    slice_by: str | None = None
    min_slice_rows: int = 1


@dataclass(frozen=True, slots=True)
class FairnessCheck:
    sensitive: str
    metric: str
    max: float | None = None
    min: float | None = None


@dataclass(frozen=True, slots=True)
class InvarianceCheck:
    column: str
    perturb: str = "shuffle"
    value: Any = None  # for perturb: constant
    max_changed: float = 0.0  # fraction of rows whose prediction may change
    tolerance: float = 1e-9  # regression: a change smaller than this is no change


@dataclass(frozen=True, slots=True)
class DirectionalCheck:
    column: str
    delta: float
    expect: str
    max_violations: float = 0.0  # fraction of rows that may move the wrong way


@dataclass(frozen=True, slots=True)
class CasesCheck:
    path: str  # CSV of inputs with the expected output in the target column
    min_pass: float = 1.0


@dataclass(frozen=True, slots=True)
class LatencyCheck:
    latency_p95_ms: float
    batch_size: int = 1
    repeats: int = 50


@dataclass(frozen=True, slots=True)
class PackageSizeCheck:
    max_package_mb: float


BehaviourCheck = InvarianceCheck | DirectionalCheck | CasesCheck
OperationalCheck = LatencyCheck | PackageSizeCheck


@dataclass(frozen=True, slots=True)
class Suite:
    target: str | None = None
    task: str | None = None  # classification | regression; inferred from the metrics
    data: DataSpec | None = None
    metrics: tuple[MetricCheck, ...] = ()
    fairness: tuple[FairnessCheck, ...] = ()
    behaviour: tuple[BehaviourCheck, ...] = ()
    operational: tuple[OperationalCheck, ...] = ()
    compare_to: str = "champion"  # the alias (or version number) to compare with
    positive_label: Any = 1
    threshold: float = 0.5  # probability cut for binary labels when only scores exist
    behaviour_sample: int = 2000  # rows used by invariance/directional tests
    base_dir: str = field(default=".", compare=False)  # where relative case files live
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def digest(self) -> str:
        payload = asdict(self)
        payload.pop("base_dir")
        payload.pop("lines")
        text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
        return hash_bytes(text.encode())

    @property
    def needs_model(self) -> bool:
        return bool(self.metrics or self.fairness or self.behaviour or self.operational)

    @property
    def needs_champion(self) -> bool:
        return any(
            m.min_vs_champion is not None or m.max_vs_champion is not None for m in self.metrics
        )

    @property
    def columns(self) -> set[str]:
        """Columns the checks read from the evaluation data (never given to the model)."""
        found = {self.target} if self.target else set()
        found |= {m.slice_by for m in self.metrics if m.slice_by}
        found |= {f.sensitive for f in self.fairness}
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: str = ".") -> Suite:
        return _parse(data, _Lines(), base_dir)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<suite>", base_dir: str = ".") -> Suite:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise SuiteError(
                f"{source} is not valid YAML: {getattr(exc, 'problem', exc)}",
                field="suite",
                line=line,
            ) from exc
        return _parse(data, _Lines.of(node), base_dir)


def column_error(suite: Suite, path: str, message: str) -> SuiteError:
    """A suite error found while running (e.g. a column missing from the data), with the
    line of ``path`` when the suite came from a file."""
    return _Lines(dict(suite.lines)).error(path, message)


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; errors name the key and line."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SuiteError(
            f"cannot read suite file {path}: {exc.strerror}; pass --suite with a YAML file",
            field="suite",
        ) from exc
    return Suite.from_yaml(text, source=str(path), base_dir=str(path.parent))


# -- parsing with key paths and lines -------------------------------------------------------


class _Lines:
    """Key path -> line, from the YAML node tree."""

    def __init__(self, lines: dict[str, int] | None = None) -> None:
        self.lines = lines or {}

    @classmethod
    def of(cls, node: yaml.Node | None) -> _Lines:
        lines: dict[str, int] = {}

        def walk(n: yaml.Node, path: str) -> None:
            lines.setdefault(path, n.start_mark.line + 1)
            if isinstance(n, yaml.MappingNode):
                for key, value in n.value:
                    sub = f"{path}.{key.value}" if path else str(key.value)
                    lines[sub] = key.start_mark.line + 1
                    walk(value, sub)
            elif isinstance(n, yaml.SequenceNode):
                for i, item in enumerate(n.value):
                    sub = f"{path}[{i}]"
                    lines[sub] = item.start_mark.line + 1
                    walk(item, sub)

        if node is not None:
            walk(node, "")
        return cls(lines)

    def error(self, path: str, message: str) -> SuiteError:
        probe = path
        while probe and probe not in self.lines:
            probe = probe.rpartition(".")[0] if "." in probe else probe.rpartition("[")[0]
        return SuiteError(message, field=path or "suite", line=self.lines.get(probe))


_TOP_KEYS = (
    "target",
    "task",
    "data",
    "model",
    "compare_to",
    "positive_label",
    "threshold",
    "behaviour_sample",
)
_DATA_KEYS = ("schema", "max_null_fraction", "min_rows")
_MODEL_KEYS = ("metrics", "fairness", "behaviour", "operational")


def _parse(data: Any, lines: _Lines, base_dir: str) -> Suite:
    if data is None:
        data = {}
    mapping = _mapping(data, "", lines, _TOP_KEYS)
    try:
        data_spec = _data_spec(mapping.get("data"), lines)
        model = _mapping(mapping.get("model") or {}, "model", lines, _MODEL_KEYS)
        metrics = tuple(
            _record(MetricCheck, item, f"model.metrics[{i}]", lines)
            for i, item in enumerate(_list(model.get("metrics"), "model.metrics", lines))
        )
        fairness = tuple(
            _record(FairnessCheck, item, f"model.fairness[{i}]", lines)
            for i, item in enumerate(_list(model.get("fairness"), "model.fairness", lines))
        )
        behaviour = tuple(
            _behaviour(item, f"model.behaviour[{i}]", lines)
            for i, item in enumerate(_list(model.get("behaviour"), "model.behaviour", lines))
        )
        operational = tuple(
            _operational(item, f"model.operational[{i}]", lines)
            for i, item in enumerate(_list(model.get("operational"), "model.operational", lines))
        )
        options = {
            k: mapping[k]
            for k in ("target", "task", "compare_to", "positive_label", "threshold")
            if k in mapping
        }
        for key, kind in (("target", str), ("task", str), ("threshold", float)):
            if key in options:
                options[key] = _typed(options[key], kind, key, lines)
        if "compare_to" in options:
            options["compare_to"] = str(options["compare_to"])
        if "behaviour_sample" in mapping:
            options["behaviour_sample"] = _typed(
                mapping["behaviour_sample"], int, "behaviour_sample", lines
            )
        return Suite(
            data=data_spec,
            metrics=metrics,
            fairness=fairness,
            behaviour=behaviour,
            operational=operational,
            base_dir=base_dir,
            lines=lines.lines,
            **options,
        )
    except SuiteError as exc:  # semantic errors: add the line the key is on
        if exc.line is not None:
            raise
        raise lines.error(exc.field or "suite", exc.reason) from None


def _mapping(value: Any, path: str, lines: _Lines, allowed: Sequence[str]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise lines.error(path, f"expected a mapping of {', '.join(allowed)}, got {_kind(value)}")
    for key in value:
        if key not in allowed:
            sub = f"{path}.{key}" if path else str(key)
            raise lines.error(sub, f"unknown key {key!r}{_suggest(str(key), allowed)}")
    return dict(value)


def _list(value: Any, path: str, lines: _Lines) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise lines.error(path, f"expected a list of checks, got {_kind(value)}")
    return value


def _typed(value: Any, kind: type, path: str, lines: _Lines) -> Any:
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise lines.error(path, f"expected a number, got {_kind(value)} {value!r}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise lines.error(path, f"expected a whole number, got {_kind(value)} {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str) or not value:
            raise lines.error(path, f"expected a non-empty text, got {_kind(value)} {value!r}")
        return value
    return value


_FIELD_TYPES: dict[type, dict[str, type]] = {
    MetricCheck: {
        "metric": str,
        "min": float,
        "max": float,
        "min_vs_champion": float,
        "max_vs_champion": float,
        "slice_by": str,
        "min_slice_rows": int,
    },
    FairnessCheck: {"sensitive": str, "metric": str, "max": float, "min": float},
    InvarianceCheck: {
        "column": str,
        "perturb": str,
        "value": object,
        "max_changed": float,
        "tolerance": float,
    },
    DirectionalCheck: {"column": str, "delta": float, "expect": str, "max_violations": float},
    CasesCheck: {"path": str, "min_pass": float},
    LatencyCheck: {"latency_p95_ms": float, "batch_size": int, "repeats": int},
    PackageSizeCheck: {"max_package_mb": float},
}
_REQUIRED: dict[type, tuple[str, ...]] = {
    MetricCheck: ("metric",),
    FairnessCheck: ("sensitive", "metric"),
    InvarianceCheck: ("column",),
    DirectionalCheck: ("column", "delta", "expect"),
    CasesCheck: ("path",),
    LatencyCheck: ("latency_p95_ms",),
    PackageSizeCheck: ("max_package_mb",),
}


def _record(cls: type, value: Any, path: str, lines: _Lines) -> Any:
    types = _FIELD_TYPES[cls]
    mapping = _mapping(value, path, lines, tuple(types))
    for key in _REQUIRED[cls]:
        if key not in mapping:
            raise lines.error(path, f"missing required key {key!r}")
    checked = {k: _typed(v, types[k], f"{path}.{k}", lines) for k, v in mapping.items()}
    return cls(**checked)


def _data_spec(value: Any, lines: _Lines) -> DataSpec | None:
    if value is None:
        return None
    mapping = _mapping(value, "data", lines, _DATA_KEYS)
    options: dict[str, Any] = {}
    if "schema" in mapping:
        schema = _mapping(mapping["schema"], "data.schema", lines, ("reference", "range_tolerance"))
        if "reference" not in schema:
            raise lines.error("data.schema", "missing required key 'reference' (e.g. training)")
        options["schema_reference"] = _typed(
            str(schema["reference"]), str, "data.schema.reference", lines
        )
        if "range_tolerance" in schema:
            options["range_tolerance"] = _typed(
                schema["range_tolerance"], float, "data.schema.range_tolerance", lines
            )
    if "max_null_fraction" in mapping:
        options["max_null_fraction"] = _typed(
            mapping["max_null_fraction"], float, "data.max_null_fraction", lines
        )
    if "min_rows" in mapping:
        options["min_rows"] = _typed(mapping["min_rows"], int, "data.min_rows", lines)
    return DataSpec(**options)


def _behaviour(value: Any, path: str, lines: _Lines) -> BehaviourCheck:
    if not isinstance(value, Mapping):
        raise lines.error(path, f"expected a mapping, got {_kind(value)}")
    kinds = [k for k in ("invariance", "directional", "cases") if k in value]
    if len(kinds) != 1:
        raise lines.error(
            path,
            "a behaviour check has exactly one of invariance, directional, cases; "
            f"got {', '.join(kinds) or 'none'}",
        )
    kind = kinds[0]
    rest = {k: v for k, v in value.items() if k != kind}
    spec = value[kind]
    if kind == "cases":
        body = {"path": spec, **rest} if isinstance(spec, str) else spec
        return _record(CasesCheck, body, f"{path}.cases", lines)
    if not isinstance(spec, Mapping):
        raise lines.error(f"{path}.{kind}", f"expected a mapping, got {_kind(spec)}")
    cls = InvarianceCheck if kind == "invariance" else DirectionalCheck
    for key in rest:
        if key in spec:
            raise lines.error(f"{path}.{key}", f"{key!r} is given twice")
    return _record(cls, {**spec, **rest}, path, lines)


def _operational(value: Any, path: str, lines: _Lines) -> OperationalCheck:
    if isinstance(value, Mapping) and "latency_p95_ms" in value:
        return _record(LatencyCheck, value, path, lines)
    if isinstance(value, Mapping) and "max_package_mb" in value:
        return _record(PackageSizeCheck, value, path, lines)
    raise lines.error(
        path, "an operational check has latency_p95_ms (with batch_size) or max_package_mb"
    )


# -- semantic validation (runs for suites built in Python too) -----------------------------


def _validate(suite: Suite) -> None:
    lines = _Lines()
    if suite.task is not None and suite.task not in ("classification", "regression"):
        raise lines.error("task", f"unknown task {suite.task!r}; use classification or regression")
    tasks = {suite.task} if suite.task else set()
    for i, m in enumerate(suite.metrics):
        path = f"model.metrics[{i}]"
        if m.metric not in METRICS:
            raise lines.error(
                f"{path}.metric",
                f"unknown metric {m.metric!r}{_suggest(m.metric, METRICS)}; "
                f"known: {', '.join(sorted(METRICS))}",
            )
        if all(b is None for b in (m.min, m.max, m.min_vs_champion, m.max_vs_champion)):
            raise lines.error(
                path, "give at least one bound: min, max, min_vs_champion or max_vs_champion"
            )
        if m.slice_by and (m.min_vs_champion is not None or m.max_vs_champion is not None):
            raise lines.error(
                f"{path}.slice_by", "comparison with the champion is not sliced; drop slice_by"
            )
        metric_task = task_of(m.metric)
        if suite.task and metric_task != suite.task:
            raise lines.error(
                f"{path}.metric",
                f"{m.metric!r} is a {metric_task} metric but the suite's task is {suite.task}",
            )
        tasks.add(metric_task)
    for i, f in enumerate(suite.fairness):
        path = f"model.fairness[{i}]"
        if f.metric not in FAIRNESS_METRICS:
            raise lines.error(
                f"{path}.metric",
                f"unknown fairness metric {f.metric!r}{_suggest(f.metric, FAIRNESS_METRICS)}; "
                f"known: {', '.join(sorted(FAIRNESS_METRICS))}",
            )
        if f.max is None and f.min is None:
            raise lines.error(path, "give a bound: max (or min for ratios)")
        tasks.add("classification")
    if len(tasks) > 1:
        raise lines.error(
            "model.metrics",
            "the suite mixes classification and regression metrics; use one task per suite",
        )
    for i, b in enumerate(suite.behaviour):
        path = f"model.behaviour[{i}]"
        if isinstance(b, InvarianceCheck):
            if b.perturb not in PERTURBATIONS:
                raise lines.error(
                    f"{path}.perturb",
                    f"unknown perturbation {b.perturb!r}; use one of {', '.join(PERTURBATIONS)}",
                )
            if b.perturb == "constant" and b.value is None:
                raise lines.error(f"{path}.value", "perturb: constant needs a value")
            _fraction(b.max_changed, f"{path}.max_changed", lines)
        elif isinstance(b, DirectionalCheck):
            if b.expect not in DIRECTIONS:
                raise lines.error(
                    f"{path}.expect",
                    f"unknown expectation {b.expect!r}{_suggest(b.expect, DIRECTIONS)}; "
                    f"use one of {', '.join(DIRECTIONS)}",
                )
            _fraction(b.max_violations, f"{path}.max_violations", lines)
        else:
            _fraction(b.min_pass, f"{path}.cases.min_pass", lines)
    for i, o in enumerate(suite.operational):
        path = f"model.operational[{i}]"
        if isinstance(o, LatencyCheck) and (o.batch_size < 1 or o.repeats < 1):
            raise lines.error(path, "batch_size and repeats must be at least 1")
    if suite.data and suite.data.max_null_fraction is not None:
        _fraction(suite.data.max_null_fraction, "data.max_null_fraction", lines)
    if (suite.metrics or suite.fairness or _needs_target(suite)) and not suite.target:
        raise lines.error("target", "missing 'target': the label column of the evaluation data")
    if suite.behaviour_sample < 1:
        raise lines.error("behaviour_sample", "must be at least 1")


def _needs_target(suite: Suite) -> bool:
    return any(isinstance(b, CasesCheck) for b in suite.behaviour)


def _fraction(value: float, path: str, lines: _Lines) -> None:
    if not 0.0 <= value <= 1.0:
        raise lines.error(path, f"is a fraction between 0 and 1, got {value}")


def _suggest(word: str, choices: Sequence[str] | Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )
