"""XGBoost boosters and their scikit-learn wrappers, saved as XGBoost's native JSON."""

from __future__ import annotations

from typing import Any

from modelyard.errors import InvalidValue
from modelyard.models.flavors._base import LoadContext, SaveContext, Saved, mro_modules, require

NAME = "xgboost"
PACKAGES = ("xgboost", "numpy", "scipy", "pandas")
FILE = "model.json"
KINDS = (
    "Booster",
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
)


def handles(model: Any) -> bool:
    return any(m == "xgboost" or m.startswith("xgboost.") for m in mro_modules(model))


def save(model: Any, ctx: SaveContext) -> Saved:
    kind = type(model).__name__
    if kind not in KINDS:
        raise InvalidValue(
            f"cannot save a {kind}; the xgboost flavor saves {', '.join(KINDS)}", field="model"
        )
    model.save_model(str(ctx.folder / FILE))
    methods = ("predict", "predict_proba") if hasattr(model, "predict_proba") else ("predict",)
    return Saved(options={"file": FILE, "kind": kind}, methods=methods)


def load(ctx: LoadContext) -> Any:
    xgb = require("xgboost", ctx)
    kind = str(ctx.options.get("kind", "Booster"))
    if kind not in KINDS:
        raise InvalidValue(f"model {ctx.label} names an unknown XGBoost class {kind!r}")
    data = bytearray(ctx.files.read(str(ctx.options.get("file", FILE))))
    model = getattr(xgb, kind)()
    model.load_model(data)
    return XGBoostPredictor(model, xgb)


def wrap(model: Any) -> Any:
    import xgboost

    return XGBoostPredictor(model, xgboost)


class XGBoostPredictor:
    def __init__(self, model: Any, xgb: Any) -> None:
        self.raw = model
        self._xgb = xgb
        self._booster = isinstance(model, xgb.Booster)
        if hasattr(model, "predict_proba"):
            self.predict_proba = model.predict_proba

    def predict(self, frame: Any) -> Any:
        if self._booster:
            return self.raw.predict(self._xgb.DMatrix(frame))
        return self.raw.predict(frame)
