"""Pushing versions to remotes and pulling them back, verified on arrival."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from modelyard.data import DataClient
from modelyard.errors import IntegrityError
from modelyard.workspace import open_workspace
from s3_server import S3Bucket, s3_bucket, s3_endpoint, s3_env  # noqa: F401 - pytest fixtures


@pytest.fixture
def data(workspace_dir: Path) -> DataClient:
    client = DataClient(open_workspace())
    folder = workspace_dir / "images"
    folder.mkdir()
    for i in range(30):
        (folder / f"img{i:02d}.bin").write_bytes(os.urandom(2000))
    (folder / "large.bin").write_bytes(os.urandom(1 << 20))
    client.add(folder, "scans")
    return client


def lose_local_blobs(workspace_dir: Path) -> None:
    shutil.rmtree(workspace_dir / ".yard" / "blobs" / "blake3")
    shutil.rmtree(workspace_dir / ".yard" / "cache", ignore_errors=True)


def test_push_then_pull_restores_lost_blobs(data: DataClient, workspace_dir: Path) -> None:
    remote = str(workspace_dir / "remote")
    pushed = data.push(remote)
    assert pushed.copied == 3  # manifest, one pack, one large blob
    assert data.push(remote).copied == 0  # only missing blobs travel
    lose_local_blobs(workspace_dir)
    pulled = data.pull(["scans@1"], remote)
    assert pulled.copied == 3
    data.get("scans@1", workspace_dir / "out")
    assert (workspace_dir / "out" / "img07.bin").read_bytes() == (
        workspace_dir / "images" / "img07.bin"
    ).read_bytes()


def test_a_corrupted_remote_blob_is_named_on_pull(data: DataClient, workspace_dir: Path) -> None:
    remote = workspace_dir / "remote"
    data.push(str(remote))
    large = next(e for e in data.manifest(data.resolve("scans")).entries if e.pack is None)
    hexdigest = large.digest[7:]
    target = remote / "blake3" / hexdigest[:2] / hexdigest[2:4] / hexdigest
    target.chmod(0o644)
    target.write_bytes(b"tampered")
    lose_local_blobs(workspace_dir)
    with pytest.raises(IntegrityError, match=f"blob {large.digest} in .*remote is corrupted"):
        data.pull(["scans"], str(remote))


def test_push_and_pull_through_s3(
    data: DataClient,
    workspace_dir: Path,
    s3_env: S3Bucket,  # noqa: F811
) -> None:
    url = s3_env.fresh_url()
    assert data.push(url).copied == 3
    prefix = url.split("/", 3)[3]
    assert len(s3_env.keys(prefix)) == 3
    assert data.push(url).copied == 0
    lose_local_blobs(workspace_dir)
    assert data.pull(["scans"], url).copied == 3
    frame_dir = workspace_dir / "out"
    data.get("scans", frame_dir)
    assert len(list(frame_dir.iterdir())) == 31


def test_a_corrupted_s3_object_is_named_on_pull(
    data: DataClient,
    workspace_dir: Path,
    s3_env: S3Bucket,  # noqa: F811
) -> None:
    url = s3_env.fresh_url()
    data.push(url)
    manifest = data.resolve("scans").manifest_digest
    hexdigest = manifest[7:]
    s3_env.put(f"{url.split('/', 3)[3]}/blake3/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}", b"x")
    lose_local_blobs(workspace_dir)
    with pytest.raises(IntegrityError, match=f"blob {manifest} in s3://.* is corrupted"):
        data.pull(["scans"], url)
