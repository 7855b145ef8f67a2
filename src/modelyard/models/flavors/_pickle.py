"""Any Python object, pickled. Only on request (``flavor="pickle"``), and loading it needs
``trusted=True``: unpickling runs code chosen by whoever wrote the file."""

from __future__ import annotations

import pickle
from typing import Any

from modelyard.errors import InvalidState
from modelyard.models.flavors._base import LoadContext, SaveContext, Saved

NAME = "pickle"
PACKAGES = ("numpy", "pandas")
FILE = "model.pkl"


def handles(model: Any) -> bool:
    return False  # never chosen automatically


def save(model: Any, ctx: SaveContext) -> Saved:
    with open(ctx.folder / FILE, "wb") as f:
        pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
    methods = tuple(m for m in ("predict", "predict_proba") if callable(getattr(model, m, None)))
    module = type(model).__module__.split(".")[0]
    return Saved(options={"file": FILE}, methods=methods, packages=(module,))


def load(ctx: LoadContext) -> Any:
    if not ctx.trusted:
        raise InvalidState(
            f"model {ctx.label} is a pickle: loading it runs whatever code its author put "
            "in it. Load it only if you trust who saved it, with trusted=True "
            "(or `--trusted` on the command line)"
        )
    data = ctx.files.read(str(ctx.options.get("file", FILE)))
    model = pickle.loads(data)
    return PicklePredictor(model)


def wrap(model: Any) -> Any:
    return PicklePredictor(model)


class PicklePredictor:
    def __init__(self, model: Any) -> None:
        self.raw = model
        if callable(getattr(model, "predict_proba", None)):
            self.predict_proba = model.predict_proba

    def predict(self, frame: Any) -> Any:
        return self.raw.predict(frame)
