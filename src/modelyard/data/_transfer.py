"""Moving a version's bytes: materialising it into a folder, pushing to and pulling from remotes.

Every byte that leaves a blob store is verified against its digest on the way: a corrupted
blob (or a corrupted slice of a pack) raises IntegrityError naming the blob and the file.
"""

from __future__ import annotations

import collections
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from modelyard.blobs import BlobStore, LocalBlobStore, hash_bytes, hash_file
from modelyard.data._manifest import Entry, Manifest
from modelyard.errors import AlreadyExists, IntegrityError, InvalidValue, StoreError

TRANSFER_THREADS = 8


@dataclass(frozen=True, slots=True)
class TransferResult:
    """What a push or pull moved: blobs (and their bytes) copied, and blobs already there."""

    copied: int
    copied_bytes: int
    present: int


def safe_target(destination: Path, path: str) -> Path:
    """Where ``path`` of a manifest goes below ``destination``; refuses escapes."""
    parts = path.split("/")
    if not path or path.startswith("/") or "\0" in path or any(p in ("", ".", "..") for p in parts):
        raise IntegrityError(
            f"manifest path {path!r} would leave the destination folder; the manifest is "
            "damaged or was not written by modelyard"
        )
    return destination.joinpath(*parts)


def materialise(
    blobs: BlobStore, manifest: Manifest, destination: Path, *, link: bool, force: bool, label: str
) -> list[Path]:
    """Write every file of ``manifest`` below ``destination`` and return their paths.

    Files stored as blobs of their own are hard-linked from a local store when ``link`` (after
    their bytes are verified), else copied; packed files are sliced out of their verified pack.
    """
    targets = {e.path: safe_target(destination, e.path) for e in manifest.entries}
    if not force:
        existing = [p for p, t in targets.items() if t.exists() or t.is_symlink()]
        if existing:
            raise AlreadyExists(
                f"{destination} already holds {len(existing)} of the files of {label} "
                f"(e.g. {existing[0]}); pick an empty folder or pass --force to overwrite them"
            )
    try:
        destination.mkdir(parents=True, exist_ok=True)
        for folder in {t.parent for t in targets.values()}:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {destination}: {exc.strerror}") from exc
    packs: dict[str, list[Entry]] = collections.defaultdict(list)
    singles = []
    for e in manifest.entries:
        (packs[e.pack] if e.pack else singles).append(e)
    local = blobs if isinstance(blobs, LocalBlobStore) else None
    for e in singles:
        target = targets[e.path]
        if link and local is not None and _link(local, e, target, label):
            continue
        _replace_with(target, lambda tmp, e=e: blobs.get_file(e.digest, tmp))
    for pack, entries in packs.items():
        data = _pack_bytes(blobs, pack, entries, label)
        for e in entries:
            piece = data[e.offset : e.offset + e.size]
            if len(piece) != e.size or hash_bytes(piece) != e.digest:
                raise IntegrityError(
                    f"{e.path} of {label} is corrupted in pack {pack}: its bytes no longer "
                    f"hash to {e.digest}. Pull the version again from a remote"
                )
            _write(targets[e.path], piece)
    return [targets[e.path] for e in manifest.entries]


def _pack_bytes(blobs: BlobStore, pack: str, entries: list[Entry], label: str) -> bytes:
    try:
        return blobs.get_bytes(pack)
    except IntegrityError as exc:
        raise IntegrityError(
            f"{exc} (it holds {len(entries)} files of {label}, e.g. {entries[0].path})"
        ) from exc


def _link(local: LocalBlobStore, e: Entry, target: Path, label: str) -> bool:
    """Hard-link a verified blob to ``target``; False when links are not possible here."""
    source = local.path(e.digest)
    try:
        digest, _ = hash_file(source)
    except FileNotFoundError:
        return False  # get_file raises the proper BlobNotFound
    if digest != e.digest:
        raise IntegrityError(
            f"blob {e.digest} ({e.path} of {label}) in {local.root} is corrupted: its bytes no "
            f"longer hash to its digest. Pull the version again from a remote, or delete "
            f"{source} and add the data again"
        )
    tmp = target.with_name(f".{target.name}.yard-link")
    try:
        tmp.unlink(missing_ok=True)
        os.link(source, tmp)
        os.replace(tmp, target)
        return True
    except OSError:
        tmp.unlink(missing_ok=True)
        return False


def _replace_with(target: Path, fetch) -> None:  # type: ignore[no-untyped-def]
    if target.is_symlink() or (target.exists() and not os.access(target, os.W_OK)):
        target.unlink()  # a read-only hard link from an earlier get: replace, never write into
    fetch(target)


def _write(target: Path, data: bytes) -> None:
    try:
        if target.exists() or target.is_symlink():
            target.unlink()
        with open(target, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror}") from exc


def push(local: BlobStore, remote: BlobStore, digests: Iterable[str]) -> TransferResult:
    """Copy the blobs the remote lacks; verify what arrives is what was meant."""
    wanted = sorted(set(digests))
    with ThreadPoolExecutor(TRANSFER_THREADS, thread_name_prefix="yard-push") as pool:
        present = list(pool.map(remote.exists, wanted))
        missing = [d for d, here in zip(wanted, present, strict=True) if not here]
        sizes = list(pool.map(lambda d: _upload(local, remote, d), missing))
    return TransferResult(len(missing), sum(sizes), len(wanted) - len(missing))


def _upload(local: BlobStore, remote: BlobStore, digest: str) -> int:
    if isinstance(local, LocalBlobStore):
        path = local.path(digest)
        if not path.is_file():
            local.get_bytes(digest)  # raises BlobNotFound with the usual advice
        got, size = remote.put_file(path)
    else:
        got, size = remote.put_bytes(local.get_bytes(digest))
    if got != digest:
        raise IntegrityError(
            f"blob {digest} in the workspace store {local.url} is corrupted (its bytes hash to "
            f"{got}); it was not pushed. Pull it from another remote or add the data again"
        )
    return size


def pull(local: BlobStore, remote: BlobStore, digests: Iterable[str]) -> TransferResult:
    """Copy the blobs the workspace store lacks from ``remote``, verified on arrival."""
    wanted = sorted(set(digests))
    with ThreadPoolExecutor(TRANSFER_THREADS, thread_name_prefix="yard-pull") as pool:
        present = list(pool.map(local.exists, wanted))
        missing = [d for d, here in zip(wanted, present, strict=True) if not here]
        sizes = list(pool.map(lambda d: _download(local, remote, d), missing))
    return TransferResult(len(missing), sum(sizes), len(wanted) - len(missing))


def _download(local: BlobStore, remote: BlobStore, digest: str) -> int:
    with tempfile.TemporaryDirectory(prefix="yard-pull-") as folder:
        spooled = Path(folder) / "blob"
        remote.get_file(digest, spooled)  # verifies the digest; IntegrityError names the blob
        got, size = local.put_file(spooled)
    if got != digest:
        raise IntegrityError(f"blob {digest} changed on its way into {local.url}; pull again")
    return size


def check_remote(url: str) -> str:
    if not url or not url.strip():
        raise InvalidValue(
            "give a remote: a folder or an fsspec URL such as s3://bucket/yard", field="remote"
        )
    return url.strip()
