"""Shared fixtures: a fresh workspace per test, and metadata stores on every backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from modelyard.store.base import MetadataStore
from modelyard.store.sql import open_sql_store
from modelyard.store.sql._engine import normalise_url
from s3_server import s3_endpoint  # noqa: F401 - a session fixture the server uses

PG_ENV = "YARD_TEST_POSTGRES_URL"
PG_SKIP = f"set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test) to run PostgreSQL tests"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's YARD_* settings."""
    for name in ("YARD_URI", "YARD_BLOBS", "YARD_USER", "YARD_TOKEN", "YARD_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("YARD_USER", "tester")


@pytest.fixture
def workspace_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding a fresh ``.yard/``, made the working directory."""
    from modelyard.workspace import init_workspace

    init_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def postgres_url() -> str | None:
    return os.environ.get(PG_ENV)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = postgres_url()
    if not base:
        pytest.skip(PG_SKIP)
    base = normalise_url(base)
    schema = f"yard_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests on every SQL backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'yard.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture(params=["sqlite", "postgres", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    """The same tests on SQLite, PostgreSQL and through a live ``yard server``."""
    if request.param == "server":
        from modelyard.store.rest import open_rest_store

        server = request.getfixturevalue("yard_server")
        server.reset()
        opened = open_rest_store(server.url, token=server.token, retry_seconds=10)
    elif request.param == "sqlite":
        opened = open_sql_store(f"sqlite:///{tmp_path / 'yard.db'}", actor="tester")
    else:
        opened = open_sql_store(request.getfixturevalue("pg_schema_url"), actor="tester")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def yard_server(s3_endpoint: str) -> Iterator[Any]:  # noqa: F811 - the imported fixture
    """One ``yard server`` for the session: PostgreSQL (own schema) + moto S3 blobs."""
    from server_fixture import YardServer, drop_schema, pg_schema

    base = postgres_url()
    if not base:
        pytest.skip(PG_SKIP)
    pytest.importorskip("fastapi", reason="server tests need modelyard[server]")
    import boto3

    bucket = f"yard-srv-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    schema, url = pg_schema(base)
    server = YardServer(db_url=url, blobs_url=f"s3://{bucket}/blobs", s3_endpoint=s3_endpoint)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        drop_schema(base, schema)


def pytest_report_header() -> str:
    if postgres_url():
        return f"PostgreSQL tests: on ({PG_ENV} is set)"
    return f"PostgreSQL tests: skipped - {PG_SKIP}"
