"""Blob store on any fsspec file system (S3, GCS, Azure, memory://).

Object stores make a written object visible whole or not at all, so no temp-and-rename is
needed; digests are still verified on every read.
"""

from __future__ import annotations

from pathlib import Path

import fsspec

from modelyard.blobs.hashing import check_digest, hash_bytes, hash_file
from modelyard.errors import BlobNotFound, IntegrityError, StoreError


class FsspecBlobStore:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._fs, self._root = fsspec.core.url_to_fs(self.url)

    def _key(self, digest: str) -> str:
        algorithm, hexdigest = check_digest(digest).split(":", 1)
        return f"{self._root}/{algorithm}/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"

    def exists(self, digest: str) -> bool:
        try:
            return bool(self._fs.exists(self._key(digest)))
        except OSError as exc:
            raise StoreError(f"cannot reach blob store {self.url}: {exc}") from exc

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        if not self.exists(digest):
            self._call(self._fs.pipe_file, self._key(digest), data)
        return digest, len(data)

    def put_file(self, source: str | Path) -> tuple[str, int]:
        digest, size = hash_file(source)
        if not self.exists(digest):
            self._call(self._fs.put_file, str(source), self._key(digest))
        return digest, size

    def get_bytes(self, digest: str) -> bytes:
        try:
            data = self._fs.cat_file(self._key(digest))
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not in {self.url}") from None
        except OSError as exc:
            raise StoreError(f"cannot read blob {digest} from {self.url}: {exc}") from exc
        if hash_bytes(data) != digest:
            raise IntegrityError(f"blob {digest} in {self.url} is corrupted")
        return data

    def get_file(self, digest: str, destination: str | Path) -> Path:
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        tmp = destination.with_name(f".yard-{destination.name}.part")
        try:
            self._fs.get_file(self._key(digest), str(tmp))
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not in {self.url}") from None
        if hash_file(tmp)[0] != digest:
            tmp.unlink()
            raise IntegrityError(f"blob {digest} in {self.url} is corrupted")
        tmp.replace(destination)
        return destination

    def _call(self, fn, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            fn(*args)
        except OSError as exc:
            raise StoreError(f"cannot write to blob store {self.url}: {exc}") from exc
