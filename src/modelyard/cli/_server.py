"""yard server"""

from __future__ import annotations

import os

import typer

from modelyard.cli._render import console
from modelyard.errors import InvalidValue


def server(
    db: str = typer.Option(
        None, "--db", help="Metadata database URL (default: $YARD_URI), e.g. postgresql://..."
    ),
    blobs: str = typer.Option(
        None, "--blobs", help="Blob store: a folder or fsspec URL (default: $YARD_BLOBS)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes."),
    auth: str = typer.Option(
        "token", "--auth", help="'token' (bearer tokens) or 'none' (one trusted user, loopback)."
    ),
    max_body_mb: int = typer.Option(32, "--max-body-mb", min=1, help="Largest JSON body."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
    alias_policy: str = typer.Option(
        "",
        "--alias-policy",
        envvar="YARD_SERVER_ALIAS_POLICY",
        help="'module:function' that judges every alias move (raise PolicyDenied to refuse); "
        "default: allow all.",
    ),
    idempotency_days: float = typer.Option(
        30,
        "--idempotency-days",
        help="Days a write's idempotency key is kept, so a retried request applies once; "
        "a retry older than this may be applied twice.",
    ),
) -> None:
    """Serve the REST API (/api/v1, docs at /docs) on a database and a blob store.

    Example: yard server --db postgresql://postgres@127.0.0.1/test --blobs s3://yard/blobs
    """
    from modelyard.server import ServerConfig, check_bind, serve

    db = db or os.environ.get("YARD_URI", "")
    blobs = blobs or os.environ.get("YARD_BLOBS", "")
    if not db or db.startswith(("http://", "https://")):
        raise InvalidValue(
            "give the metadata database with --db (or YARD_URI), e.g. "
            "postgresql://user@host/db or sqlite:///path/yard.db",
            field="db",
        )
    if not blobs:
        raise InvalidValue(
            "give the blob store with --blobs (or YARD_BLOBS): a folder or s3://bucket/prefix",
            field="blobs",
        )
    if auth not in ("token", "none"):
        raise InvalidValue(f"--auth must be 'token' or 'none', not {auth!r}", field="auth")
    check_bind(host, auth)  # type: ignore[arg-type]
    config = ServerConfig(
        db=db,
        blobs=blobs,
        auth=auth,  # type: ignore[arg-type]
        local_user=os.environ.get("YARD_USER") or "local",
        max_json_bytes=max_body_mb * 1024 * 1024,
        alias_policy=alias_policy,
        idempotency_days=idempotency_days,
    )
    console.print(f"yard server on http://{host}:{port} (docs: /docs, auth: {auth})")
    serve(config, host=host, port=port, workers=workers, log_level=log_level)


def register(app: typer.Typer) -> None:
    app.command("server")(server)
