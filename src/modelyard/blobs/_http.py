"""Blobs through ``yard server``: ``/api/v1/blobs/<digest>``, streamed both ways.

Uploads are hashed locally first; bytes the server already has are never sent. Downloads are
written to a temporary file next to the destination while they are hashed, and renamed into
place only when the digest matches. Requests that never reached the server are retried, and
so are uploads and downloads (both are idempotent), for up to ``retry_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import httpx

from modelyard.blobs._files import iter_chunks, open_source, write_verified
from modelyard.blobs.hashing import CHUNK, corrupted, format_digest, hash_bytes, new_hasher
from modelyard.errors import (
    AccessDenied,
    BlobNotFound,
    InvalidValue,
    StoreError,
    Unauthenticated,
)

_PREFIX = "/api/v1/blobs/"


class HttpBlobStore:
    def __init__(self, url: str, token: str | None, *, retry_seconds: float = 60.0) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=self.url, headers=headers, timeout=httpx.Timeout(300.0, connect=5.0)
        )
        self._retry_seconds = retry_seconds

    def __repr__(self) -> str:
        return f"HttpBlobStore({self.url!r})"

    def close(self) -> None:
        self._client.close()

    def exists(self, digest: str) -> bool:
        response = self._send("HEAD", digest)
        return response.status_code == 200

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        if not self.exists(digest):
            self._send("PUT", digest, content=lambda: iter([data]))
        return digest, len(data)

    def put_file(self, source: str | Path) -> tuple[str, int]:
        with open_source(source) as src:
            hasher = new_hasher()
            size = 0
            for chunk in iter_chunks(src):
                hasher.update(chunk)
                size += len(chunk)
        digest = format_digest(hasher)
        if not self.exists(digest):

            def chunks() -> Iterator[bytes]:
                with open_source(source) as again:
                    yield from iter_chunks(again)

            self._send("PUT", digest, content=chunks)
        return digest, size

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """The stream is spooled to memory up to 64 MiB, else to a temporary file, since the
        digest (the URL) is only known at the end."""
        import tempfile

        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
            for chunk in iter_chunks(stream):
                spool.write(chunk)
            spool.seek(0)
            hasher = new_hasher()
            size = 0
            while chunk := spool.read(CHUNK):
                hasher.update(chunk)
                size += len(chunk)
            digest = format_digest(hasher)
            if not self.exists(digest):

                def chunks() -> Iterator[bytes]:
                    spool.seek(0)
                    while piece := spool.read(CHUNK):
                        yield piece

                self._send("PUT", digest, content=chunks)
        return digest, size

    def get_bytes(self, digest: str) -> bytes:
        data = self._send("GET", digest).content
        if hash_bytes(data) != digest:
            raise corrupted(digest, self.url, self.url + _PREFIX + digest)
        return data

    def get_file(self, digest: str, destination: str | Path) -> Path:
        destination = Path(destination)
        deadline = time.monotonic() + self._retry_seconds
        while True:
            try:
                with self._client.stream("GET", _PREFIX + digest) as response:
                    _raise_for(response, digest, self.url)
                    verified = write_verified(response.iter_bytes(CHUNK), digest, destination)
                break
            except (httpx.TransportError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot download blob {digest} from {self.url}: {exc}"
                    ) from exc
                time.sleep(0.5)
        if not verified:
            raise corrupted(digest, self.url, self.url + _PREFIX + digest)
        return destination

    def _send(self, method: str, digest: str, *, content=None) -> httpx.Response:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + self._retry_seconds
        delay = 0.1
        while True:
            try:
                response = self._client.request(
                    method, _PREFIX + digest, content=content() if content else None
                )
            except httpx.TransportError as exc:
                if time.monotonic() + delay > deadline:
                    raise StoreError(
                        f"cannot reach the yard server at {self.url} for blob {digest} "
                        f"({type(exc).__name__}: {exc})"
                    ) from exc
            else:
                if response.status_code not in (502, 503, 504) or time.monotonic() > deadline:
                    if method == "HEAD" and response.status_code == 404:
                        return response
                    _raise_for(response, digest, self.url)
                    return response
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _raise_for(response: httpx.Response, digest: str, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    response.read()
    try:
        message = response.json().get("message", "")
    except ValueError:
        message = response.text[:300]
    if status == 404:
        raise BlobNotFound(
            f"blob {digest} is not on the yard server {url}; check that it was uploaded"
        )
    if status == 401:
        raise Unauthenticated(message or "the yard server refused the API token")
    if status == 403:
        raise AccessDenied(message or "the yard server refused this blob operation")
    if status in (400, 413, 422):
        raise InvalidValue(message or f"the yard server refused blob {digest}", field="digest")
    raise StoreError(f"the yard server failed on blob {digest} ({status}): {message}")
