"""The FastAPI application: middleware, error handlers, routers, health probes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from modelyard import __version__
from modelyard.blobs import open_blob_store
from modelyard.server import _errors
from modelyard.server._config import ServerConfig
from modelyard.server._context import AppState
from modelyard.server._limits import BodyLimit
from modelyard.server.routers import (
    blobs,
    datasets,
    evaluations,
    experiments,
    lineage,
    models,
    runs,
    users,
)
from modelyard.store.sql import SqlBackend

API_PREFIX = "/api/v1"
GZIP_MIN_BYTES = 1024


def create_app(config: ServerConfig) -> FastAPI:
    """A ready application on ``config``'s database (migrated) and blob store."""
    models.load_policy(config.alias_policy)  # a policy that cannot load fails at start
    backend = SqlBackend(config.db, idempotency_days=config.idempotency_days)
    store = open_blob_store(config.blobs, storage_options=config.storage_options or None)
    app = FastAPI(
        title="modelyard",
        version=__version__,
        description="The modelyard team server: experiments, runs, metrics, datasets, blobs, "
        "lineage, the model registry, check evaluations, audit, users. "
        "Authenticate with `Authorization: Bearer <token>`.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.yard = AppState(config, backend, store)
    _errors.install(app)
    for router in (
        experiments.router,
        runs.router,
        lineage.router,
        datasets.router,
        blobs.router,
        users.router,
        models.router,
        evaluations.router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        """The process is up (no authentication)."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """The metadata database answers (no authentication)."""
        try:
            with backend.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # a probe reports, it does not raise
            return JSONResponse(
                {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
            )
        return JSONResponse({"status": "ready"})

    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(
        BodyLimit, max_json_bytes=config.max_json_bytes, max_blob_bytes=config.max_blob_bytes
    )
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process: the settings come from YARD_SERVER_*."""
    return create_app(ServerConfig.from_env())
