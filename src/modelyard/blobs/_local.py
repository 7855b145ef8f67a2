"""Blob store in a local folder: sharded, atomic (temp file, fsync, rename), verified reads.

A blob is written to a private temporary file under ``root/tmp`` while it is hashed, fsynced,
made read-only and only then renamed to ``root/blake3/ab/cd/<hex>``. A process killed mid-write
leaves at most an orphan ``root/tmp/.blob.*.part`` file; the final path holds complete, verified
bytes or nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from modelyard.blobs._files import (
    create_temp,
    fsync_dir,
    iter_chunks,
    make_dirs,
    open_source,
    reason,
    write_verified,
)
from modelyard.blobs.hashing import (
    blob_key,
    corrupted,
    format_digest,
    hash_bytes,
    hash_stream,
    new_hasher,
)
from modelyard.errors import BlobNotFound, StoreError


class LocalBlobStore:
    """Blobs under ``root/blake3/ab/cd/<hex>``, read-only; temporary files under ``root/tmp``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.url = str(self.root)
        self._tmp = self.root / "tmp"

    def __repr__(self) -> str:
        return f"LocalBlobStore({self.url!r})"

    def path(self, digest: str) -> Path:
        """Where the blob ``digest`` is (or would be) stored."""
        return self.root / blob_key(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        if self.exists(digest):
            return digest, len(data)
        return self._commit([data])

    def put_file(self, source: str | Path) -> tuple[str, int]:
        """Store a file's bytes; bytes already stored are not copied again.

        The file is read in chunks (twice when its bytes are new: once to hash, once to copy),
        never held in memory whole. If it changes between the two reads, StoreError is raised
        and nothing is stored.
        """
        with open_source(source) as src:
            digest, size = hash_stream(src)
            if self.exists(digest):
                return digest, size
            src.seek(0)
            return self._commit(iter_chunks(src), expected=digest, source=source)

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Store everything ``stream.read()`` returns, read in chunks."""
        return self._commit(iter_chunks(stream))

    def get_bytes(self, digest: str) -> bytes:
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise self._not_found(digest) from None
        except OSError as exc:
            raise StoreError(f"cannot read blob {digest} from {self.root}: {reason(exc)}") from exc
        if hash_bytes(data) != digest:
            raise corrupted(digest, str(self.root), str(path))
        return data

    def get_file(self, digest: str, destination: str | Path) -> Path:
        """Copy a blob to ``destination`` atomically, verifying its digest on the way.

        On any error (missing or corrupted blob, failed write) ``destination`` is left as it
        was and no partial file is left next to it.
        """
        path = self.path(digest)
        destination = Path(destination)
        try:
            src = open(path, "rb")  # noqa: SIM115 - closed by the with block below
        except FileNotFoundError:
            raise self._not_found(digest) from None
        except OSError as exc:
            raise StoreError(f"cannot read blob {digest} from {self.root}: {reason(exc)}") from exc
        with src:
            try:
                verified = write_verified(iter_chunks(src), digest, destination)
            except OSError as exc:
                raise StoreError(
                    f"cannot copy blob {digest} to {destination}: {reason(exc)}"
                ) from exc
        if not verified:
            raise corrupted(digest, str(self.root), str(path))
        return destination

    def _commit(
        self,
        chunks: Iterable[bytes],
        *,
        expected: str | None = None,
        source: str | Path | None = None,
    ) -> tuple[str, int]:
        """Write ``chunks`` to a temp file while hashing them, then rename it into place."""
        try:
            make_dirs(self._tmp)
            fd, tmp = create_temp(self._tmp, "blob")
        except OSError as exc:
            raise StoreError(f"cannot write blob to {self.root}: {reason(exc)}") from exc
        try:
            hasher = new_hasher()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = format_digest(hasher)
            if expected is not None and digest != expected:
                raise StoreError(
                    f"{source} changed while it was being stored; nothing was stored. "
                    "Store it again once nothing is writing to it"
                )
            final = self.path(digest)
            if not final.is_file():
                os.chmod(tmp, 0o444)
                make_dirs(final.parent)
                os.replace(tmp, final)
                fsync_dir(final.parent)
            return digest, size
        except OSError as exc:
            raise StoreError(f"cannot write blob to {self.root}: {reason(exc)}") from exc
        finally:
            tmp.unlink(missing_ok=True)

    def _not_found(self, digest: str) -> BlobNotFound:
        return BlobNotFound(
            f"blob {digest} is not in {self.root}; check that this is the blob store the "
            "metadata was recorded with (YARD_BLOBS)"
        )
