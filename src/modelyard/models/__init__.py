"""Models: packaging, signatures, safe loading, the registry (versions, aliases), autologging.

What it owns:

- the package format (``_package.py``): a folder described by ``MODEL.yaml`` (flavor,
  signature, input example, pinned requirements, Python version, creation metadata, the
  digest of every file), stored as blobs; the digest of MODEL.yaml is the package digest;
- flavors (``flavors/``), registered by name and imported lazily: sklearn (skops, trees
  validated), xgboost (JSON), lightgbm (text), onnx (onnxruntime), torch (state dict),
  python (``PythonModel``), pickle (only with ``trusted=True``);
- ``Model``: one interface for every flavor, ``predict(DataFrame)`` (+ ``predict_proba``),
  signature enforcement listing every problem;
- the environment check (``_environment.py``): loading warns with a
  ``ModelEnvironmentWarning`` when the flavor's libraries differ from the saved pins;
- ``ModelClient``: log, register, load, download, aliases (through a policy hook), tags,
  descriptions, lineage and environment of versions;
- ``autolog()`` for scikit-learn, XGBoost and LightGBM.
"""

from modelyard.domain.models import (
    AliasChange,
    ModelRef,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
    parse_model_ref,
    parse_model_uri,
)
from modelyard.models._autolog import AutologConfig, AutologWarning, autolog
from modelyard.models._client import LoggedModel, ModelClient, ModelLineage
from modelyard.models._environment import (
    LibraryMismatch,
    ModelEnvironmentWarning,
    environment_mismatches,
)
from modelyard.models._fluent import (
    client,
    load_model,
    log_model,
    register_model,
    set_model_alias,
)
from modelyard.models._model import Model
from modelyard.models._policy import AliasPolicy, allow_all
from modelyard.models._pymodel import ModelContext, PythonModel
from modelyard.models._signature import ColumnSpec, Signature, infer_signature

__all__ = [
    "AliasChange",
    "AliasPolicy",
    "AutologConfig",
    "AutologWarning",
    "ColumnSpec",
    "LibraryMismatch",
    "LoggedModel",
    "Model",
    "ModelClient",
    "ModelContext",
    "ModelEnvironmentWarning",
    "ModelLineage",
    "ModelRef",
    "ModelVersion",
    "PythonModel",
    "RegisteredModel",
    "Signature",
    "VersionStatus",
    "allow_all",
    "autolog",
    "client",
    "environment_mismatches",
    "infer_signature",
    "load_model",
    "log_model",
    "parse_model_ref",
    "parse_model_uri",
    "register_model",
    "set_model_alias",
]
