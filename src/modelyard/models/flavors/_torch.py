"""PyTorch modules: the state dict (loaded with ``weights_only=True``, never unpickling code)
plus the module's class path and constructor config, like ``yard.PythonModel``.

``log_model(module, model_config={...})`` gives the constructor arguments; without it they
are read scikit-learn style from attributes named like ``__init__``'s parameters. Loading
imports the class from installed code and refuses anything that is not a ``torch.nn.Module``.
``predict(frame)`` feeds the frame as one float32 tensor and returns a NumPy array.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import yaml

from modelyard.errors import InvalidState, InvalidValue
from modelyard.models.flavors._base import (
    LoadContext,
    SaveContext,
    Saved,
    class_path,
    mro_modules,
    require,
)

NAME = "torch"
PACKAGES = ("torch", "numpy", "pandas")
FILE = "state_dict.pt"


def handles(model: Any) -> bool:
    return any(m.startswith("torch.nn") for m in mro_modules(model))


def save(model: Any, ctx: SaveContext) -> Saved:
    import torch

    cls = type(model)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise InvalidValue(
            f"{cls.__qualname__} must be defined in an importable module to be loaded "
            "elsewhere; move it out of the main script or function",
            field="model",
        )
    config = ctx.options.get("model_config")
    if config is None:
        params = inspect.signature(cls.__init__).parameters
        config = {
            n: getattr(model, n)
            for n, p in params.items()
            if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and hasattr(model, n)
        }
    yaml.safe_dump(dict(config))
    torch.save(model.state_dict(), ctx.folder / FILE)
    return Saved(options={"file": FILE, "class": class_path(cls), "config": dict(config)})


def load(ctx: LoadContext) -> Any:
    import io

    torch = require("torch", ctx)
    module_name, _, qualname = str(ctx.options.get("class", "")).partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InvalidState(
            f"model {ctx.label} needs the class {module_name}:{qualname}, which cannot be "
            f"imported here ({exc})"
        ) from exc
    if not (isinstance(target, type) and issubclass(target, torch.nn.Module)):
        raise InvalidValue(f"model {ctx.label} names {target!r}, not a torch.nn.Module")
    module = target(**dict(ctx.options.get("config") or {}))
    data = ctx.files.read(str(ctx.options.get("file", FILE)))
    state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    module.load_state_dict(state)
    module.eval()
    return TorchPredictor(module, torch)


def wrap(model: Any) -> Any:
    import torch

    return TorchPredictor(model, torch)


class TorchPredictor:
    def __init__(self, module: Any, torch: Any) -> None:
        self.raw = module
        self._torch = torch

    def predict(self, frame: Any) -> Any:
        tensor = self._torch.tensor(frame.to_numpy(dtype="float32"))  # a copy: frames are read-only
        with self._torch.no_grad():
            return self.raw(tensor).numpy()
