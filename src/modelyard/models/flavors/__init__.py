"""Flavors: how each kind of model is saved and loaded, registered by name, imported lazily.

A flavor is a module with:

- ``NAME`` and ``PACKAGES`` (the distributions pinned in MODEL.yaml's requirements);
- ``handles(model) -> bool``, deciding from the class (without importing heavy libraries);
- ``save(model, ctx: SaveContext) -> Saved``: writes files into ``ctx.folder``;
- ``load(ctx: LoadContext) -> predictor``: an object with ``predict(DataFrame)`` (and
  ``predict_proba`` when the model has it) and the underlying model as ``raw``.

Adding a flavor is one module and one line in ``FLAVORS``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from modelyard.errors import InvalidValue
from modelyard.models.flavors._base import LoadContext, SaveContext, Saved, require

FLAVORS: dict[str, str] = {
    "python": "modelyard.models.flavors._python",
    "xgboost": "modelyard.models.flavors._xgboost",
    "lightgbm": "modelyard.models.flavors._lightgbm",
    "onnx": "modelyard.models.flavors._onnx",
    "torch": "modelyard.models.flavors._torch",
    "sklearn": "modelyard.models.flavors._sklearn",
    "pickle": "modelyard.models.flavors._pickle",
}
"""Name -> module. Detection tries them in this order (specific libraries before scikit-learn,
whose estimator base class XGBoost and LightGBM share); ``pickle`` is only used when asked."""


def get_flavor(name: str) -> ModuleType:
    module = FLAVORS.get(name)
    if module is None:
        raise InvalidValue(
            f"unknown model flavor {name!r}; known flavors: {', '.join(sorted(FLAVORS))}",
            field="flavor",
        )
    return importlib.import_module(module)


def detect_flavor(model: Any) -> ModuleType:
    """The flavor that saves ``model`` without pickle, or InvalidValue naming the choices."""
    for name in FLAVORS:
        if name == "pickle":
            continue
        flavor = get_flavor(name)
        if flavor.handles(model):
            return flavor
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    raise InvalidValue(
        f"no flavor knows how to save a {kind} safely; supported: scikit-learn, XGBoost, "
        "LightGBM, ONNX, PyTorch and yard.PythonModel subclasses. Wrap custom code in a "
        "yard.PythonModel, or pass flavor='pickle' (loading it will then need trusted=True)",
        field="model",
    )


__all__ = [
    "FLAVORS",
    "LoadContext",
    "SaveContext",
    "Saved",
    "detect_flavor",
    "get_flavor",
    "require",
]
