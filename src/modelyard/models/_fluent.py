"""The convenient module-level API: ``yard.log_model``, ``yard.load_model``, ...

Each uses the workspace of ``modelyard.tracking.client()`` and, for logging, the active run
of the current thread/task. Nothing here starts a run.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modelyard.domain.models import ModelVersion
from modelyard.errors import InvalidState
from modelyard.models._client import LoggedModel, ModelClient
from modelyard.models._model import Model
from modelyard.models._signature import Signature
from modelyard.tracking import active_run
from modelyard.tracking import client as tracking_client

_clients: dict[int, ModelClient] = {}
_lock = threading.Lock()


def client() -> ModelClient:
    """The model client for the current workspace (``.yard/`` or ``YARD_URI``)."""
    tracking = tracking_client()
    with _lock:
        found = _clients.get(id(tracking))
        if found is None or found.workspace is not tracking.workspace:
            found = _clients[id(tracking)] = ModelClient(tracking.workspace)
        return found


def log_model(
    model: Any,
    name: str | None = None,
    *,
    artifact_path: str = "model",
    input_example: Any = None,
    signature: Signature | None = None,
    flavor: str | None = None,
    artifacts: Mapping[str, str | Path] | None = None,
    model_config: Mapping[str, Any] | None = None,
    extra_requirements: Sequence[str] = (),
    tags: Mapping[str, Any] | None = None,
    description: str = "",
) -> LoggedModel:
    """Package ``model`` into the active run's artifacts (``runs:/<id>/model``) and, with
    ``name``, register it as the next version of that model (``.version``)."""
    run = active_run()
    if run is None:
        raise InvalidState(
            "log_model records which run produced the model, and no run is active; call it "
            "inside `with yard.start_run(...)`"
        )
    return client().log_model(
        model,
        run_id=run.id,
        artifact_path=artifact_path,
        name=name,
        tags=tags,
        description=description,
        input_example=input_example,
        signature=signature,
        flavor=flavor,
        artifacts=artifacts,
        model_config=model_config,
        extra_requirements=extra_requirements,
    )


def load_model(
    uri: str | Path,
    *,
    trusted: bool = False,
    extra_columns: str = "drop",
    check_environment: bool = True,
) -> Model:
    """Load ``models:/churn@champion``, ``models:/churn/3``, ``runs:/<id>/model`` or a
    downloaded package folder. Pickled models need ``trusted=True``.

    Library versions other than those the model was saved with give one
    ``ModelEnvironmentWarning``; ``check_environment=False`` or
    ``warnings.filterwarnings("ignore", category=ModelEnvironmentWarning)`` silences it."""
    return client().load(
        uri, trusted=trusted, extra_columns=extra_columns, check_environment=check_environment
    )


def register_model(source: str, name: str, *, description: str = "") -> ModelVersion:
    """Register a run's package (``runs:/<id>/model``) as the next version of ``name``."""
    return client().register(source, name, description=description)


def set_model_alias(name: str, alias: str, version: int) -> None:
    """Point ``alias`` (e.g. ``champion``) of model ``name`` at ``version``."""
    client().set_alias(name, alias, version)
