"""A real S3 endpoint for tests: moto's server mode on loopback, started once per session.

Import the fixtures into a test module to use them::

    from s3_server import s3_bucket, s3_env  # noqa: F401 - pytest fixtures

- ``s3_bucket`` -> ``S3Bucket``: the endpoint, a fresh bucket, s3fs ``storage_options`` with
  test credentials, and a boto3 client for looking behind the code under test.
- ``s3_env`` -> the same bucket, with ``YARD_S3_ENDPOINT_URL`` and test AWS credentials set in
  the environment for the duration of one test (for code that configures itself from the
  environment, such as the CLI).

Each test should work below its own prefix (``S3Bucket.fresh_url()``): the bucket is shared by
the whole session. The server speaks HTTP on 127.0.0.1 only and keeps everything in memory.
Neither moto 5.2 nor boto3/s3fs warn here under ``filterwarnings = error``; if a later version
does, filter that one warning in these fixtures, not in pyproject.toml.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Bucket:
    endpoint_url: str
    name: str
    client: Any = field(repr=False)

    @property
    def storage_options(self) -> dict[str, Any]:
        """s3fs options that reach this bucket with the test credentials."""
        return {
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": REGION},
        }

    def fresh_url(self) -> str:
        """``s3://<bucket>/<new prefix>``: a root no other test uses."""
        return f"s3://{self.name}/{uuid.uuid4().hex}"

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key that starts with ``prefix``, sorted."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto S3 server living for the whole session."""
    pytest.importorskip("s3fs", reason="S3 tests need s3fs: pip install 'modelyard[s3]'")
    server_module = pytest.importorskip("moto.server", reason="S3 tests need moto[server]")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_bucket(s3_endpoint: str) -> S3Bucket:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    name = f"yard-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return S3Bucket(endpoint_url=s3_endpoint, name=name, client=client)


@pytest.fixture
def s3_env(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """``s3_bucket``, reachable through environment variables alone during one test."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("YARD_S3_ENDPOINT_URL", s3_bucket.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return s3_bucket
