"""Content-addressed, immutable blob storage (local folder or any fsspec URL).

Blobs are named by their digest (``blake3:<hex>``). Writing the same bytes twice stores them
once; reads verify the digest and refuse corrupted content with IntegrityError. Every backend
keeps blobs at ``<root>/blake3/ab/cd/<hex>``.

``open_blob_store(url)`` picks the backend:

- a plain path or ``file://`` URL -> ``LocalBlobStore`` (atomic temp + fsync + rename writes,
  read-only blob files);
- any other fsspec URL (``s3://bucket/prefix``, ``gs://``, ``memory://name``) ->
  ``FsspecBlobStore``.

Configuration of remote stores:

- ``storage_options`` (a dict) is passed unchanged to the fsspec file system, e.g. for s3fs
  ``{"key": ..., "secret": ..., "client_kwargs": {"endpoint_url": ...}}``.
- ``YARD_S3_ENDPOINT_URL`` sets the endpoint of ``s3://`` stores (MinIO, Ceph, LocalStack, ...)
  when ``storage_options`` does not set one.
- Credentials and region otherwise come from the usual AWS sources (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``~/.aws``, instance roles).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from modelyard.blobs._local import LocalBlobStore
from modelyard.blobs._remote import FsspecBlobStore
from modelyard.blobs.hashing import ALGORITHM, hash_bytes, hash_file
from modelyard.errors import InvalidValue

S3_ENDPOINT_ENV = "YARD_S3_ENDPOINT_URL"


class BlobStore(Protocol):
    url: str

    def exists(self, digest: str) -> bool: ...
    def put_bytes(self, data: bytes) -> tuple[str, int]: ...
    def put_file(self, source: str | Path) -> tuple[str, int]: ...
    def put_stream(self, stream: BinaryIO) -> tuple[str, int]: ...
    def get_bytes(self, digest: str) -> bytes: ...
    def get_file(self, digest: str, destination: str | Path) -> Path: ...


def open_blob_store(
    url: str | Path, *, storage_options: Mapping[str, Any] | None = None
) -> BlobStore:
    """A local folder (plain path or ``file://``) or any fsspec URL (``s3://``, ``memory://``).

    ``storage_options`` only apply to fsspec URLs; for ``s3://`` the endpoint defaults to
    ``$YARD_S3_ENDPOINT_URL`` when set.
    """
    text = str(url)
    if text.startswith("file://") or "://" not in text:
        if storage_options:
            raise InvalidValue(
                f"storage options {sorted(storage_options)} apply to fsspec URLs such as "
                f"s3://bucket/prefix, not to the local folder {text!r}; drop them",
                field="storage_options",
            )
        return LocalBlobStore(text.removeprefix("file://"))
    options = dict(storage_options or {})
    endpoint = os.environ.get(S3_ENDPOINT_ENV)
    if endpoint and text.startswith(("s3://", "s3a://")):
        client_kwargs = dict(options.get("client_kwargs") or {})
        if "endpoint_url" not in options and "endpoint_url" not in client_kwargs:
            client_kwargs["endpoint_url"] = endpoint
            options["client_kwargs"] = client_kwargs
    return FsspecBlobStore(text, storage_options=options)


def open_server_blob_store(url: str, *, token: str | None) -> BlobStore:
    """Blobs through a ``yard server`` at ``url`` (``/api/v1/blobs/<digest>``)."""
    from modelyard.blobs._http import HttpBlobStore  # httpx is only imported when needed

    return HttpBlobStore(url, token)


__all__ = [
    "ALGORITHM",
    "BlobStore",
    "FsspecBlobStore",
    "LocalBlobStore",
    "hash_bytes",
    "hash_file",
    "open_blob_store",
    "open_server_blob_store",
]
