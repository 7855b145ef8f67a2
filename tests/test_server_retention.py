"""Idempotency keys are pruned after the retention, and a recent retry is still refused."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from modelyard.errors import InvalidValue
from modelyard.server import ServerConfig
from modelyard.store.sql import AlreadyApplied, SqlBackend
from test_cli import run_cli
from test_store_contract import new_run


@pytest.fixture
def backend(store_url: str) -> Iterator[SqlBackend]:
    opened = SqlBackend(store_url, idempotency_days=1, prune_every=3)
    yield opened
    opened.close()


def _record(backend: SqlBackend, key: str, created_at: int) -> None:
    with backend.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO applied_batches (key, created_at) VALUES (:key, :at)"),
            {"key": key, "at": created_at},
        )


def _keyed_create(backend: SqlBackend, key: str) -> None:
    with backend.keyed(key):
        backend.store("tester", idempotency_key=key).runs.create(new_run("retention"))


def test_the_migration_indexes_keys_by_age(backend: SqlBackend) -> None:
    indexes = inspect(backend.engine).get_indexes("applied_batches")
    assert [i["column_names"] for i in indexes if i["name"] == "ix_applied_batches_created_at"] == [
        ["created_at"]
    ]


def test_prune_deletes_keys_older_than_the_cutoff_and_keeps_newer(backend: SqlBackend) -> None:
    for key, created_at in [("old-1", 1000), ("old-2", 1999), ("new-1", 2000), ("new-2", 5000)]:
        _record(backend, key, created_at)
    assert backend.prune_applied(2000) == 2
    assert [backend.was_applied(k) for k in ("old-1", "old-2", "new-1", "new-2")] == [
        False,
        False,
        True,
        True,
    ]
    assert backend.prune_applied(2000) == 0


def test_a_recent_key_is_still_refused_after_a_prune(backend: SqlBackend) -> None:
    _record(backend, "ancient", 1)
    _keyed_create(backend, "recent")
    backend.prune_expired()
    assert not backend.was_applied("ancient")
    with pytest.raises(AlreadyApplied):
        _keyed_create(backend, "recent")


def test_every_nth_keyed_write_prunes_expired_keys(backend: SqlBackend) -> None:
    _record(backend, "ancient", 1)
    _keyed_create(backend, "k1")
    _keyed_create(backend, "k2")
    assert backend.was_applied("ancient")
    _keyed_create(backend, "k3")  # the third keyed write of this backend: prune_every=3
    assert not backend.was_applied("ancient")
    assert all(backend.was_applied(k) for k in ("k1", "k2", "k3"))


def test_a_failed_prune_logs_a_warning_and_the_write_succeeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = SqlBackend(f"sqlite:///{tmp_path / 'y.db'}", idempotency_days=1, prune_every=1)
    with backend.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER no_prune BEFORE DELETE ON applied_batches "
                "BEGIN SELECT RAISE(ABORT, 'pruning refused'); END"
            )
        )
    _record(backend, "ancient", 1)
    with caplog.at_level(logging.WARNING):
        _keyed_create(backend, "k1")
    backend.close()
    assert backend.was_applied("k1")
    assert "could not prune old idempotency keys" in caplog.text
    assert "pruning refused" in caplog.text


@pytest.mark.parametrize("days", [0, -1, float("nan"), float("inf")])
def test_a_retention_that_is_not_a_positive_number_of_days_is_refused(days: float) -> None:
    with pytest.raises(InvalidValue, match="idempotency_days must be a finite number of days"):
        ServerConfig(db="sqlite:///y.db", blobs="b", idempotency_days=days)


def test_the_retention_travels_to_the_workers_in_the_environment() -> None:
    config = ServerConfig(db="sqlite:///y.db", blobs="b", idempotency_days=0.5)
    assert ServerConfig.from_env(config.to_env()).idempotency_days == 0.5


def test_the_server_command_offers_the_retention(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "server", "--help")
    assert code == 0
    assert "--idempotency-days" in out
    assert "applied twice" in " ".join(out.split())
