"""``Model``: what ``load_model`` returns, the same for every flavor.

``predict(data)`` takes a pandas DataFrame (or a dict, list of row dicts, 2-D array),
checks it against the signature, and hands the model exactly its columns in its order.
``predict_proba`` exists when the underlying model has it.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelyard.domain.models import ModelVersion
from modelyard.errors import InvalidValue
from modelyard.models._package import Descriptor, PackageFiles
from modelyard.models._signature import EXTRA_MODES, Signature, as_frame

if TYPE_CHECKING:
    import pandas as pd


class Model:
    def __init__(
        self,
        files: PackageFiles,
        predictor: Any,
        *,
        uri: str,
        version: ModelVersion | None = None,
        extra_columns: str = "drop",
    ) -> None:
        if extra_columns not in EXTRA_MODES:
            raise InvalidValue(
                f"extra_columns={extra_columns!r} is not a mode; use one of "
                f"{', '.join(EXTRA_MODES)}",
                field="extra_columns",
            )
        self._files = files
        self._predictor = predictor
        self.uri = uri
        self.version = version
        self.extra_columns = extra_columns
        self.descriptor: Descriptor = files.descriptor
        weakref.finalize(self, files.cleanup)

    def __repr__(self) -> str:
        return f"Model(uri={self.uri!r}, flavor={self.flavor!r})"

    @property
    def flavor(self) -> str:
        return self.descriptor.flavor

    @property
    def signature(self) -> Signature | None:
        return self.descriptor.signature

    @property
    def requirements(self) -> tuple[str, ...]:
        return self.descriptor.requirements

    @property
    def metadata(self) -> Mapping[str, Any]:
        """Who created the package, when, from which run."""
        return self.descriptor.created

    @property
    def raw(self) -> Any:
        """The underlying model object (estimator, booster, session, module)."""
        return getattr(self._predictor, "raw", self._predictor)

    @property
    def classes(self) -> Any:
        """Class labels of a classifier that knows them (``classes_``), else None."""
        return getattr(self._predictor, "classes_", None)

    @property
    def input_example(self) -> pd.DataFrame | None:
        name = self.descriptor.input_example
        if not name:
            return None
        import pandas as pd

        frame = pd.read_json(io.StringIO(self._files.read(name).decode()), orient="split")
        return self._prepare(frame) if self.signature else frame

    def _prepare(self, data: Any) -> pd.DataFrame:
        signature = self.signature
        frame = as_frame(data, signature.input_names if signature else None)
        if signature is None:
            return frame
        return signature.enforce(frame, extra=self.extra_columns)

    def predict(self, data: Any) -> Any:
        """Predictions for ``data`` (checked against the signature first)."""
        return self._predictor.predict(self._prepare(data))

    def __getattr__(self, name: str) -> Any:
        if name == "predict_proba":
            method = getattr(self._predictor, "predict_proba", None)
            if method is not None:
                return lambda data: method(self._prepare(data))
            raise AttributeError(f"this {self.flavor} model has no predict_proba; use predict")
        raise AttributeError(name)
