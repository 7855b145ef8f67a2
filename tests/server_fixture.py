"""A live ``yard server`` for tests: a subprocess on a free loopback port, backed by
PostgreSQL (a schema of its own) and moto's S3 server for blobs.

``YardServer.start()`` bootstraps an admin user ``tester`` directly in the database (as
``yard users create`` does) and waits for ``/readyz``; ``kill()`` and ``start()`` again
simulate a crash and a restart on the same port, database and bucket. ``reset()`` empties
every table but the users', so each test starts from an empty store.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from modelyard.store.sql import open_user_store
from modelyard.store.sql._engine import normalise_url
from modelyard.store.sql._schema import Base

ACCESS_KEY = SECRET_KEY = "testing"
_KEEP = {"users", "api_tokens", "role_grants", "alembic_version"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class YardServer:
    db_url: str
    blobs_url: str
    s3_endpoint: str
    port: int = field(default_factory=free_port)
    workers: int = 1
    extra_args: tuple[str, ...] = ()
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YARD_")}
        env.update(
            YARD_S3_ENDPOINT_URL=self.s3_endpoint,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION="us-east-1",
        )
        return env

    def bootstrap(self) -> str:
        from modelyard.domain.users import Role

        users = open_user_store(self.db_url, actor="bootstrap")
        try:
            try:
                users.get("tester")
            except LookupError:
                users.create("tester", Role.ADMIN)
            self.token = users.issue_token("tester").secret
        finally:
            users.close()
        return self.token

    def start(self, timeout: float = 30.0) -> None:
        if not self.token:
            self.bootstrap()
        args = [
            sys.executable,
            "-c",
            "from modelyard.cli import run; run()",
            "server",
            "--db",
            self.db_url,
            "--blobs",
            self.blobs_url,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *self.extra_args,
        ]
        self.process = subprocess.Popen(
            args,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"yard server exited: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("yard server did not become ready")

    def kill(self) -> None:
        """SIGKILL the server (and its workers): a crash, not a shutdown."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def reset(self) -> None:
        engine = create_engine(normalise_url(self.db_url))
        tables = [t.name for t in Base.metadata.sorted_tables if t.name not in _KEEP]
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()

    def user(self, name: str, role: str | None, scope: str = "global", **kw: Any) -> str:
        """A user with one grant; returns their token."""
        from modelyard.domain.users import Role, Scope

        users = open_user_store(self.db_url, actor="tester")
        try:
            users.create(name, Role.parse(role) if role else None, Scope.parse(scope))
            return users.issue_token(name, **kw).secret
        finally:
            users.close()


def pg_schema(base: str) -> tuple[str, str]:
    """(schema name, URL whose search_path is that new schema)."""
    base = normalise_url(base)
    schema = f"yard_srv_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in base else "?"
    return schema, f"{base}{separator}options=-csearch_path%3D{schema}"


def drop_schema(base: str, schema: str) -> None:
    admin = create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
