"""Blob store on any fsspec file system (S3, GCS, Azure, memory://).

Object stores make a written object visible whole or not at all (S3 multipart uploads included),
so no temp-and-rename is needed remotely; digests are still verified on every read, and
downloads go through a temporary file that is renamed onto the destination only once verified.

An object is always stored under the digest of the bytes actually uploaded:

- content up to ``SMALL`` bytes is read into memory, hashed and uploaded in one request;
- a larger file is hashed, uploaded from its path, and checked not to have changed in between
  (size, modification time, inode); if it did, the object is removed and StoreError raised;
- a larger stream is spooled to a private local temporary file while hashing, then uploaded.

Backend failures (OSError, and botocore's own errors such as missing credentials or an
unreachable endpoint) become StoreError here; a missing object becomes BlobNotFound.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from modelyard.blobs._files import iter_chunks, open_source, reason, write_verified
from modelyard.blobs.hashing import (
    CHUNK,
    blob_key,
    corrupted,
    format_digest,
    hash_bytes,
    hash_stream,
    new_hasher,
)
from modelyard.errors import BlobNotFound, InvalidValue, StoreError

SMALL = 16 << 20


class FsspecBlobStore:
    """Blobs under ``<url>/blake3/ab/cd/<hex>`` on an fsspec file system.

    ``storage_options`` go to the file system unchanged (for s3fs e.g. ``key``, ``secret``,
    ``client_kwargs={"endpoint_url": ...}``).
    """

    def __init__(self, url: str, *, storage_options: Mapping[str, Any] | None = None) -> None:
        protocol, separator, rest = url.partition("://")
        self.url = f"{protocol}{separator}{rest.rstrip('/')}"
        try:
            import fsspec  # on use: it costs ~30 ms, and local stores never need it

            self._fs, root = fsspec.core.url_to_fs(self.url, **dict(storage_options or {}))
        except ValueError as exc:
            raise InvalidValue(
                f"cannot open blob store {url!r}: {exc}; use a local folder or an fsspec URL "
                "such as s3://bucket/prefix",
                field="blobs",
            ) from exc
        except ImportError as exc:
            raise StoreError(
                f"cannot open blob store {url!r}: {exc}; install its file system package, "
                "e.g. pip install 'modelyard[s3]' for s3://"
            ) from exc
        self._root = root.rstrip("/")
        if not self._root.strip("/"):
            raise InvalidValue(
                f"blob store URL {url!r} names no bucket or folder; add one, e.g. "
                f"{protocol}://my-bucket/yard-blobs",
                field="blobs",
            )

    def __repr__(self) -> str:
        return f"FsspecBlobStore({self.url!r})"

    def _key(self, digest: str) -> str:
        return f"{self._root}/{blob_key(digest)}"

    def exists(self, digest: str) -> bool:
        key = self._key(digest)
        try:
            return bool(self._fs.isfile(key))
        except _backend_errors() as exc:
            raise StoreError(f"cannot reach blob store {self.url}: {_text(exc)}") from exc

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        data = bytes(data)
        digest = hash_bytes(data)
        if not self.exists(digest):
            self._write(self._fs.pipe_file, self._key(digest), data)
        return digest, len(data)

    def put_file(self, source: str | Path) -> tuple[str, int]:
        """Store a file's bytes; bytes already stored are not uploaded again."""
        with open_source(source) as src:
            before = os.fstat(src.fileno())
            if before.st_size <= SMALL:
                data = src.read(SMALL + 1)
                if len(data) > SMALL:
                    raise _changed_error(source)
                return self.put_bytes(data)
            digest, size = hash_stream(src)
        if self.exists(digest):
            return digest, size
        key = self._key(digest)
        self._write(self._fs.put_file, os.fspath(source), key)
        if _changed(before, source):
            self._remove(key)
            raise _changed_error(source)
        return digest, size

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Store everything ``stream.read()`` returns, read in chunks.

        Up to ``SMALL`` bytes are kept in memory; anything larger is spooled to a private
        local temporary file first, since the object's name is only known at the end.
        """
        head = []
        size = 0
        while size <= SMALL and (chunk := stream.read(CHUNK)):
            head.append(chunk)
            size += len(chunk)
        if size <= SMALL:
            return self.put_bytes(b"".join(head))
        with tempfile.TemporaryDirectory(prefix="yard-upload-") as folder:
            spooled = Path(folder) / "blob"
            hasher = new_hasher()
            try:
                with open(spooled, "wb") as out:
                    for chunk in head:
                        hasher.update(chunk)
                        out.write(chunk)
                    for chunk in iter_chunks(stream):
                        hasher.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            except OSError as exc:
                raise StoreError(
                    f"cannot spool a stream for {self.url} to {folder}: {reason(exc)}"
                ) from exc
            digest = format_digest(hasher)
            if not self.exists(digest):
                self._write(self._fs.put_file, str(spooled), self._key(digest))
        return digest, size

    def get_bytes(self, digest: str) -> bytes:
        key = self._key(digest)
        try:
            data = self._fs.cat_file(key)
        except FileNotFoundError:
            raise self._not_found(digest) from None
        except _backend_errors() as exc:
            raise StoreError(f"cannot read blob {digest} from {self.url}: {_text(exc)}") from exc
        if hash_bytes(data) != digest:
            raise corrupted(digest, self.url, self._fs.unstrip_protocol(key))
        return data

    def get_file(self, digest: str, destination: str | Path) -> Path:
        """Download a blob to ``destination`` atomically, verifying its digest on the way.

        On any error (missing or corrupted blob, failed transfer) ``destination`` is left as it
        was and no partial file is left next to it.
        """
        key = self._key(digest)
        destination = Path(destination)
        try:
            src = self._fs.open(key, "rb")
        except FileNotFoundError:
            raise self._not_found(digest) from None
        except _backend_errors() as exc:
            raise StoreError(f"cannot read blob {digest} from {self.url}: {_text(exc)}") from exc
        with src:
            try:
                verified = write_verified(iter_chunks(src), digest, destination)
            except _backend_errors() as exc:
                raise StoreError(
                    f"cannot copy blob {digest} from {self.url} to {destination}: {_text(exc)}"
                ) from exc
        if not verified:
            raise corrupted(digest, self.url, self._fs.unstrip_protocol(key))
        return destination

    def _write(self, fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except _backend_errors() as exc:
            raise StoreError(f"cannot write to blob store {self.url}: {_text(exc)}") from exc

    def _remove(self, key: str) -> None:
        try:
            self._fs.rm_file(key)
        except _backend_errors() as exc:
            raise StoreError(
                f"cannot remove {key} from {self.url} after a failed write: {_text(exc)}; "
                "delete it by hand"
            ) from exc

    def _not_found(self, digest: str) -> BlobNotFound:
        return BlobNotFound(
            f"blob {digest} is not in {self.url}; check that this is the blob store the "
            "metadata was recorded with (YARD_BLOBS)"
        )


def _backend_errors() -> tuple[type[Exception], ...]:
    """The exceptions a file system backend raises for I/O, credential and network failures.

    botocore (under s3fs) raises its own for some of them; it is only looked for when already
    imported, so other backends never pay for it.
    """
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is None:
        return (OSError,)
    return (OSError, botocore.BotoCoreError, botocore.ClientError)


def _text(exc: Exception) -> str:
    return reason(exc) if isinstance(exc, OSError) else str(exc)


def _changed_error(source: str | Path) -> StoreError:
    return StoreError(
        f"{source} changed while it was being stored; nothing was stored. "
        "Store it again once nothing is writing to it"
    )


def _changed(before: os.stat_result, source: str | Path) -> bool:
    try:
        after = os.stat(source)
    except OSError:
        return True
    return (after.st_size, after.st_mtime_ns, after.st_ino) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
