"""``yard.PythonModel``: custom predict code packaged like any other model, without pickle.

The package records the class by import path (``module:Class``) and its constructor
arguments as data (``get_config``, JSON/YAML-serialisable); files it needs travel as
artifacts. Loading imports the class from the code installed where it loads, never from
the package, and refuses anything that is not a PythonModel subclass.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelContext:
    """What ``load_context`` receives: the artifacts (name -> local file) of the package."""

    artifacts: Mapping[str, Path] = field(default_factory=dict)


class PythonModel:
    """Subclass and implement ``predict(frame)``; optionally ``predict_proba`` and
    ``load_context``. Constructor arguments are saved scikit-learn style: every parameter of
    ``__init__`` is read back from the attribute of the same name (override ``get_config``
    otherwise).

    Example::

        class Threshold(yard.PythonModel):
            def __init__(self, column: str = "score", cut: float = 0.5):
                self.column, self.cut = column, cut

            def predict(self, frame):
                return (frame[self.column] >= self.cut).astype(int)
    """

    def get_config(self) -> dict[str, Any]:
        params = inspect.signature(type(self).__init__).parameters
        return {
            name: getattr(self, name)
            for name, p in params.items()
            if name != "self"
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and hasattr(self, name)
        }

    def load_context(self, context: ModelContext) -> None:
        """Called once after loading, with the package's artifacts."""

    def predict(self, frame: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement predict(frame)")
