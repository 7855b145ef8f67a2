"""What every flavor shares: the save/load contexts and the dependency check."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from modelyard.errors import InvalidState
from modelyard.models._package import PackageFiles

EXTRAS = {
    "sklearn": "sklearn",
    "skops": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "onnxruntime": "onnx",
    "onnx": "onnx",
    "skl2onnx": "onnx",
    "torch": "torch",
}


@dataclass(frozen=True, slots=True)
class SaveContext:
    folder: Path
    options: Mapping[str, Any] = field(default_factory=dict)  # flavor-specific log_model options


@dataclass(frozen=True, slots=True)
class Saved:
    options: Mapping[str, Any]  # recorded in MODEL.yaml, handed back to load()
    methods: tuple[str, ...] = ("predict",)
    packages: tuple[str, ...] = ()  # extra distributions to pin, beyond the flavor's PACKAGES


@dataclass(frozen=True, slots=True)
class LoadContext:
    files: PackageFiles
    options: Mapping[str, Any]
    trusted: bool = False

    @property
    def label(self) -> str:
        return self.files.label

    def recorded_version(self, distribution: str) -> str | None:
        prefix = distribution.lower() + "=="
        for pin in self.files.descriptor.requirements:
            if pin.lower().startswith(prefix):
                return pin.split("==", 1)[1]
        return None


def require(module: str, ctx: LoadContext, distribution: str | None = None) -> ModuleType:
    """Import ``module`` for loading a model, or say which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        dist = distribution or module
        version = ctx.recorded_version(dist)
        pin = f"{dist}=={version}" if version else dist
        extra = EXTRAS.get(dist)
        hint = f"pip install '{pin}'" + (f" (or pip install 'modelyard[{extra}]')" if extra else "")
        raise InvalidState(
            f"model {ctx.label} is a {ctx.files.descriptor.flavor} model and needs the "
            f"package {dist!r}, which is not installed here ({exc}); install it: {hint}"
        ) from exc


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def mro_modules(model: Any) -> list[str]:
    return [c.__module__ or "" for c in type(model).__mro__]
