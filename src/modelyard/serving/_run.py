"""Running the app with uvicorn: one process, or ``workers`` processes sharing the port.

With several workers each process builds its own app from ``YARD_SERVE_CONFIG`` (the CLI
puts the configuration there for the child processes) and Prometheus values go to
``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder unless set), so ``/metrics`` on any
worker reports all of them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any

from modelyard.serving._access import configure_access_log
from modelyard.serving._batching import BatchPolicy
from modelyard.serving._config import ServeConfig
from modelyard.serving._metrics import MULTIPROC_ENV
from modelyard.serving._predlog import LogPolicy

CONFIG_ENV = "YARD_SERVE_CONFIG"


def config_to_json(config: ServeConfig) -> str:
    return json.dumps(dataclasses.asdict(config))


def config_from_json(text: str) -> ServeConfig:
    data = json.loads(text)
    data["models"] = tuple(data["models"])
    data["batch"] = BatchPolicy(**data["batch"])
    data["log"] = LogPolicy(**data["log"])
    return ServeConfig(**data)


def app_from_environment() -> Any:
    """The uvicorn factory each worker process calls."""
    from modelyard.serving._app import create_app
    from modelyard.workspace import open_workspace

    config = config_from_json(os.environ[CONFIG_ENV])
    if config.access_log:
        configure_access_log()
    return create_app(open_workspace(), config)


def serve(
    config: ServeConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "warning",
) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn then stops accepting, lets in-flight requests
    finish, and the app flushes the prediction log. With ``config.access_log`` the JSON
    access lines go to stderr (uvicorn's own plain access log is always off)."""
    import uvicorn

    if config.access_log:
        configure_access_log()

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "timeout_graceful_shutdown": 30,
    }
    if workers == 1:
        from modelyard.serving._app import create_app
        from modelyard.workspace import open_workspace

        uvicorn.run(create_app(open_workspace(), config), **options)
        return
    os.environ[CONFIG_ENV] = config_to_json(config)  # read by the worker processes
    if not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="yard-prometheus-")
    uvicorn.run(
        "modelyard.serving._run:app_from_environment", factory=True, workers=workers, **options
    )
