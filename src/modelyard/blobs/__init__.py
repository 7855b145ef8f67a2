"""Content-addressed, immutable blob storage (local folder or any fsspec URL).

Blobs are named by their digest (``blake3:<hex>``). Writing the same bytes twice stores them
once; reads verify the digest and refuse corrupted content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from modelyard.blobs._local import LocalBlobStore
from modelyard.blobs._remote import FsspecBlobStore
from modelyard.blobs.hashing import ALGORITHM, hash_bytes, hash_file


class BlobStore(Protocol):
    url: str

    def exists(self, digest: str) -> bool: ...
    def put_bytes(self, data: bytes) -> tuple[str, int]: ...
    def put_file(self, source: str | Path) -> tuple[str, int]: ...
    def get_bytes(self, digest: str) -> bytes: ...
    def get_file(self, digest: str, destination: str | Path) -> Path: ...


def open_blob_store(url: str | Path) -> BlobStore:
    """A local folder (plain path or ``file://``) or any fsspec URL (``s3://``, ``memory://``)."""
    text = str(url)
    if text.startswith("file://"):
        return LocalBlobStore(text.removeprefix("file://"))
    if "://" not in text:
        return LocalBlobStore(text)
    return FsspecBlobStore(text)


__all__ = [
    "ALGORITHM",
    "BlobStore",
    "FsspecBlobStore",
    "LocalBlobStore",
    "hash_bytes",
    "hash_file",
    "open_blob_store",
]
