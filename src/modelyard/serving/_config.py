"""Server settings, stored as given (``repr`` shows them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelyard.serving._batching import BatchPolicy
from modelyard.serving._predlog import LogPolicy

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Everything ``yard serve`` configures. ``models`` are ``--model`` values
    (``models:/churn@champion`` or ``name=URI``); the first is the default of ``/predict``."""

    models: tuple[str, ...]
    batch: BatchPolicy = field(default_factory=BatchPolicy)
    log: LogPolicy = field(default_factory=LogPolicy)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    optimize: bool = False
    follow_alias_seconds: float | None = None  # poll aliases this often; None: only on reload
    unknown_category: str = "error"  # or "allow": pass categories the model never saw
    admin_token: str | None = None  # bearer token for /admin/*; None: loopback clients only
    access_log: bool = False  # one JSON line per request on the modelyard.serving.access logger
