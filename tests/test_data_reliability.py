"""Adds that are killed, and files that change while they are being added."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from modelyard.blobs import hash_file
from modelyard.data import DataClient
from modelyard.data._fingerprint import walk
from modelyard.errors import SourceChanged
from modelyard.workspace import open_workspace

ADD_SCRIPT = (
    "from modelyard.data import DataClient; from modelyard.workspace import open_workspace; "
    "DataClient(open_workspace()).add('big', 'killed')"
)


def every_blob_is_complete(blobs: Path) -> None:
    for path in (blobs / "blake3").rglob("*"):
        if path.is_file():
            assert hash_file(path)[0] == f"blake3:{path.name}", path


def test_sigkill_during_an_add_leaves_no_version_and_no_partial_blob(
    workspace_dir: Path,
) -> None:
    folder = workspace_dir / "big"
    folder.mkdir()
    block = os.urandom(1 << 20)
    with open(folder / "large.bin", "wb") as f:
        for i in range(400):  # 400 MiB: the add takes long enough to be caught mid-write
            f.write(block[:-8] + i.to_bytes(8, "little"))
    tmp = workspace_dir / ".yard" / "blobs" / "tmp"
    proc = subprocess.Popen([sys.executable, "-c", ADD_SCRIPT], cwd=workspace_dir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if tmp.is_dir() and any(tmp.iterdir()):
            break
        time.sleep(0.002)
    caught = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if not caught:
        pytest.skip("the add finished before it could be killed")
    data = DataClient(open_workspace())
    assert data.list() == []
    every_blob_is_complete(workspace_dir / ".yard" / "blobs")
    result = data.add(folder, "killed")
    assert result.created and result.version.number == 1
    every_blob_is_complete(workspace_dir / ".yard" / "blobs")


def test_a_file_growing_during_the_add_fails_cleanly(workspace_dir: Path) -> None:
    folder = workspace_dir / "live"
    folder.mkdir()
    log = folder / "growing.log"
    log.write_bytes(b"x" * (4 << 20))
    stop = threading.Event()

    def append() -> None:
        with open(log, "ab") as f:
            while not stop.is_set():
                f.write(b"y" * 1024)
                f.flush()

    writer = threading.Thread(target=append)
    writer.start()
    data = DataClient(open_workspace())
    try:
        with pytest.raises(SourceChanged, match=r"growing\.log changed while it was being read"):
            for _ in range(20):  # each attempt races the writer; it wins almost at once
                data.add(folder, "live")
    finally:
        stop.set()
        writer.join()
    assert data.list() == []


@pytest.mark.parametrize("change", ["resized", "rewritten", "replaced", "removed"])
def test_a_small_file_changed_after_the_walk_fails_the_add(
    workspace_dir: Path, change: str
) -> None:
    folder = workspace_dir / "small"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_bytes(name.encode() * 100)
    walked = walk(str(folder))  # what the add believes is on disk
    target = folder / "a.txt"
    mtime = target.stat().st_mtime_ns
    if change == "resized":
        target.write_bytes(b"longer" * 100)
    elif change == "rewritten":  # same size: only the mtime tells
        target.write_bytes(b"A" * 500)
        os.utime(target, ns=(mtime, mtime + 1_000_000_000))
    elif change == "replaced":  # same size and mtime, another inode
        (folder / "new").write_bytes(b"Z" * 500)
        os.utime(folder / "new", ns=(mtime, mtime))
        os.replace(folder / "new", target)
    else:
        target.unlink()
    data = DataClient(open_workspace())
    with pytest.raises(SourceChanged, match=r"a\.txt changed while it was being read"):
        data.add(folder, "small", walked=walked)
    assert data.list() == []
    assert data.add(folder, "small").created  # walked again: the add goes through
