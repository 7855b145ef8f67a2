"""Manifests: the immutable file listing of a version, stored as a JSON blob.

Each entry names a file's path inside the version, the digest and size of its bytes, and where
those bytes are: in a blob of their own, or at ``offset`` inside a *pack* (a blob that
concatenates many small files, so that adding 10,000 small files writes a few large files
instead of 10,000 tiny ones). Where bytes are stored does not change what a version *is*: its
content digest covers paths, digests and sizes only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from modelyard.blobs import hash_bytes
from modelyard.domain.datasets import DatasetKind
from modelyard.errors import IntegrityError

FORMAT = "modelyard.manifest/2"
FORMAT_1 = "modelyard.manifest/1"  # still read: versions recorded before format 2


class Entry(NamedTuple):
    """One file of a version. A named tuple: a 10,000-file version makes 10,000 of them on
    every add and read, and a frozen dataclass costs several times more to build."""

    path: str
    digest: str
    size: int
    pack: str | None = None  # the pack blob holding the bytes, or None for a blob of its own
    offset: int = 0

    @property
    def location(self) -> tuple[str | None, int]:
        return (self.pack, self.offset)


@dataclass(frozen=True, slots=True)
class Manifest:
    kind: DatasetKind
    entries: tuple[Entry, ...]

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def content_digest(self) -> str:
        lines = "".join(f"{e.path}\0{e.digest}\0{e.size}\n" for e in self.entries)
        return hash_bytes(f"{self.kind.value}\n{lines}".encode())

    def blobs(self) -> set[str]:
        """Every blob the version's bytes live in (packs and single-file blobs)."""
        return {e.pack or e.digest for e in self.entries}

    def by_path(self) -> dict[str, Entry]:
        return {e.path: e for e in self.entries}

    def to_json(self) -> bytes:
        """Format 2: each file is ``[path, digest, size]``, plus ``pack, offset`` for a file
        inside a pack, where ``pack`` indexes the ``packs`` list. Half the bytes of format 1
        (an object per file, the pack digest repeated) and half the time to write or read."""
        names = list(dict.fromkeys(e.pack for e in self.entries if e.pack is not None))
        packs = {pack: i for i, pack in enumerate(names)}
        files = [
            [e.path, e.digest, e.size]
            if e.pack is None
            else [e.path, e.digest, e.size, packs[e.pack], e.offset]
            for e in self.entries
        ]
        body = {"format": FORMAT, "kind": self.kind.value, "packs": names, "files": files}
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes, digest: str) -> Manifest:
        try:
            body = json.loads(data)
            if body.get("format") == FORMAT:
                packs = body["packs"]
                entries = tuple(
                    Entry(f[0], f[1], int(f[2]), packs[f[3]], int(f[4]))
                    if len(f) == 5
                    else Entry(f[0], f[1], int(f[2]))
                    for f in body["files"]
                )
            elif body.get("format") == FORMAT_1:
                entries = tuple(
                    Entry(
                        f["path"],
                        f["digest"],
                        int(f["size"]),
                        f.get("pack"),
                        int(f.get("offset", 0)),
                    )
                    for f in body["files"]
                )
            else:
                raise ValueError(f"unknown format {body.get('format')!r}")
            return cls(DatasetKind(body["kind"]), entries)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise IntegrityError(
                f"manifest {digest} is not a modelyard manifest ({exc}); it was written by a "
                "newer modelyard or damaged"
            ) from exc
