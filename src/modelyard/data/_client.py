"""DataClient: datasets and versions against one workspace (metadata store + blob store)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelyard.blobs import open_blob_store
from modelyard.data import _transfer
from modelyard.data._cache import (
    LocalCache,
    Recorded,
    SourceSnapshot,
    cache_dir,
    snapshot_files,
    trusted,
)
from modelyard.data._fingerprint import RawStat
from modelyard.data._ingest import IngestStats, changed, ingest
from modelyard.data._manifest import Entry, Manifest
from modelyard.data._profile import profile_file, profile_table, read_table, tabular_format
from modelyard.data._scan import FileStat, file_stats, scan
from modelyard.data._status import DataStatus, compare, indexed_status
from modelyard.domain.datasets import (
    Dataset,
    DatasetKind,
    DatasetVersion,
    NewDatasetVersion,
    TableProfile,
    VersionAdded,
)
from modelyard.domain.uris import DatasetRef, check_dataset_name, parse_dataset_ref
from modelyard.errors import BlobNotFound, DatasetNotFound, InvalidValue
from modelyard.store.direct import open_version_writer
from modelyard.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from modelyard.blobs import BlobStore
    from modelyard.data._diff import DatasetDiff
    from modelyard.domain.records import LineageEdge
    from modelyard.store.base import MetadataStore

USED_BY = "used_by"
PRODUCED = "produced"
Progress = Callable[[int, int], None]  # (bytes done, bytes to read)


@dataclass(frozen=True, slots=True)
class AddResult:
    """``created`` is False when the content equals the latest version (nothing recorded)."""

    version: DatasetVersion
    created: bool
    files: int
    files_read: int
    bytes_read: int
    seconds: float


@dataclass(frozen=True, slots=True)
class VersionDetails:
    version: DatasetVersion
    entries: tuple[Entry, ...]
    used_by: tuple[LineageEdge, ...]  # runs (and later pipelines) that used this version
    produced_by: tuple[LineageEdge, ...]


class DataClient:
    """Explicit entry point to data versioning; ``yard.use_dataset`` & co. are built on it."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.cache_dir = cache_dir(workspace.settings.root)

    @property
    def store(self) -> MetadataStore:
        return self.workspace.store

    @property
    def blobs(self) -> BlobStore:
        return self.workspace.blobs

    # -- recording ----------------------------------------------------------------------------

    def add(
        self,
        source: str | os.PathLike[str],
        name: str,
        *,
        message: str = "",
        progress: Progress | None = None,
        profile: TableProfile | None = None,
        record_source: bool = True,
        walked: tuple[list[RawStat], bool] | None = None,
    ) -> AddResult:
        """Version a file or a folder as the next version of ``name``.

        Content equal to the latest version records nothing (``created`` is False). ``walked``
        is what ``walk(source)`` returned, when the caller walked it already.
        """
        started = time.perf_counter()
        check_dataset_name(name)
        path = Path(source)
        files, single = scan(path) if walked is None else (file_stats(walked[0]), walked[1])
        source_key = os.path.realpath(path)
        versions = self._version_writer()
        store = self.workspace.settings.uri
        with contextlib.closing(versions), LocalCache(self.cache_dir) as cache:
            previous = versions.latest(name)
            snapshot = cache.source(source_key, store)
            entries, stats, untrusted = self._store_files(
                files, source_key, previous, cache, snapshot, progress, not record_source
            )
            manifest = Manifest(DatasetKind.FILE if single else DatasetKind.FOLDER, tuple(entries))
            content = manifest.content_digest
            if previous is not None and previous.content_digest == content:
                version, created = previous, False
            else:
                if profile is None and single and tabular_format(files[0].path):
                    profile = profile_file(files[0].absolute)
                    if os.stat(files[0].absolute).st_mtime_ns != files[0].mtime_ns:
                        raise changed(files[0].absolute)
                manifest_digest, _ = self.blobs.put_bytes(manifest.to_json())
                added = versions.add_version(
                    NewDatasetVersion(
                        dataset=name,
                        content_digest=content,
                        manifest_digest=manifest_digest,
                        kind=manifest.kind,
                        message=message,
                        author=versions.actor,
                        total_size=manifest.total_size,
                        file_count=len(entries),
                        source=source_key if record_source else "",
                        profile=profile,
                    )
                )
                version, created = added.version, added.created
            if record_source:
                rows = snapshot_files(files, entries, untrusted)
                cache.save_source(SourceSnapshot(source_key, store, version, rows))
        return self._result(version, created, files, stats, started)

    def _store_files(
        self,
        files: list[FileStat],
        source_key: str,
        previous: DatasetVersion | None,
        cache: LocalCache,
        snapshot: SourceSnapshot | None,
        progress: Progress | None,
        remember_stats: bool,
    ) -> tuple[list[Entry], IngestStats, set[str]]:
        """Store the bytes the blob store lacks; the entries, what was read, and the paths
        whose stat cannot be trusted later (modified too close to their read). The stat cache
        learns what was read when ``remember_stats`` (else the source's snapshot keeps it)."""
        reused: dict[str, Entry] = {}
        if snapshot is None:
            cached, known = cache.stats(source_key), self._known_locations(previous)
        else:  # the last add from here knows each unchanged file's digest and location
            cached, (reused, known) = {}, self._reuse(files, snapshot)
            if previous is not None and previous.content_digest != snapshot.version.content_digest:
                known.update(self._known_locations(previous))
        rest = [f for f in files if f.path not in reused] if reused else files
        total = sum(f.size for f in rest)
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], total)

        entries, stats, updates = ingest(
            rest, self.blobs, cached, known, progress=advance if progress else None
        )
        if remember_stats:
            cache.save_stats(updates)
        if reused:
            reused.update((e.path, e) for e in entries)
            entries = [reused[f.path] for f in files]
        untrusted = {f.path for f, _, read_ns in updates if not trusted(f, read_ns)}
        return entries, stats, untrusted

    def add_frame(
        self, frame: pd.DataFrame, name: str, *, message: str = "", file_name: str | None = None
    ) -> AddResult:
        """Version a pandas DataFrame as one Parquet file (``<name>.parquet``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        check_dataset_name(name)
        try:
            table = pa.Table.from_pandas(frame)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InvalidValue(
                f"cannot store this DataFrame as Parquet: {exc}; give columns one type each",
                field="frame",
            ) from exc
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="yard-frame-", dir=self.cache_dir) as folder:
            path = Path(folder) / (file_name or f"{name}.parquet")
            pq.write_table(table, path)
            return self.add(
                path,
                name,
                message=message,
                profile=profile_table(table, "parquet"),
                record_source=False,
            )

    # -- reading ------------------------------------------------------------------------------

    def list(self) -> list[Dataset]:
        return self.store.datasets.list()

    def versions(self, name: str) -> list[DatasetVersion]:
        return self.store.datasets.versions(name)

    def resolve(self, ref: str | DatasetRef) -> DatasetVersion:
        return self.store.datasets.resolve(_ref(ref))

    def manifest(self, version: DatasetVersion) -> Manifest:
        try:
            data = self.blobs.get_bytes(version.manifest_digest)
        except BlobNotFound as exc:
            raise BlobNotFound(
                f"the manifest of {version.uri} ({version.manifest_digest}) is not in the blob "
                f"store {self.blobs.url}; `yard data pull {version.dataset}@{version.number} "
                "--remote <url>` fetches it"
            ) from exc
        return Manifest.from_json(data, version.manifest_digest)

    def show(self, ref: str | DatasetRef) -> VersionDetails:
        version = self.resolve(ref)
        manifest = self.manifest(version)
        lineage = self.store.lineage
        return VersionDetails(
            version,
            manifest.entries,
            tuple(lineage.downstream(version.uri)),
            tuple(lineage.upstream(version.uri)),
        )

    def diff(self, old: str | DatasetRef, new: str | DatasetRef) -> DatasetDiff:
        from modelyard.data._diff import diff_versions

        a, b = self.resolve(old), self.resolve(new)
        return diff_versions(a, self.manifest(a), b, self.manifest(b))

    def get(
        self,
        ref: str | DatasetRef,
        destination: str | os.PathLike[str],
        *,
        link: bool = True,
        force: bool = False,
    ) -> list[Path]:
        """Materialise a version below ``destination``: hard links where possible, else copies.

        Hard-linked files share the store's read-only bytes: copy one before editing it, or
        pass ``link=False``.
        """
        version = self.resolve(ref)
        return _transfer.materialise(
            self.blobs,
            self.manifest(version),
            Path(destination),
            link=link,
            force=force,
            label=version.uri,
        )

    def status(
        self, source: str | os.PathLike[str], ref: str | DatasetRef | None = None
    ) -> DataStatus:
        """What changed on disk since ``ref`` (default: the version last added from here)."""
        store = self.workspace.settings.uri
        path = Path(source)
        files, _ = scan(path)
        source_key = os.path.realpath(path)
        with LocalCache(self.cache_dir) as cache:
            if ref is None:
                indexed = indexed_status(cache, store, source_key, files)
                if indexed is not None:
                    return indexed
            version = self.resolve(ref) if ref is not None else self._added_from(source_key)
            entries = self.manifest(version).entries
            if version.kind is DatasetKind.FILE and len(files) == 1 and len(entries) == 1:
                entries = (Entry(files[0].path, entries[0].digest, entries[0].size),)  # renamed
            recorded = {e.path: Recorded(e.digest, e.size, 0, 0, e.pack, e.offset) for e in entries}
            result, refreshed = compare(files, version, recorded, cache)
            if ref is None and refreshed is not None:  # the next status needs no store
                cache.save_source(SourceSnapshot(source_key, store, version, refreshed))
        return result

    def _added_from(self, source_key: str) -> DatasetVersion:
        found = self.store.datasets.find_by_source(source_key)
        if found is None:
            raise DatasetNotFound(
                f"no dataset version was added from {source_key}; pass the dataset name "
                "(yard data status <path> --name <dataset>)"
            )
        return found

    # -- remotes ------------------------------------------------------------------------------

    def push(
        self,
        remote: str,
        refs: Iterable[str | DatasetRef] = (),
        *,
        storage_options: Mapping[str, Any] | None = None,
    ) -> _transfer.TransferResult:
        """Upload the blobs of ``refs`` (default: every version) that ``remote`` lacks."""
        target = open_blob_store(_transfer.check_remote(remote), storage_options=storage_options)
        digests: set[str] = set()
        for version in self._selected(refs):
            digests.add(version.manifest_digest)
            digests |= self.manifest(version).blobs()
        return _transfer.push(self.blobs, target, digests)

    def pull(
        self,
        refs: Iterable[str | DatasetRef],
        remote: str,
        *,
        storage_options: Mapping[str, Any] | None = None,
    ) -> _transfer.TransferResult:
        """Download what the workspace store lacks of ``refs`` from ``remote``, verified."""
        source = open_blob_store(_transfer.check_remote(remote), storage_options=storage_options)
        versions = self._selected(refs)
        first = _transfer.pull(self.blobs, source, {v.manifest_digest for v in versions})
        digests: set[str] = set()
        for version in versions:
            digests |= self.manifest(version).blobs()
        rest = _transfer.pull(self.blobs, source, digests)
        return _transfer.TransferResult(
            first.copied + rest.copied,
            first.copied_bytes + rest.copied_bytes,
            first.present + rest.present,
        )

    # -- use in runs --------------------------------------------------------------------------

    def use(self, ref: str | DatasetRef, *, consumer: str | None = None) -> Path:
        """A local path to the version (cached under ``.yard/cache``); with ``consumer``
        (e.g. ``runs:/<id>``) the lineage edge ``data:name@n -used_by-> consumer`` is recorded.

        A single-file version gives the file's path, a folder version the folder's.
        """
        version = self.resolve(ref)
        if consumer is not None:
            self.store.lineage.add(version.uri, consumer, USED_BY)
        folder = self.checkout(version)
        if version.kind is DatasetKind.FILE:
            (entry,) = self.manifest(version).entries
            return folder / entry.path
        return folder

    def load(self, ref: str | DatasetRef, *, consumer: str | None = None) -> pd.DataFrame:
        """A tabular version (Parquet/CSV file, or a folder of Parquet files) as a DataFrame."""
        path = self.use(ref, consumer=consumer)
        if path.is_file():
            return read_table(path).to_pandas()
        import pyarrow as pa

        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name != ".complete")
        if not files or any(tabular_format(p) != "parquet" for p in files):
            raise InvalidValue(
                f"{ref} is a folder that is not all Parquet files; use use_dataset() for its "
                "path and read the files yourself",
                field="dataset",
            )
        return pa.concat_tables([read_table(p) for p in files]).to_pandas()

    def record_output(self, producer: str, version: DatasetVersion) -> LineageEdge:
        """Record ``producer -produced-> data:name@n`` (e.g. a run that wrote the data)."""
        return self.store.lineage.add(producer, version.uri, PRODUCED)

    def checkout(self, version: DatasetVersion) -> Path:
        """The version materialised (once) in the workspace cache; returns its folder."""
        folder = self.cache_dir / "data" / version.dataset / str(version.number)
        marker = folder / ".complete"
        if marker.exists():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.with_name(f".{version.number}.{os.urandom(4).hex()}")
        try:
            _transfer.materialise(
                self.blobs,
                self.manifest(version),
                staging,
                link=True,
                force=False,
                label=version.uri,
            )
            (staging / ".complete").write_text(version.content_digest + "\n")
            try:
                os.rename(staging, folder)
            except OSError:
                if not marker.exists():  # not another process finishing first: a real error
                    shutil.rmtree(folder, ignore_errors=True)
                    os.rename(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return folder

    # -- helpers ------------------------------------------------------------------------------

    def _version_writer(self) -> VersionWriter:
        """Where ``add`` reads the latest version and records the next: straight into an
        embedded SQLite file when the full store is not open yet (see ``store.direct``)."""
        settings = self.workspace.settings
        if not self.workspace.store_opened:
            direct = open_version_writer(settings.uri, settings.actor)
            if direct is not None:
                return direct
        return _StoreVersions(self.store)

    def _reuse(
        self, files: list[FileStat], snapshot: SourceSnapshot
    ) -> tuple[dict[str, Entry], dict[str, tuple[str | None, int]]]:
        """From the snapshot of the last add: the entries of ``files`` whose stat it vouches
        for (nothing to read), and where its bytes are; both only for blobs still stored."""
        rows = snapshot.files
        present = {b for b in {r.pack or r.digest for r in rows.values()} if self.blobs.exists(b)}
        known = {
            r.digest: (r.pack, r.offset) for r in rows.values() if (r.pack or r.digest) in present
        }
        reused = {}
        for f in files:
            r = rows.get(f.path)
            if (
                r is not None
                and (r.ino, r.size, r.mtime_ns) == f.key
                and (r.pack or r.digest) in present
            ):
                reused[f.path] = Entry(f.path, r.digest, f.size, r.pack, r.offset)
        return reused, known

    def _known_locations(
        self, previous: DatasetVersion | None
    ) -> dict[str, tuple[str | None, int]]:
        """Where the previous version's bytes are, for the blobs that are still there."""
        if previous is None:
            return {}
        try:
            manifest = self.manifest(previous)
        except BlobNotFound:
            return {}
        present = {b for b in manifest.blobs() if self.blobs.exists(b)}
        return {e.digest: e.location for e in manifest.entries if (e.pack or e.digest) in present}

    def _selected(self, refs: Iterable[str | DatasetRef]) -> list[DatasetVersion]:
        chosen = [self.resolve(r) for r in refs]
        if chosen:
            return chosen
        return [v for d in self.list() for v in self.versions(d.name)]

    @staticmethod
    def _result(
        version: DatasetVersion, created: bool, files: list, stats: IngestStats, started: float
    ) -> AddResult:  # type: ignore[type-arg]
        return AddResult(
            version,
            created,
            len(files),
            stats.files_read,
            stats.bytes_read,
            time.perf_counter() - started,
        )


class VersionWriter(Protocol):
    actor: str

    def latest(self, name: str) -> DatasetVersion | None: ...
    def add_version(self, new: NewDatasetVersion) -> VersionAdded: ...
    def close(self) -> None: ...


class _StoreVersions:
    """``VersionWriter`` over any metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self._datasets = store.datasets
        self.actor = store.actor

    def latest(self, name: str) -> DatasetVersion | None:
        try:
            return self._datasets.resolve(DatasetRef(name))
        except DatasetNotFound:
            return None

    def add_version(self, new: NewDatasetVersion) -> VersionAdded:
        return self._datasets.add_version(new)

    def close(self) -> None:
        pass  # the workspace owns the store


def _ref(ref: str | DatasetRef) -> DatasetRef:
    return ref if isinstance(ref, DatasetRef) else parse_dataset_ref(ref)
