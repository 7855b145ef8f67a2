"""Custom ``yard.PythonModel`` subclasses: class path + config as data + artifact files."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Any

import yaml

from modelyard.errors import InvalidState, InvalidValue
from modelyard.models._pymodel import ModelContext, PythonModel
from modelyard.models.flavors._base import LoadContext, SaveContext, Saved, class_path

NAME = "python"
PACKAGES = ("numpy", "pandas")
ARTIFACTS = "artifacts"


def handles(model: Any) -> bool:
    return isinstance(model, PythonModel)


def save(model: Any, ctx: SaveContext) -> Saved:
    cls = type(model)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        where = "a function" if "<locals>" in cls.__qualname__ else "the main script"
        raise InvalidValue(
            f"{cls.__qualname__} is defined in {where} and cannot be imported where the "
            "model is loaded; move it into a module "
            "(e.g. models.py next to your script) and import it from there",
            field="model",
        )
    config = model.get_config()
    try:
        yaml.safe_dump(config)
    except yaml.YAMLError as exc:
        raise InvalidValue(
            f"the config of {cls.__qualname__} ({sorted(config)}) must be plain data (numbers, "
            f"text, lists, dicts) to be saved without pickle: {exc}; keep larger state in "
            "artifact files",
            field="model",
        ) from exc
    artifacts: dict[str, str] = {}
    for name, source in dict(ctx.options.get("artifacts") or {}).items():
        path = Path(source)
        if not path.is_file():
            raise InvalidValue(f"artifact {name!r}: {path} is not a file", field="artifacts")
        target = ctx.folder / ARTIFACTS / name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        artifacts[name] = target.relative_to(ctx.folder).as_posix()
    methods = tuple(m for m in ("predict", "predict_proba") if callable(getattr(model, m, None)))
    return Saved(
        options={"class": class_path(cls), "config": config, "artifacts": artifacts},
        methods=methods,
    )


def load(ctx: LoadContext) -> Any:
    cls = _import_class(str(ctx.options.get("class", "")), ctx.label)
    model = cls(**dict(ctx.options.get("config") or {}))
    artifacts = {
        name: ctx.files.path(relative)
        for name, relative in dict(ctx.options.get("artifacts") or {}).items()
    }
    model.load_context(ModelContext(artifacts))
    return PythonPredictor(model)


def _import_class(path: str, label: str) -> type[PythonModel]:
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise InvalidValue(f"model {label} names no class to load ({path!r})", field="model")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidState(
            f"model {label} needs the class {path}, which cannot be imported here ({exc}); "
            "install or put on PYTHONPATH the code that defines it"
        ) from exc
    if not (isinstance(target, type) and issubclass(target, PythonModel)):
        raise InvalidValue(
            f"model {label} names {path}, which is not a yard.PythonModel subclass; refusing "
            "to load it",
            field="model",
        )
    return target


def wrap(model: Any) -> Any:
    return PythonPredictor(model)


class PythonPredictor:
    def __init__(self, model: PythonModel) -> None:
        self.raw = model
        if callable(getattr(model, "predict_proba", None)):
            self.predict_proba = model.predict_proba  # type: ignore[attr-defined]

    def predict(self, frame: Any) -> Any:
        return self.raw.predict(frame)
