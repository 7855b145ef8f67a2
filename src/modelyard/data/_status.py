"""``yard data status``: how a folder or file on disk differs from a recorded version.

The comparison runs against a snapshot (the version's files with the inode, size and mtime
they had when last seen). A file whose stat matches its snapshot row is unchanged without
being read; a different size is a change without being read; only a file that kept its size
but changed inode or mtime is hashed (or looked up in the stat cache) to find out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from modelyard.data._cache import LocalCache, Recorded, SourceSnapshot, trusted
from modelyard.data._fingerprint import RawStat, walk_signature
from modelyard.data._scan import FileStat, file_stats, scan
from modelyard.domain.datasets import DatasetVersion


@dataclass(frozen=True, slots=True)
class DataStatus:
    """How a folder or file on disk differs from a recorded version."""

    version: DatasetVersion
    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]
    unchanged: int
    files_read: int

    @property
    def clean(self) -> bool:
        return not (self.added or self.removed or self.modified)


def status_from_index(
    cache_folder: Path,
    store: str,
    source: str | os.PathLike[str],
    walked: list[RawStat] | None = None,
) -> DataStatus | None:
    """Status of ``source`` (``walked`` already, if given) against the version last added from
    it into ``store`` on this machine, from the local cache alone; None when this workspace
    never added it."""
    files = scan(Path(source))[0] if walked is None else file_stats(walked)
    with LocalCache(cache_folder) as cache:
        return indexed_status(cache, store, os.path.realpath(source), files)


def indexed_status(
    cache: LocalCache, store: str, source: str, files: list[FileStat]
) -> DataStatus | None:
    """Status of the scanned ``files`` of ``source`` against the index in ``cache``; None
    when the index has no snapshot of ``source``."""
    head = cache.source_version(source, store)
    if head is None:
        return None
    version, signature = head
    if signature is not None and signature == walk_signature(files):
        return DataStatus(version, (), (), (), len(files), 0)  # nothing touched: no rows read
    snapshot = cache.source(source, store)
    if snapshot is None:
        return None
    result, refreshed = compare(files, snapshot.version, snapshot.files, cache)
    if refreshed:
        cache.save_source(SourceSnapshot(source, store, snapshot.version, refreshed))
    return result


def compare(
    files: list[FileStat],
    version: DatasetVersion,
    recorded: Mapping[str, Recorded],
    cache: LocalCache,
) -> tuple[DataStatus, dict[str, Recorded] | None]:
    """The status of scanned ``files`` against ``recorded``, and the snapshot rows refreshed
    by what was read (None when nothing new was learnt)."""
    added: list[str] = []
    modified: list[str] = []
    suspects: list[tuple[FileStat, Recorded]] = []
    for f in files:
        row = recorded.get(f.path)
        if row is None:
            added.append(f.path)
        elif (row.ino, row.size, row.mtime_ns) == f.key:
            continue
        elif row.size != f.size:
            modified.append(f.path)
        else:
            suspects.append((f, row))
    on_disk = {f.path for f in files}
    removed = tuple(p for p in recorded if p not in on_disk)
    learnt: dict[str, Recorded] = {}
    files_read = 0
    if suspects:
        digests, files_read = _digests([f for f, _ in suspects], cache)
        for f, row in suspects:
            digest, can_trust = digests[f.path]
            if digest != row.digest:
                modified.append(f.path)
            elif can_trust:  # same bytes, touched: remember the new stat
                learnt[f.path] = row._replace(ino=f.ino, mtime_ns=f.mtime_ns)
        modified.sort()
    refreshed = {**recorded, **learnt} if learnt else None
    unchanged = len(files) - len(added) - len(modified)
    status = DataStatus(
        version, tuple(added), tuple(sorted(removed)), tuple(modified), unchanged, files_read
    )
    return status, refreshed


def _digests(files: list[FileStat], cache: LocalCache) -> tuple[dict[str, tuple[str, bool]], int]:
    """path -> (digest, whether its stat can be trusted later), from the stat cache or by
    reading; and how many files were read."""
    from modelyard.data._ingest import hash_only

    found: dict[str, tuple[str, bool]] = {}
    to_read = []
    for f in files:
        digest = cache.digest(f)
        if digest is None:
            to_read.append(f)
        else:
            found[f.path] = (digest, True)  # the stat cache only holds trusted rows
    read = hash_only(to_read)
    cache.save_stats(read)
    found.update({f.path: (digest, trusted(f, read_ns)) for f, digest, read_ns in read})
    return found, len(to_read)
