"""LightGBM boosters and their scikit-learn wrappers, saved as LightGBM's native text.

A wrapper is loaded as its booster plus the class labels, predicting exactly what the
wrapper predicted: ``predict_proba`` from the booster, ``predict`` as the most probable class.
"""

from __future__ import annotations

from typing import Any

from modelyard.errors import InvalidValue
from modelyard.models.flavors._base import LoadContext, SaveContext, Saved, mro_modules, require

NAME = "lightgbm"
PACKAGES = ("lightgbm", "numpy", "scipy", "pandas")
FILE = "model.txt"
KINDS = ("Booster", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")


def handles(model: Any) -> bool:
    return any(m == "lightgbm" or m.startswith("lightgbm.") for m in mro_modules(model))


def save(model: Any, ctx: SaveContext) -> Saved:
    kind = type(model).__name__
    if kind not in KINDS:
        raise InvalidValue(
            f"cannot save a {kind}; the lightgbm flavor saves {', '.join(KINDS)}", field="model"
        )
    booster = model if kind == "Booster" else model.booster_
    (ctx.folder / FILE).write_text(booster.model_to_string())
    options: dict[str, Any] = {"file": FILE, "kind": kind}
    methods: tuple[str, ...] = ("predict",)
    if kind == "LGBMClassifier":
        options["classes"] = [_plain(c) for c in model.classes_]
        methods = ("predict", "predict_proba")
    return Saved(options=options, methods=methods)


def load(ctx: LoadContext) -> Any:
    lgb = require("lightgbm", ctx)
    kind = str(ctx.options.get("kind", "Booster"))
    if kind not in KINDS:
        raise InvalidValue(f"model {ctx.label} names an unknown LightGBM class {kind!r}")
    text = ctx.files.read(str(ctx.options.get("file", FILE))).decode()
    booster = lgb.Booster(model_str=text)
    if kind == "LGBMClassifier":
        return LightGBMClassifier(booster, ctx.options.get("classes") or [0, 1])
    return LightGBMPredictor(booster)


def wrap(model: Any) -> Any:
    return model if type(model).__name__ != "Booster" else LightGBMPredictor(model)


class LightGBMPredictor:
    def __init__(self, booster: Any) -> None:
        self.raw = booster

    def predict(self, frame: Any) -> Any:
        return self.raw.predict(frame)


class LightGBMClassifier:
    def __init__(self, booster: Any, classes: list[Any]) -> None:
        import numpy as np

        self.raw = booster
        self.classes_ = np.asarray(classes)

    def predict_proba(self, frame: Any) -> Any:
        import numpy as np

        scores = self.raw.predict(frame)
        if scores.ndim == 1:
            return np.column_stack([1.0 - scores, scores])
        return scores

    def predict(self, frame: Any) -> Any:
        return self.classes_[self.predict_proba(frame).argmax(axis=1)]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
