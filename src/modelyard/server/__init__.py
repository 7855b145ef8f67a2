"""The team server: ``yard server``, a REST API over the metadata and blob stores.

- ``create_app(ServerConfig(...))`` builds the FastAPI application (``/api/v1/...``,
  ``/docs``, ``/openapi.json``, ``/healthz``, ``/readyz``);
- ``serve(config, host=..., port=..., workers=...)`` runs it under uvicorn.

Every request except the health probes is authenticated with a bearer token; each route
checks the caller's role and acts through a store view whose audit events name the caller.
"""

from __future__ import annotations

from modelyard.server._app import API_PREFIX, app_from_env, create_app
from modelyard.server._config import ServerConfig, check_bind, is_loopback
from modelyard.server._serve import serve

__all__ = [
    "API_PREFIX",
    "ServerConfig",
    "app_from_env",
    "check_bind",
    "create_app",
    "is_loopback",
    "serve",
]
