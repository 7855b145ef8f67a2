"""Model signatures: the columns a model takes (name, type, shape, required) and what it returns.

``Signature.enforce(frame)`` checks a pandas DataFrame against the inputs and returns the
columns the model expects, in its order. Every problem is collected and reported at once.
Safe casts are applied (integers to floats, narrower to wider integers and floats); anything
else that does not match is an error. Columns the signature does not name are dropped
(``extra="drop"``, the default) or refused (``extra="error"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidValue

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

EXTRA_MODES = ("drop", "error")
_INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
_UINT_BITS = {"uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}
_FLOAT_BITS = {"float16": 16, "float32": 32, "float64": 64}
KNOWN_TYPES = (
    "bool",
    *_INT_BITS,
    *_UINT_BITS,
    *_FLOAT_BITS,
    "string",
    "datetime",
    "category",
    "object",
)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One input or output column. ``shape`` is set for array-valued cells (tensors)."""

    name: str
    type: str
    required: bool = True
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type}
        if not self.required:
            data["required"] = False
        if self.shape is not None:
            data["shape"] = list(self.shape)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        shape = data.get("shape")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            required=bool(data.get("required", True)),
            shape=tuple(int(s) for s in shape) if shape is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Signature:
    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        return cls(
            inputs=tuple(ColumnSpec.from_dict(c) for c in data.get("inputs") or ()),
            outputs=tuple(ColumnSpec.from_dict(c) for c in data.get("outputs") or ()),
        )

    def enforce(self, frame: pd.DataFrame, *, extra: str = "drop") -> pd.DataFrame:
        """The signature's columns of ``frame``, in order, safely cast; InvalidValue listing
        every problem otherwise."""
        import pandas as pd

        if extra not in EXTRA_MODES:
            raise InvalidValue(
                f"extra={extra!r} is not a mode; use one of {', '.join(EXTRA_MODES)}",
                field="extra",
            )
        problems: list[str] = []
        columns: dict[str, Any] = {}
        present = set(frame.columns)
        for spec in self.inputs:
            if spec.name not in present:
                if spec.required:
                    problems.append(f"missing required column {spec.name!r} ({spec.type})")
                else:
                    columns[spec.name] = pd.Series([None] * len(frame), index=frame.index)
                continue
            column = frame[spec.name]
            cast, problem = _conform(column, spec)
            if problem:
                problems.append(problem)
            else:
                columns[spec.name] = cast
        extras = [str(c) for c in frame.columns if c not in {s.name for s in self.inputs}]
        if extras and extra == "error":
            problems.append(f"unexpected column(s) {', '.join(map(repr, extras))}")
        if problems:
            expected = ", ".join(f"{s.name}: {s.type}" for s in self.inputs)
            raise InvalidValue(
                f"input does not match the model's signature ({len(problems)} problem"
                f"{'s' if len(problems) > 1 else ''}): "
                + "; ".join(problems)
                + f". Expected columns: {expected}",
                field="input",
            )
        if (
            not extras
            and all(columns[n] is frame[n] for n in columns)
            and list(frame.columns) == list(columns)
        ):
            return frame
        return pd.DataFrame(columns, index=frame.index)


def type_of(values: Any) -> str:
    """The signature type name of a pandas Series or NumPy array."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return str(np.dtype(getattr(dtype, "numpy_dtype", dtype)))
    if pd.api.types.is_string_dtype(dtype):
        if dtype.kind == "O" and not all(
            isinstance(v, str) for v in values if v is not None and v == v
        ):
            return "object"
        return "string"
    return "object"


def infer_signature(inputs: Any, outputs: Any = None) -> Signature:
    """A signature from an input example (DataFrame, dict, array) and, optionally, outputs."""
    frame = as_frame(inputs)
    specs = [
        ColumnSpec(str(name), type_of(frame[name]), shape=_cell_shape(frame[name]))
        for name in frame.columns
    ]
    return Signature(tuple(specs), _output_specs(outputs) if outputs is not None else ())


def as_frame(data: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Accept a DataFrame, a dict (of columns or of one row's values), a list of row dicts,
    or a 2-D array (its columns take ``columns`` when the widths match)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        if all(np.ndim(v) == 0 for v in data.values()):
            return pd.DataFrame({k: [v] for k, v in data.items()})
        return pd.DataFrame(dict(data))
    if isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        return pd.DataFrame(data)
    array = np.asarray(data)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise InvalidValue(
            f"cannot use a {array.ndim}-dimensional array as model input; pass a DataFrame "
            "or a 2-D array",
            field="input",
        )
    names = list(columns) if columns and len(columns) == array.shape[1] else None
    return pd.DataFrame(array, columns=names)


def _conform(column: pd.Series, spec: ColumnSpec) -> tuple[Any, str | None]:
    actual = type_of(column)
    wanted = spec.type
    if actual == wanted or wanted == "object":
        return column, None
    if _safe_cast(actual, wanted):
        return column.astype(wanted), None
    if wanted == "string" and actual == "category":
        return column, None
    hint = ""
    if wanted in _INT_BITS and actual in _FLOAT_BITS:
        hint = " (floats are not cast to integers: round them first)"
    return None, f"column {spec.name!r} is {actual}, expected {wanted}{hint}"


def _safe_cast(actual: str, wanted: str) -> bool:
    if wanted in _FLOAT_BITS:
        if actual in _FLOAT_BITS:
            return _FLOAT_BITS[actual] <= _FLOAT_BITS[wanted]
        return actual in _INT_BITS or actual in _UINT_BITS
    if wanted in _INT_BITS:
        if actual in _INT_BITS:
            return _INT_BITS[actual] <= _INT_BITS[wanted]
        return actual in _UINT_BITS and _UINT_BITS[actual] < _INT_BITS[wanted]
    if wanted in _UINT_BITS and actual in _UINT_BITS:
        return _UINT_BITS[actual] <= _UINT_BITS[wanted]
    return False


def _cell_shape(column: pd.Series) -> tuple[int, ...] | None:
    import numpy as np

    if column.dtype != object or column.empty:
        return None
    first = column.iloc[0]
    if isinstance(first, np.ndarray):
        return tuple(int(s) for s in first.shape)
    return None


def _output_specs(outputs: Any) -> tuple[ColumnSpec, ...]:
    import numpy as np
    import pandas as pd

    if isinstance(outputs, pd.DataFrame):
        return tuple(ColumnSpec(str(c), type_of(outputs[c])) for c in outputs.columns)
    array: np.ndarray = np.asarray(outputs)
    shape = tuple(int(s) for s in array.shape[1:]) or None
    return (ColumnSpec("prediction", type_of(array), shape=shape),)
