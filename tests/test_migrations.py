"""Schema migrations: the code's idea of the head matches Alembic's."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from modelyard.store.sql import HEAD_REVISION, open_sql_store
from modelyard.store.sql._engine import create_store_engine, current_revision


def test_head_revision_constant_matches_alembic() -> None:
    import modelyard.store.sql._engine as engine_module

    config = Config()
    config.set_main_option(
        "script_location", str(Path(engine_module.__file__).parent / "migrations")
    )
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_opening_a_new_store_creates_every_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'y.db'}"
    open_sql_store(url, actor="t").close()
    engine = create_store_engine(url)
    assert current_revision(engine) == HEAD_REVISION
    assert set(inspect(engine).get_table_names()) >= {
        "experiments",
        "runs",
        "params",
        "tags",
        "metrics",
        "latest_metrics",
        "artifacts",
        "lineage_edges",
        "audit_events",
        "alembic_version",
    }
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_sqlite_planner_statistics_are_refreshed_as_runs_grow(tmp_path: Path) -> None:
    from test_store_contract import new_run

    url = f"sqlite:///{tmp_path / 'y.db'}"
    store = open_sql_store(url, actor="t")
    for _ in range(1000):
        store.runs.create(new_run("grow"))
    store.close()
    open_sql_store(url, actor="t").close()
    engine = create_store_engine(url)
    with engine.connect() as conn:
        stats = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = 'runs'").all()
    engine.dispose()
    assert max(int(row[0].split()[0]) for row in stats) >= 500  # sampled estimate of 1,000
