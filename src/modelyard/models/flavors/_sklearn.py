"""scikit-learn estimators (Pipelines and ColumnTransformers included), saved with skops.

skops never unpickles: it rebuilds objects from a JSON schema and refuses types it does not
trust. We trust the scikit-learn classes in the file on top of skops' defaults; anything
else (a custom transformer) needs ``trusted=True``. skops trusts scikit-learn's tree storage
only when told to, because a crafted file with out-of-range node indices makes ``predict``
read outside the tree's arrays: every tree is validated after loading (``validate_trees``)
and refused if any child, feature or value index is out of range.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from modelyard.errors import IntegrityError, InvalidState
from modelyard.models.flavors._base import LoadContext, SaveContext, Saved, mro_modules, require

NAME = "sklearn"
PACKAGES = ("scikit-learn", "skops", "numpy", "scipy", "pandas")
FILE = "model.skops"
_METHODS = ("predict", "predict_proba")


def handles(model: Any) -> bool:
    return any(m == "sklearn" or m.startswith("sklearn.") for m in mro_modules(model))


def save(model: Any, ctx: SaveContext) -> Saved:
    import skops.io as sio

    validate_trees(model, "being saved")  # refuse to package (or predict with) a broken tree
    sio.dump(model, ctx.folder / FILE)
    methods = tuple(m for m in _METHODS if callable(getattr(model, m, None)))
    return Saved(
        options={"file": FILE, "feature_names": hasattr(model, "feature_names_in_")},
        methods=methods,
    )


def load(ctx: LoadContext) -> Any:
    sio = require("skops.io", ctx, "skops")
    require("sklearn", ctx, "scikit-learn")
    from skops.io.exceptions import UntrustedTypesFoundException

    data = ctx.files.read(str(ctx.options.get("file", FILE)))
    try:
        model = sio.loads(data, trusted=_sklearn_types(data, ctx.label))
    except UntrustedTypesFoundException as exc:
        if not ctx.trusted:
            raise InvalidState(
                f"model {ctx.label} contains types skops does not trust: {exc}. Loading them "
                "runs their code; if you trust who saved the model, load it with trusted=True"
            ) from exc
        model = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    validate_trees(model, ctx.label)
    return SklearnPredictor(model, bool(ctx.options.get("feature_names", True)))


_NOT_OBJECTS = ("FunctionNode", "MethodNode", "OperatorFuncNode", "PartialNode", "TypeNode")


def _sklearn_types(data: bytes, label: str) -> list[str]:
    """The scikit-learn classes a skops file instantiates (read from its schema, which is
    cheaper than skops' own audit). Trusting them trusts scikit-learn's tree storage too,
    which ``validate_trees`` then checks; functions and other libraries' types are left to
    skops' own rules."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IntegrityError(f"model {label} is not a readable skops file: {exc}") from exc
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if (
                isinstance(module, str)
                and isinstance(cls, str)
                and module.startswith("sklearn.")
                and node.get("__loader__") not in _NOT_OBJECTS
            ):
                found.add(f"{module}.{cls}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found)


def wrap(model: Any) -> Any:
    """The predictor of an in-memory model (to infer the output signature at save time)."""
    return SklearnPredictor(model, hasattr(model, "feature_names_in_"))


class SklearnPredictor:
    def __init__(self, model: Any, feature_names: bool) -> None:
        self.raw = model
        self._frames = feature_names  # fitted on a DataFrame: give it one (else an array)
        if callable(getattr(model, "predict_proba", None)):
            self.predict_proba = self._predict_proba

    def _input(self, frame: Any) -> Any:
        return frame if self._frames else frame.to_numpy()

    def predict(self, frame: Any) -> Any:
        return self.raw.predict(self._input(frame))

    def _predict_proba(self, frame: Any) -> Any:
        return self.raw.predict_proba(self._input(frame))


def validate_trees(model: Any, label: str) -> int:
    """Check every fitted scikit-learn tree reachable from ``model``; return how many.

    A node's children must both be leaves (-1) or both be later nodes of the same tree (so
    the walk always ends), split features must index the model's features, and the value
    array must hold a row per node. IntegrityError names the first bad tree otherwise.
    """
    import numpy as np
    from sklearn.tree._tree import Tree

    count = 0
    for where, tree in _trees(model, Tree):
        count += 1
        n = int(tree.node_count)
        left = np.asarray(tree.children_left)
        right = np.asarray(tree.children_right)
        feature = np.asarray(tree.feature)
        problems = []
        if not (len(left) == len(right) == len(feature) == n) or n < 1:
            problems.append(
                f"node arrays have lengths {len(left)}, {len(right)}, {len(feature)} for {n} nodes"
            )
        else:
            index = np.arange(n)
            leaf = left == -1
            if not np.array_equal(leaf, right == -1):
                problems.append("a node has exactly one child")
            inner = ~leaf
            for name, child in (("left", left), ("right", right)):
                bad = inner & ((child <= index) | (child >= n))
                if bad.any():
                    i = int(np.argmax(bad))
                    problems.append(
                        f"node {i} has {name} child {int(child[i])}, outside {i + 1}..{n - 1}"
                    )
            n_features = int(tree.n_features)
            bad = inner & ((feature < 0) | (feature >= n_features))
            if bad.any():
                i = int(np.argmax(bad))
                problems.append(f"node {i} splits on feature {int(feature[i])} of {n_features}")
            if tree.value.shape[0] != n:
                problems.append(f"value array has {tree.value.shape[0]} rows for {n} nodes")
        if problems:
            raise IntegrityError(
                f"model {label} holds an invalid decision tree at {where}: "
                + "; ".join(problems)
                + ". A crafted or corrupted file can make predict read outside the tree; "
                "it is not loaded"
            )
    return count


def _trees(root: Any, tree_type: type) -> list[tuple[str, Any]]:
    import numpy as np

    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("model", root)]
    while stack:
        where, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, tree_type):
            found.append((where, obj))
        elif isinstance(obj, (list, tuple)):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(obj))
        elif isinstance(obj, dict):
            stack.extend((f"{where}[{k!r}]", v) for k, v in obj.items())
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend((f"{where}[{i}]", v) for i, v in enumerate(obj.ravel()))
        elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("sklearn"):
            stack.extend((f"{where}.{k}", v) for k, v in vars(obj).items())
    return found
