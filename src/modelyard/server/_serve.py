"""Run the application under uvicorn, one or more worker processes."""

from __future__ import annotations

import os

from modelyard.server._config import ServerConfig, check_bind


def serve(
    config: ServerConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    log_level: str = "warning",
) -> None:
    """Serve until interrupted. Refuses ``auth='none'`` on anything but loopback."""
    import uvicorn

    check_bind(host, config.auth)
    # Migrate and prune old idempotency keys once here, so that workers starting together
    # do not queue on the lock.
    from modelyard.store.sql import SqlBackend

    backend = SqlBackend(config.db, idempotency_days=config.idempotency_days)
    backend.prune_expired()
    backend.close()
    os.environ.update(config.to_env())
    uvicorn.run(
        "modelyard.server._app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
