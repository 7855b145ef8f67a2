"""The fast paths of ``yard data add`` and ``yard data status`` give the answers of the full ones.

- the per-folder index (``.yard/cache/stats.db``, table ``sources``) that status reads instead of
  the metadata store and the manifest;
- the direct SQLite writer that records versions without loading SQLAlchemy;
- the quick command line that parses the plain forms of both commands without Typer or Rich.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from modelyard.cli import main
from modelyard.data import DataClient
from modelyard.data._fingerprint import walk, walk_ahead
from modelyard.domain.uris import DatasetRef
from modelyard.errors import InvalidValue
from modelyard.store.direct import open_version_writer
from modelyard.store.sql import open_sql_store
from modelyard.workspace import open_workspace
from test_data_store import PROFILE, new
from test_data_versions import age


def make_folder(root: Path, files: int = 30) -> Path:
    for i in range(files):
        sub = root / f"part{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:03d}.bin").write_bytes(os.urandom(500 + i))
    age(root)
    return root


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_quick_and_full_commands_print_the_same(
    workspace_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(workspace_dir / "images")
    code, out, _ = cli(capsys, "data", "add", str(folder), "--name", "scans", "-m", "first")
    assert code == 0 and out.startswith("added scans@1 (") and "30 files" in out
    (folder / "part0" / "f000.bin").write_bytes(b"changed")
    (folder / "new.txt").write_text("new")
    (folder / "part1" / "f001.bin").unlink()
    for extra in ([], ["--json"]):
        quick = cli(capsys, "data", "status", str(folder), *extra)
        full = cli(capsys, "--debug", "data", "status", str(folder), *extra)  # through Typer
        assert quick == full and quick[0] == 0
    _, out, _ = quick
    status = json.loads(out)
    assert (status["added"], status["removed"], status["modified"]) == (
        ["new.txt"],
        ["part1/f001.bin"],
        ["part0/f000.bin"],
    )
    code, out, _ = cli(capsys, "--debug", "data", "add", str(folder), "--name", "scans")
    assert code == 0 and out.startswith("added scans@2 (")
    code, out, _ = cli(capsys, "data", "add", str(folder), "--name=scans", "--json")
    assert code == 0 and json.loads(out)["created"] is False
    assert json.loads(out)["version"]["number"] == 2


def test_an_unchanged_folder_gets_the_same_answer_from_the_fingerprint(
    workspace_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(workspace_dir / "images")
    assert cli(capsys, "data", "add", str(folder), "--name", "scans")[0] == 0
    quick = cli(capsys, "data", "status", str(folder))
    assert quick == (0, f"{folder}: unchanged since scans@1 (30 files)\n", "")
    assert quick == cli(capsys, "--debug", "data", "status", str(folder))
    touched = folder / "part2" / "f002.bin"
    touched.write_bytes(touched.read_bytes())  # same bytes, new mtime: the signature differs
    age(touched)
    assert cli(capsys, "data", "status", str(folder)) == quick  # read once, then learnt
    assert cli(capsys, "data", "status", str(folder)) == quick


def test_quick_add_reports_errors_in_one_line(
    workspace_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "data", "add", "missing", "--name", "x")
    assert (code, out) == (2, "") and err == "error: missing does not exist\n"
    code, _, err = cli(capsys, "data", "add", "missing")  # no --name: Typer's usage error
    assert code == 2 and "--name" in err


def test_status_and_add_load_neither_the_sql_store_nor_the_cli_framework(
    workspace_dir: Path,
) -> None:
    folder = make_folder(workspace_dir / "images")
    probe = (
        "import sys; from modelyard.cli import main; code = main(sys.argv[1:]); "
        "loaded = [m for m in ('sqlalchemy', 'typer', 'rich', 'pyarrow') if m in sys.modules]; "
        "print(code, loaded, file=sys.stderr)"
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True
        )
        return done.stderr.strip()

    assert run("data", "add", str(folder), "--name", "scans") == "0 []"
    assert run("data", "status", str(folder)) == "0 []"
    lean = (
        "import sys; from modelyard.cli import main; code = main(sys.argv[1:]); "
        "heavy = ('typing', 'pathlib', 'dataclasses', 'json', 'modelyard.workspace', "
        "'modelyard.domain.datasets', 'modelyard.data._cache'); "
        "print(code, [m for m in heavy if m in sys.modules], file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", lean, "data", "status", str(folder)], capture_output=True, text=True
    )
    assert done.stderr.strip() == "0 []"  # unchanged: the walk and one row of the cache only
    assert "sqlalchemy" in run("data", "list")  # everything else opens the store


def test_a_touched_but_unchanged_file_is_read_once(workspace_dir: Path) -> None:
    data = DataClient(open_workspace())
    folder = make_folder(workspace_dir / "images")
    data.add(folder, "scans")
    assert data.status(folder).files_read == 0
    touched = folder / "part2" / "f002.bin"
    touched.write_bytes(touched.read_bytes())  # same bytes, new mtime
    age(touched)
    first = data.status(folder)
    assert first.clean and first.files_read == 1
    assert data.status(folder).files_read == 0  # the index learnt the new mtime


def test_status_without_the_local_cache_asks_the_store(workspace_dir: Path) -> None:
    folder = make_folder(workspace_dir / "images")
    DataClient(open_workspace()).add(folder, "scans")
    (workspace_dir / ".yard" / "cache" / "stats.db").unlink()
    for leftover in (workspace_dir / ".yard" / "cache").glob("stats.db-*"):
        leftover.unlink()
    (folder / "part0" / "f000.bin").write_bytes(b"changed")
    data = DataClient(open_workspace())
    status = data.status(folder)
    assert status.modified == ("part0/f000.bin",) and status.version.number == 1
    assert status.files_read == 29  # nothing was cached: every same-size file is read


def test_a_cache_written_by_another_layout_is_rebuilt(workspace_dir: Path) -> None:
    cache = workspace_dir / ".yard" / "cache"
    cache.mkdir(parents=True)
    with sqlite3.connect(cache / "stats.db") as old:
        old.execute("CREATE TABLE sources (source TEXT, files TEXT)")
        old.execute("INSERT INTO sources VALUES ('x', 'not json')")
    folder = make_folder(workspace_dir / "images")
    data = DataClient(open_workspace())
    assert data.add(folder, "scans").created
    assert data.status(folder).clean


def test_the_direct_writer_and_the_sql_store_write_the_same_rows(tmp_path: Path) -> None:
    steps = [
        new("a", profile=PROFILE),
        new("b"),
        new("b"),  # equal to the latest: nothing recorded
        new("a"),
        new("c", name="other"),
    ]
    dumps = []
    for how in ("direct", "sql"):
        url = f"sqlite:///{tmp_path / how}.db"
        store = open_sql_store(url, actor="tester")  # creates the schema
        if how == "direct":
            writer = open_version_writer(url, "tester")
            assert writer is not None
            added = [writer.add_version(step) for step in steps]
            writer.close()
        else:
            added = [store.datasets.add_version(step) for step in steps]
        assert [(a.version.number, a.created) for a in added] == [
            (1, True),
            (2, True),
            (2, False),
            (3, True),
            (1, True),
        ]
        resolved = store.datasets.resolve(DatasetRef("churn", number=1))
        assert resolved == added[0].version  # the direct writer's answer reads back equal
        dumps.append(dump(tmp_path / f"{how}.db"))
        store.close()
    assert dumps[0] == dumps[1]


def test_the_direct_writer_steps_aside_when_it_cannot_serve(tmp_path: Path) -> None:
    assert open_version_writer("postgresql://postgres@127.0.0.1/test", "t") is None
    assert open_version_writer(f"sqlite:///{tmp_path / 'missing.db'}", "t") is None
    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_sql_store(url, actor="tester").close()
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    assert open_version_writer(url, "t") is None  # the full store migrates first


def test_concurrent_direct_writers_number_versions_without_gaps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'yard.db'}"
    store = open_sql_store(url, actor="tester")
    numbers: list[int] = []
    errors: list[BaseException] = []

    def add(worker: int) -> None:
        writer = open_version_writer(url, f"w{worker}")
        assert writer is not None
        try:
            for i in range(5):
                numbers.append(writer.add_version(new(f"{worker}{i}")).version.number)
        except BaseException as exc:
            errors.append(exc)
        finally:
            writer.close()

    threads = [threading.Thread(target=add, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(numbers) == list(range(1, 21))
    assert [v.number for v in store.datasets.versions("churn")] == list(range(1, 21))
    store.close()


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The rows a version write leaves, without ids and clock readings."""
    with sqlite3.connect(path) as conn:
        return {
            "datasets": conn.execute("SELECT name, description FROM datasets").fetchall(),
            "versions": conn.execute(
                "SELECT dataset_id, number, content_digest, manifest_digest, kind, message, "
                "author, total_size, file_count, rows, source, json(profile) "
                "FROM dataset_versions ORDER BY pk"
            ).fetchall(),
            "audit": conn.execute(
                "SELECT actor, action, subject, json(detail) FROM audit_events ORDER BY id"
            ).fetchall(),
        }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["data"], "Usage"),
        (["data", "status", "--help"], "Example: yard data status"),
        (["data", "add", "images", "--name", "scans", "--message"], "requires an argument"),
        (["data", "status", "images", "other"], "Got unexpected extra argument"),
        (["data", "add", "images", "--name", "scans", "--bogus"], "No such option"),
    ],
)
def test_other_forms_are_left_to_the_full_command(
    workspace_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    make_folder(workspace_dir / "images")
    _, out, err = cli(capsys, *args)
    assert expected in out + err


def test_a_walk_ahead_gives_what_the_walk_gives(workspace_dir: Path) -> None:
    folder = make_folder(workspace_dir / "images")
    assert walk_ahead(str(folder))() == walk(str(folder))
    single = folder / "part0" / "f000.bin"
    assert walk_ahead(str(single))() == walk(str(single))


def test_a_walk_ahead_raises_the_walks_error(workspace_dir: Path, tmp_path: Path) -> None:
    folder = make_folder(workspace_dir / "images")
    (folder / "escape").symlink_to(tmp_path)
    with pytest.raises(InvalidValue) as direct:
        walk(str(folder))
    with pytest.raises(InvalidValue) as ahead:
        walk_ahead(str(folder))()
    assert str(ahead.value) == str(direct.value) and "outside" in str(ahead.value)
    assert ahead.value.field == "source"
