"""Concurrency and crashes: many writers, killed writers, racing migrations."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.blobs.hashing import hash_file
from modelyard.domain.records import RunStatus
from modelyard.store.base import MetadataStore
from modelyard.store.sql import open_sql_store
from modelyard.workspace import open_workspace, resolve


@contextlib.contextmanager
def current_store() -> Iterator[MetadataStore]:
    """The store the working directory and YARD_* settings point at, closed afterwards."""
    store = open_workspace(resolve()).store
    try:
        yield store
    finally:
        store.close()


def spawn(script: str, cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], expected: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if expected in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited early: {proc.stderr.read() if proc.stderr else ''}")
    raise AssertionError(f"child never printed {expected!r}")


@pytest.fixture(params=["sqlite", "postgres"])
def backend_env(request: pytest.FixtureRequest, workspace_dir: Path) -> dict[str, str]:
    """Environment for child processes: the embedded store, or PostgreSQL via YARD_URI."""
    if request.param == "sqlite":
        return {}
    return {"YARD_URI": request.getfixturevalue("pg_schema_url")}


def test_four_processes_logging_at_once_lose_nothing(
    workspace_dir: Path, backend_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = """
        import modelyard as yard
        with yard.start_run(experiment="load") as run:
            for i in range(20_000):
                yard.log_metric("loss", i / 20_000, step=i)
        print(run.id)
    """
    procs = [spawn(writer, workspace_dir, **backend_env) for _ in range(4)]
    results = [p.communicate(timeout=240) for p in procs]
    for name, value in backend_env.items():
        monkeypatch.setenv(name, value)
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    with current_store() as store:
        for out, _ in results:
            run = store.runs.get(out.strip())
            assert run.status is RunStatus.FINISHED
            history = store.runs.metric_history(run.id, "loss")
            assert [m.step for m in history] == list(range(20_000))


def test_sigkill_while_logging_leaves_a_usable_store(workspace_dir: Path) -> None:
    logger = """
        import modelyard as yard
        run = yard.start_run(experiment="crash")
        print(run.id, flush=True)
        step = 0
        while True:
            yard.log_metrics({"a": step, "b": -step}, step=step)
            step += 1
            if step % 500 == 0:
                yard.flush()
                print("flushed", flush=True)
    """
    proc = spawn(logger, workspace_dir)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    for _ in range(3):
        wait_for_line(proc, "flushed")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    with current_store() as store:
        run = store.runs.get(run_id)
        assert run.status is RunStatus.RUNNING
        assert [r.id for r in store.runs.search(["crash"]).items] == [run_id]
        history = store.runs.metric_history(run_id, "a")
        assert len(history) >= 1500 and [m.step for m in history] == list(range(len(history)))
        store.runs.end(run_id, RunStatus.KILLED, run.start_time + 1)
        assert store.runs.get(run_id).status is RunStatus.KILLED


def test_sigkill_while_writing_an_artifact_leaves_no_partial_blob(workspace_dir: Path) -> None:
    big = workspace_dir / "big.bin"
    with open(big, "wb") as f:
        for i in range(96):
            f.write(bytes([i]) * (1 << 20))
    writer = """
        import modelyard as yard
        run = yard.start_run(experiment="crash")
        print(run.id, flush=True)
        while True:
            with open("big.bin", "r+b") as f:  # new bytes each time: a real write every loop
                head = f.read(8)
                f.seek(0)
                f.write((int.from_bytes(head, "big") + 1).to_bytes(8, "big"))
            yard.log_artifact("big.bin")
    """
    proc = spawn(writer, workspace_dir)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    tmp = workspace_dir / ".yard" / "blobs" / "tmp"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp.is_dir() and any(tmp.iterdir())):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    blobs = workspace_dir / ".yard" / "blobs" / "blake3"
    for path in (p for p in blobs.rglob("*") if p.is_file()):
        assert hash_file(path)[0] == f"blake3:{path.name}", f"partial blob {path}"
    with current_store() as store:
        for artifact in store.runs.artifacts(run_id):
            assert (
                blobs / artifact.digest[7:9] / artifact.digest[9:11] / artifact.digest[7:]
            ).is_file()
        store.runs.end(run_id, RunStatus.KILLED, 2**40)


def test_sigterm_marks_the_run_killed(workspace_dir: Path) -> None:
    script = """
        import time
        import modelyard as yard
        with yard.start_run(experiment="term") as run:
            yard.log_metric("x", 1.0)
            print(run.id, flush=True)
            time.sleep(60)
    """
    proc = spawn(script, workspace_dir)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    with current_store() as store:
        run = store.runs.get(run_id)
        assert run.status is RunStatus.KILLED and run.metrics["x"].value == 1.0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("pass", RunStatus.FINISHED),
        ("1/0", RunStatus.FAILED),
        ("raise KeyboardInterrupt", RunStatus.KILLED),
    ],
)
def test_runs_left_open_are_ended_at_exit(
    workspace_dir: Path, body: str, status: RunStatus
) -> None:
    script = f"""
        import modelyard as yard
        run = yard.start_run(experiment="exit")
        print(run.id, flush=True)
        for i in range(100):
            yard.log_metric("m", i, step=i)
        {body}
    """
    proc = spawn(script, workspace_dir)
    out, _ = proc.communicate(timeout=60)
    with current_store() as store:
        run = store.runs.get(out.strip())
        assert run.status is status
        assert len(store.runs.metric_history(run.id, "m")) == 100


def _race_to_open(url: str, workers: int, cwd: Path) -> None:
    script = f"""
        from modelyard.store.sql import open_sql_store
        store = open_sql_store({url!r}, actor="racer")
        store.experiments.get_or_create("shared")
        print("ok")
    """
    procs = [spawn(script, cwd) for _ in range(workers)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out.strip() == "ok", err
    store = open_sql_store(url, actor="check")
    assert [e.name for e in store.experiments.list()] == ["shared"]
    store.close()


def test_processes_opening_a_new_sqlite_store_at_once_migrate_it_once(tmp_path: Path) -> None:
    _race_to_open(f"sqlite:///{tmp_path / 'new.db'}", 4, tmp_path)


@pytest.mark.postgres
def test_processes_opening_a_new_postgres_store_at_once_migrate_it_once(
    pg_schema_url: str, tmp_path: Path
) -> None:
    _race_to_open(pg_schema_url, 4, tmp_path)
