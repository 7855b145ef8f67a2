"""Local file plumbing shared by the blob stores: chunked reads, private temp files, atomic rename.

A file that other code may look at is only ever created by renaming a complete, fsynced
temporary file onto it, so a crash or an error leaves either the old state or the new one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from modelyard.blobs.hashing import CHUNK, format_digest, new_hasher
from modelyard.errors import InvalidValue

_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def iter_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's bytes in pieces of at most ``CHUNK``; never the whole stream at once."""
    while chunk := stream.read(CHUNK):
        yield chunk


def open_source(source: str | Path) -> BinaryIO:
    """Open a file the caller asked to store; a missing or unreadable file is the caller's error."""
    try:
        return open(source, "rb")
    except OSError as exc:
        raise InvalidValue(f"cannot read {source}: {reason(exc)}", field="source") from exc


def reason(exc: OSError) -> str:
    """The short text of an OS error, without the errno number."""
    return exc.strerror or str(exc)


def create_temp(folder: Path, hint: str) -> tuple[int, Path]:
    """A new empty file in ``folder`` that no other writer uses; its mode follows the umask."""
    stem = hint[:80]
    for _ in range(100):
        path = folder / f".{stem}.{os.urandom(8).hex()}.part"
        try:
            return os.open(path, _TEMP_FLAGS | getattr(os, "O_BINARY", 0), 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot find a free temporary file name in {folder}")


def make_dirs(folder: Path) -> None:
    """``mkdir -p``, syncing the parent of every folder created so it survives a crash."""
    missing = []
    current = folder
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make renames and new entries in ``folder`` durable (a no-op where unsupported)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_verified(chunks: Iterable[bytes], digest: str, destination: Path) -> bool:
    """Write ``chunks`` to ``destination`` if they hash to ``digest``.

    Returns False, leaving ``destination`` untouched and no temporary file behind, when they
    do not; raises OSError (also with nothing left behind) when writing fails.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp(destination.parent, destination.name)
    try:
        hasher = new_hasher()
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                hasher.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if format_digest(hasher) != digest:
            return False
        os.replace(tmp, destination)
        return True
    finally:
        tmp.unlink(missing_ok=True)
