"""Adding, reading back, diffing and checking versions of real files in a workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from modelyard.data import DataClient
from modelyard.errors import AlreadyExists, IntegrityError, InvalidValue
from modelyard.workspace import open_workspace


@pytest.fixture
def data(workspace_dir: Path) -> DataClient:
    return DataClient(open_workspace())


def make_folder(root: Path, files: int = 50, big: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        sub = root / f"part{i % 3}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i:03d}.bin").write_bytes(os.urandom(1000 + i))
    if big:
        (root / "big.bin").write_bytes(os.urandom(2 << 20))  # stored as a blob of its own
    return root


def age(path: Path, seconds: float = 5) -> None:
    """Make files look older than the stat cache's racy window (no sleeping)."""
    for p in [path] if path.is_file() else path.rglob("*"):
        if p.is_file():
            st = p.stat()
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def test_adding_a_folder_then_getting_it_back_gives_the_same_bytes(
    data: DataClient, workspace_dir: Path
) -> None:
    folder = make_folder(workspace_dir / "images")
    result = data.add(folder, "scans", message="first")
    assert result.created and result.version.number == 1 and result.version.file_count == 51
    out = workspace_dir / "restore"
    data.get("scans@1", out)
    for original in folder.rglob("*"):
        if original.is_file():
            assert (out / original.relative_to(folder)).read_bytes() == original.read_bytes()


def test_get_hard_links_large_files_from_the_store(data: DataClient, workspace_dir: Path) -> None:
    folder = make_folder(workspace_dir / "images", files=2)
    data.add(folder, "scans")
    data.get("scans", workspace_dir / "linked")
    data.get("scans", workspace_dir / "copied", link=False)
    assert (workspace_dir / "linked" / "big.bin").stat().st_nlink >= 2
    assert (workspace_dir / "copied" / "big.bin").stat().st_nlink == 1


def test_get_refuses_to_overwrite_unless_forced(data: DataClient, workspace_dir: Path) -> None:
    folder = make_folder(workspace_dir / "images", files=3)
    data.add(folder, "scans")
    data.get("scans", workspace_dir / "out")
    with pytest.raises(AlreadyExists, match="pass --force"):
        data.get("scans", workspace_dir / "out")
    data.get("scans", workspace_dir / "out", force=True)


def test_re_adding_unchanged_data_records_and_reads_nothing(
    data: DataClient, workspace_dir: Path
) -> None:
    folder = make_folder(workspace_dir / "images")
    age(folder)
    data.add(folder, "scans")
    blobs_before = sorted((workspace_dir / ".yard" / "blobs").rglob("*"))
    again = data.add(folder, "scans")
    assert not again.created and again.version.number == 1
    assert again.files_read == 0  # the stat cache vouched for every file
    assert sorted((workspace_dir / ".yard" / "blobs").rglob("*")) == blobs_before


def test_changing_a_few_files_reads_only_those(data: DataClient, workspace_dir: Path) -> None:
    folder = make_folder(workspace_dir / "images")
    age(folder)
    data.add(folder, "scans")
    (folder / "part0" / "f000.bin").write_bytes(b"changed")
    (folder / "new.txt").write_text("new")
    (folder / "part1" / "f001.bin").unlink()
    result = data.add(folder, "scans", message="second")
    assert result.created and result.version.number == 2
    assert result.files_read == 2
    d = data.diff("scans@1", "scans@2")
    assert d.added == ("new.txt",)
    assert d.removed == ("part1/f001.bin",)
    assert d.modified == ("part0/f000.bin",)
    assert d.unchanged == 49


def test_status_reports_changes_without_re_reading_unchanged_files(
    data: DataClient, workspace_dir: Path
) -> None:
    folder = make_folder(workspace_dir / "images")
    age(folder)
    data.add(folder, "scans")
    clean = data.status(folder)
    assert clean.clean and clean.files_read == 0 and clean.unchanged == 51
    (folder / "part2" / "f002.bin").write_bytes(b"x")
    (folder / "extra.bin").write_bytes(b"y")
    status = data.status(folder)
    assert status.modified == ("part2/f002.bin",) and status.added == ("extra.bin",)
    assert status.version.number == 1


def test_a_single_csv_file_is_profiled(data: DataClient, workspace_dir: Path) -> None:
    csv = workspace_dir / "train.csv"
    pd.DataFrame({"age": [20, 30, None, 50], "plan": ["basic", "pro", "basic", None]}).to_csv(
        csv, index=False
    )
    version = data.add(csv, "churn").version
    assert version.kind.value == "file" and version.rows == 4
    assert version.profile is not None
    age_col = version.profile.column("age")
    plan = version.profile.column("plan")
    assert age_col is not None and plan is not None
    assert (age_col.nulls, age_col.min, age_col.max) == (1, 20.0, 50.0)
    assert age_col.mean == pytest.approx(33.333, rel=1e-3)
    assert age_col.quantiles["p50"] == pytest.approx(30.0)
    assert plan.top == (("basic", 2), ("pro", 1)) and plan.distinct == 2


def test_diff_of_tables_shows_schema_rows_and_column_shifts(data: DataClient) -> None:
    old = pd.DataFrame({"x": [1.0, 2.0, 3.0], "plan": ["a", "b", "a"], "gone": [1, 2, 3]})
    new = pd.DataFrame({"x": [10.0, 20.0, 30.0, 40.0], "plan": ["a", "b", "c", "c"], "n": [1] * 4})
    data.add_frame(old, "t")
    data.add_frame(new, "t")
    d = data.diff("t@1", "t@2")
    assert (d.rows_before, d.rows_after) == (3, 4)
    assert d.schema is not None
    assert [c for c, _ in d.schema.added] == ["n"]
    assert [c for c, _ in d.schema.removed] == ["gone"]
    shifts = {c.name: c for c in d.columns}
    assert shifts["x"].mean_before == 2.0 and shifts["x"].mean_after == 25.0
    assert shifts["plan"].new_categories == ("c",)


def test_a_dataframe_round_trips_and_unchanged_frames_add_no_version(data: DataClient) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    first = data.add_frame(frame, "features")
    assert data.add_frame(frame, "features").created is False
    pd.testing.assert_frame_equal(data.load("features"), frame)
    assert first.version.profile is not None and first.version.profile.rows == 3


def test_a_version_can_be_named_by_a_digest_prefix(data: DataClient) -> None:
    version = data.add_frame(pd.DataFrame({"a": [1]}), "tiny").version
    assert data.resolve(f"tiny@{version.short_digest[:8]}").number == 1


def test_a_corrupted_packed_file_is_named_on_get(data: DataClient, workspace_dir: Path) -> None:
    folder = make_folder(workspace_dir / "images", files=5, big=False)
    data.add(folder, "scans")
    manifest = data.manifest(data.resolve("scans"))
    pack = manifest.entries[0].pack
    assert pack is not None
    path = workspace_dir / ".yard" / "blobs" / "blake3" / pack[7:9] / pack[9:11] / pack[7:]
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError, match=f"blob {pack} .* is corrupted.*part0/f000.bin"):
        data.get("scans", workspace_dir / "out")


def test_a_corrupted_large_blob_is_named_on_get(data: DataClient, workspace_dir: Path) -> None:
    folder = make_folder(workspace_dir / "images", files=1)
    data.add(folder, "scans")
    big = next(e for e in data.manifest(data.resolve("scans")).entries if e.path == "big.bin")
    path = workspace_dir / ".yard" / "blobs" / "blake3" / big.digest[7:9] / big.digest[9:11]
    path = path / big.digest[7:]
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.write(b"garbage")
    with pytest.raises(IntegrityError, match=f"blob {big.digest} .big.bin of data:scans@1"):
        data.get("scans", workspace_dir / "out")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d.mkdir(), "holds no files"),
        (lambda d: None, "does not exist"),
        (
            lambda d: (d.mkdir(), (d / "escape").symlink_to("/etc/hostname")),
            "symbolic link to /etc/hostname, outside",
        ),
        (
            lambda d: (d.mkdir(), os.mkfifo(d / "pipe")),
            "not a regular file",
        ),
    ],
)
def test_bad_sources_give_clear_errors(
    data: DataClient, workspace_dir: Path, setup: object, message: str
) -> None:
    source = workspace_dir / "src"
    setup(source)  # type: ignore[operator]
    with pytest.raises(InvalidValue, match=message):
        data.add(source, "bad")
    assert data.list() == []


def test_symlinks_inside_the_folder_are_followed(data: DataClient, workspace_dir: Path) -> None:
    folder = workspace_dir / "src"
    folder.mkdir()
    (folder / "real.txt").write_text("hello")
    (folder / "alias.txt").symlink_to(folder / "real.txt")
    version = data.add(folder, "links").version
    assert version.file_count == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_named(data: DataClient, workspace_dir: Path) -> None:
    folder = workspace_dir / "src"
    folder.mkdir()
    secret = folder / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    with pytest.raises(InvalidValue, match=r"cannot read .*secret\.txt"):
        data.add(folder, "bad")
