"""Contract tests for the blob stores: the same cases on a local folder, memory:// and S3 (moto)."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pytest
from blake3 import blake3

from modelyard.blobs import (
    BlobStore,
    FsspecBlobStore,
    LocalBlobStore,
    hash_file,
    open_blob_store,
)
from modelyard.errors import BlobNotFound, IntegrityError, InvalidValue, StoreError
from s3_server import S3Bucket, s3_bucket, s3_endpoint, s3_env  # noqa: F401 - pytest fixtures

MB = 1 << 20


@dataclass
class Backend:
    """A blob store plus a way to look at and tamper with what it wrote, behind its back."""

    name: str
    store: BlobStore
    keys: Callable[[], list[str]]  # every file or object below the store's root, relative
    overwrite: Callable[[str, bytes], None]  # replace the bytes at a key relative to the root

    def blob_keys(self) -> list[str]:
        return [key for key in self.keys() if key.startswith("blake3/")]


def _local_backend(tmp_path: Path) -> Backend:
    root = tmp_path / "blobs"

    def keys() -> list[str]:
        if not root.exists():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def overwrite(key: str, data: bytes) -> None:
        path = root / key
        path.chmod(0o644)
        path.write_bytes(data)

    return Backend("local", open_blob_store(root), keys, overwrite)


def _memory_backend() -> Backend:
    # fsspec's memory file system is one dict per process: every test needs its own root.
    root = f"/yard-test-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")

    def keys() -> list[str]:
        return sorted(path.removeprefix(f"{root}/") for path in fs.find(root))

    def overwrite(key: str, data: bytes) -> None:
        fs.pipe_file(f"{root}/{key}", data)

    return Backend("memory", open_blob_store(f"memory://{root}"), keys, overwrite)


def _s3_backend(bucket: S3Bucket) -> Backend:
    url = bucket.fresh_url()
    prefix = url.removeprefix(f"s3://{bucket.name}/")

    def keys() -> list[str]:
        return [key.removeprefix(f"{prefix}/") for key in bucket.keys(f"{prefix}/")]

    def overwrite(key: str, data: bytes) -> None:
        bucket.put(f"{prefix}/{key}", data)

    store = open_blob_store(url, storage_options=bucket.storage_options)
    return Backend("s3", store, keys, overwrite)


@pytest.fixture(params=["local", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield _local_backend(tmp_path)
    elif request.param == "memory":
        made = _memory_backend()
        yield made
        fs = fsspec.filesystem("memory")
        for path in fs.find(made.store.url.removeprefix("memory://")):
            fs.rm_file(path)
    else:
        yield _s3_backend(request.getfixturevalue("s3_bucket"))


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where remote stores spool large streams during this test (empty unless one leaks)."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 MB of varied bytes, written a block at a time."""
    path = tmp_path_factory.mktemp("large") / "large.bin"
    block = os.urandom(MB)
    with open(path, "wb") as out:
        for i in range(64):
            out.write(i.to_bytes(4, "big") + block[4:])
    return path


def _digest(data: bytes) -> str:
    return "blake3:" + blake3(data).hexdigest()


def _files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


class FailingStream:
    """Yields ``good`` bytes, then fails the way a dropped connection or full disk would."""

    def __init__(self, good: int) -> None:
        self.left = good

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise RuntimeError("source went away")
        n = self.left if size < 0 else min(size, self.left)
        self.left -= n
        return b"x" * n


class RecordingStream(io.BytesIO):
    """A stream that remembers how much each ``read`` asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.requests: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.requests.append(-1 if size is None else size)
        return super().read(size)


# -- round trips -------------------------------------------------------------------------------


def test_bytes_round_trip(backend: Backend) -> None:
    data = b"churn model weights\x00\xff"
    digest, size = backend.store.put_bytes(data)
    assert (digest, size) == (_digest(data), len(data))
    assert backend.store.exists(digest)
    assert backend.store.get_bytes(digest) == data


def test_file_round_trip(backend: Backend, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"\x01\x02" * 5000)
    digest, size = backend.store.put_file(source)
    assert (digest, size) == (_digest(source.read_bytes()), 10000)
    out = backend.store.get_file(digest, tmp_path / "out" / "nested" / "model.bin")
    assert out == tmp_path / "out" / "nested" / "model.bin"
    assert out.read_bytes() == source.read_bytes()


def test_stream_round_trip(backend: Backend) -> None:
    data = os.urandom(3 * MB + 17)
    digest, size = backend.store.put_stream(io.BytesIO(data))
    assert (digest, size) == (_digest(data), len(data))
    assert backend.store.get_bytes(digest) == data


def test_empty_content_round_trip(backend: Backend, tmp_path: Path) -> None:
    digest, size = backend.store.put_bytes(b"")
    assert (digest, size) == (_digest(b""), 0)
    assert backend.store.get_bytes(digest) == b""
    assert backend.store.get_file(digest, tmp_path / "empty").read_bytes() == b""


def test_get_file_replaces_an_existing_destination(backend: Backend, tmp_path: Path) -> None:
    digest, _ = backend.store.put_bytes(b"new")
    destination = tmp_path / "downloads" / "model.bin"
    destination.parent.mkdir()
    destination.write_bytes(b"old content, longer than the new one")
    backend.store.get_file(digest, destination)
    assert destination.read_bytes() == b"new"
    assert _files_in(destination.parent) == ["model.bin"]


def test_large_file_round_trip(backend: Backend, large_file: Path, tmp_path: Path) -> None:
    expected = hash_file(large_file)
    assert backend.store.put_file(large_file) == expected
    out = backend.store.get_file(expected[0], tmp_path / "large.out")
    assert hash_file(out) == expected


def test_put_stream_reads_in_bounded_chunks(backend: Backend) -> None:
    stream = RecordingStream(b"y" * (5 * MB + 3))
    backend.store.put_stream(stream)
    assert stream.requests
    assert all(0 < size <= 4 * MB for size in stream.requests), stream.requests


# -- content addressing ------------------------------------------------------------------------


def test_same_content_is_stored_once(backend: Backend, tmp_path: Path) -> None:
    data = b"the same bytes" * 100
    source = tmp_path / "copy.bin"
    source.write_bytes(data)
    digests = {
        backend.store.put_bytes(data)[0],
        backend.store.put_bytes(data)[0],
        backend.store.put_file(source)[0],
        backend.store.put_stream(io.BytesIO(data))[0],
    }
    assert digests == {_digest(data)}
    assert len(backend.blob_keys()) == 1
    assert backend.keys() == backend.blob_keys()  # the duplicate writes left no temp files


def test_different_content_is_stored_apart(backend: Backend) -> None:
    first, _ = backend.store.put_bytes(b"a")
    second, _ = backend.store.put_bytes(b"b")
    assert first != second
    assert len(backend.blob_keys()) == 2


def test_blobs_are_laid_out_by_digest(backend: Backend) -> None:
    """The layout is a storage format: existing stores depend on it."""
    data = b"layout"
    hexdigest = blake3(data).hexdigest()
    backend.store.put_bytes(data)
    assert backend.blob_keys() == [f"blake3/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"]


# -- refusing bad content and bad names --------------------------------------------------------


def test_corrupted_blob_is_refused(backend: Backend, tmp_path: Path) -> None:
    data = b"precious weights" * 1000
    digest, _ = backend.store.put_bytes(data)
    [key] = backend.blob_keys()
    backend.overwrite(key, b"X" + data[1:])

    with pytest.raises(IntegrityError, match=digest):
        backend.store.get_bytes(digest)

    downloads = tmp_path / "downloads"
    with pytest.raises(IntegrityError, match=digest):
        backend.store.get_file(digest, downloads / "weights.bin")
    assert _files_in(downloads) == []


def test_corrupted_blob_leaves_existing_destination_alone(backend: Backend, tmp_path: Path) -> None:
    digest, _ = backend.store.put_bytes(b"good")
    [key] = backend.blob_keys()
    backend.overwrite(key, b"evil")
    destination = tmp_path / "downloads" / "weights.bin"
    destination.parent.mkdir()
    destination.write_bytes(b"previous download")
    with pytest.raises(IntegrityError):
        backend.store.get_file(digest, destination)
    assert destination.read_bytes() == b"previous download"
    assert _files_in(destination.parent) == ["weights.bin"]


def test_truncated_blob_is_refused(backend: Backend) -> None:
    digest, _ = backend.store.put_bytes(b"0123456789")
    [key] = backend.blob_keys()
    backend.overwrite(key, b"01234")
    with pytest.raises(IntegrityError, match=digest):
        backend.store.get_bytes(digest)


def test_unknown_digest_is_not_found(backend: Backend, tmp_path: Path) -> None:
    digest = _digest(b"never stored")
    assert not backend.store.exists(digest)
    with pytest.raises(BlobNotFound, match=digest):
        backend.store.get_bytes(digest)
    with pytest.raises(BlobNotFound, match=digest):
        backend.store.get_file(digest, tmp_path / "out" / "x.bin")
    assert _files_in(tmp_path) == []


BAD_DIGESTS = [
    "",
    "blake3:",
    "blake3:" + "a" * 63,
    "blake3:" + "a" * 65,
    "blake3:" + "A" * 64,
    "blake3:" + "g" * 64,
    "sha256:" + "a" * 64,
    "a" * 64,
    "blake3:" + "a" * 64 + "\n",
    " blake3:" + "a" * 64,
    "blake3:../../../../etc/passwd" + "a" * 36,
    "blake3:" + "a" * 62 + "/.",
]


@pytest.mark.parametrize("digest", BAD_DIGESTS)
def test_malformed_digest_is_invalid(backend: Backend, tmp_path: Path, digest: str) -> None:
    with pytest.raises(InvalidValue, match="is not a blob digest"):
        backend.store.exists(digest)
    with pytest.raises(InvalidValue, match="is not a blob digest"):
        backend.store.get_bytes(digest)
    with pytest.raises(InvalidValue, match="is not a blob digest"):
        backend.store.get_file(digest, tmp_path / "out" / "x.bin")
    assert not (tmp_path / "out").exists()


def test_missing_source_file_is_invalid(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="cannot read"):
        backend.store.put_file(tmp_path / "nope.bin")
    assert backend.keys() == []


# -- failures and concurrency ------------------------------------------------------------------


@pytest.mark.parametrize("good", [0, 3 * MB, 17 * MB], ids=["at-once", "small", "spooled"])
def test_failed_write_leaves_nothing_visible(backend: Backend, spool_dir: Path, good: int) -> None:
    with pytest.raises(RuntimeError, match="source went away"):
        backend.store.put_stream(FailingStream(good))
    assert backend.keys() == []  # no blob and, locally, nothing left in root/tmp
    assert list(spool_dir.iterdir()) == []
    digest, _ = backend.store.put_bytes(b"still works")
    assert backend.store.get_bytes(digest) == b"still works"


def test_concurrent_puts_of_same_content_store_one_blob(backend: Backend) -> None:
    data = os.urandom(2 * MB)
    start = threading.Barrier(8)

    def put(_: int) -> tuple[str, int]:
        start.wait()
        return backend.store.put_bytes(data)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(put, range(8)))
    assert results == {(_digest(data), len(data))}
    assert len(backend.blob_keys()) == 1
    assert backend.keys() == backend.blob_keys()  # no temporary files left either
    assert backend.store.get_bytes(_digest(data)) == data


# -- local store specifics ---------------------------------------------------------------------


def test_local_blob_file_is_read_only(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    digest, _ = store.put_bytes(b"immutable")
    mode = store.path(digest).stat().st_mode
    assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0


def test_local_get_file_gives_an_ordinary_file(tmp_path: Path) -> None:
    """Downloads are writable by their owner, unlike the blob they came from."""
    store = LocalBlobStore(tmp_path / "blobs")
    digest, _ = store.put_bytes(b"data")
    out = store.get_file(digest, tmp_path / "out.bin")
    assert out.stat().st_mode & stat.S_IWUSR


def test_local_write_failure_is_a_store_error(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.write_text("a file where the store's folder should be")
    with pytest.raises(StoreError, match="cannot write blob"):
        LocalBlobStore(root).put_bytes(b"data")


_CRASH_CHILD = """
import sys
from modelyard.blobs import LocalBlobStore


class Stalls:
    def __init__(self):
        self.sent = 0

    def read(self, size=-1):
        if self.sent >= 8 * 2**20:
            print("half written", flush=True)
            sys.stdin.read()  # parked here until the parent kills us
        self.sent += size
        return b"z" * size


LocalBlobStore(sys.argv[1]).put_stream(Stalls())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_local_store_survives_a_writer_killed_mid_blob(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASH_CHILD, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"half written\n"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
    assert child.returncode == -signal.SIGKILL

    leftovers = [p.relative_to(root) for p in root.rglob("*") if p.is_file()]
    assert leftovers, "the child should have been killed with a temp file open"
    assert all(p.parts[0] == "tmp" for p in leftovers), leftovers

    store = LocalBlobStore(root)
    data = b"z" * (9 * MB)
    digest, _ = store.put_bytes(data)
    assert store.get_bytes(digest) == data
    assert [p for p in root.rglob("*") if p.is_file() and p.parts[-4] == "blake3"] == [
        store.path(digest)
    ]


# -- opening stores by URL ---------------------------------------------------------------------


def test_plain_paths_and_file_urls_open_local_stores(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(tmp_path), LocalBlobStore)
    assert isinstance(open_blob_store(str(tmp_path)), LocalBlobStore)
    store = open_blob_store(f"file://{tmp_path}")
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path


def test_fsspec_urls_open_fsspec_stores() -> None:
    store = open_blob_store(f"memory://yard-test-{uuid.uuid4().hex}/")
    assert isinstance(store, FsspecBlobStore)
    assert not store.url.endswith("/")


def test_storage_options_are_refused_for_local_folders(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="apply to fsspec URLs"):
        open_blob_store(tmp_path, storage_options={"key": "k"})


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("memory://", "names no bucket or folder"),
        ("s3://", "names no bucket or folder"),
        ("nosuchfs://bucket/x", "Protocol not known"),
    ],
)
def test_unusable_urls_are_invalid(url: str, fragment: str) -> None:
    with pytest.raises(InvalidValue, match=fragment):
        open_blob_store(url)


def test_s3_endpoint_comes_from_the_environment(s3_env: S3Bucket) -> None:  # noqa: F811
    store = open_blob_store(s3_env.fresh_url())
    digest, _ = store.put_bytes(b"via YARD_S3_ENDPOINT_URL")
    assert store.get_bytes(digest) == b"via YARD_S3_ENDPOINT_URL"


def test_explicit_s3_endpoint_wins_over_the_environment(
    s3_bucket: S3Bucket,  # noqa: F811 - pytest fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YARD_S3_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: unreachable
    store = open_blob_store(s3_bucket.fresh_url(), storage_options=s3_bucket.storage_options)
    digest, _ = store.put_bytes(b"explicit")
    assert store.get_bytes(digest) == b"explicit"


def test_s3_failures_are_store_errors(s3_bucket: S3Bucket) -> None:  # noqa: F811
    store = open_blob_store(
        f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/blobs",
        storage_options=s3_bucket.storage_options,
    )
    with pytest.raises(StoreError, match="bucket does not exist"):
        store.put_bytes(b"data")
