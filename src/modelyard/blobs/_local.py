"""Blob store in a local folder: sharded, atomic (temp file, fsync, rename), verified reads."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from modelyard.blobs.hashing import (
    CHUNK,
    check_digest,
    format_digest,
    hash_bytes,
    hash_file,
    new_hasher,
)
from modelyard.errors import BlobNotFound, IntegrityError, StoreError


class LocalBlobStore:
    """Blobs under ``root/blake3/ab/cd/<hex>``; temporary files under ``root/tmp``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.url = str(self.root)
        self._tmp = self.root / "tmp"

    def path(self, digest: str) -> Path:
        algorithm, hexdigest = check_digest(digest).split(":", 1)
        return self.root / algorithm / hexdigest[:2] / hexdigest[2:4] / hexdigest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        if not self.exists(digest):
            self._commit(digest, lambda f: f.write(data))
        return digest, len(data)

    def put_file(self, source: str | Path) -> tuple[str, int]:
        """Store a file's bytes; bytes already stored are not copied again."""
        digest, size = hash_file(source)
        if not self.exists(digest):
            with open(source, "rb") as src:
                self._commit(digest, lambda f: shutil.copyfileobj(src, f, CHUNK))
        return digest, size

    def get_bytes(self, digest: str) -> bytes:
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not in {self.root}") from None
        if hash_bytes(data) != digest:
            raise IntegrityError(
                f"blob {digest} in {self.root} is corrupted (its bytes no longer match the "
                "digest); restore it from a remote or re-log the artifact"
            )
        return data

    def get_file(self, digest: str, destination: str | Path) -> Path:
        """Copy a blob to ``destination`` atomically, verifying its digest on the way."""
        source = self.path(digest)
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".yard-")
        hasher = new_hasher()
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
                while chunk := src.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
            if format_digest(hasher) != digest:
                raise IntegrityError(
                    f"blob {digest} in {self.root} is corrupted; restore it from a remote"
                )
            os.replace(tmp, destination)
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} is not in {self.root}") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return destination

    def _commit(self, digest: str, write) -> None:  # type: ignore[no-untyped-def]
        final = self.path(digest)
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._tmp)
            try:
                with os.fdopen(fd, "wb") as f:
                    write(f)
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(tmp, 0o444)
                os.replace(tmp, final)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            _fsync_dir(final.parent)
        except OSError as exc:
            raise StoreError(f"cannot write blob to {self.root}: {exc.strerror or exc}") from exc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
