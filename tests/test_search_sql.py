"""Search filters and ordering compiled to SQL, run against SQLite and (when configured) PostgreSQL.

Six runs with params, tags and latest metrics are inserted directly; every case asserts the
exact run ids returned, in order.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateSchema, DropSchema

from modelyard.domain.filters import parse_filter, parse_order_by
from modelyard.store.sql._schema import (
    Base,
    ExperimentRow,
    LatestMetricRow,
    ParamRow,
    RunRow,
    TagRow,
)
from modelyard.store.sql._search import apply_order, filter_clause

POSTGRES_URL = os.environ.get("YARD_TEST_POSTGRES_URL")

#          pk, id,  status,     name,      start, end,  user
RUNS = [
    (1, "r1", "FINISHED", "alpha", 1000, 2000, "alice"),
    (2, "r2", "FINISHED", "beta", 2000, 3000, "bob"),
    (3, "r3", "FAILED", "gamma", 3000, 4000, "alice"),
    (4, "r4", "RUNNING", "zetaX1", 4000, None, "carol"),
    (5, "r5", "KILLED", "epsilon", 5000, 5500, "bob"),
    (6, "r6", "FINISHED", "zeta_1", 6000, 7000, "alice"),
]
PARAMS = [
    (1, "lr", "0.1"),
    (1, "optimizer", "adam"),
    (2, "lr", "0.01"),
    (3, "lr", "0.1"),
    (4, "optimizer", "sgd"),
    (6, "lr", "0.001"),
]
TAGS = [
    (1, "team", "vision"),
    (2, "team", "nlp"),
    (3, "team", "vision"),
    (3, "note", "it's"),
    (5, "team", "nlp"),
    (6, "team", "vision"),
]
METRICS = [  # None is a NaN
    (1, "auc", 0.91),
    (1, "loss", 0.2),
    (2, "auc", 0.85),
    (2, "loss", 0.35),
    (3, "loss", None),
    (4, "auc", 0.78),
    (4, "val loss", 0.5),
    (5, "auc", 0.91),
]


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        conn.execute(insert(ExperimentRow), [{"id": 1, "name": "exp", "created_at": 0}])
        conn.execute(
            insert(RunRow),
            [
                {
                    "pk": pk,
                    "id": run_id,
                    "experiment_id": 1,
                    "status": status,
                    "name": name,
                    "start_time": start,
                    "end_time": end,
                    "user": user,
                }
                for pk, run_id, status, name, start, end, user in RUNS
            ],
        )
        conn.execute(
            insert(ParamRow),
            [dict(zip(("run_pk", "key", "value"), p, strict=True)) for p in PARAMS],
        )
        conn.execute(
            insert(TagRow), [dict(zip(("run_pk", "key", "value"), t, strict=True)) for t in TAGS]
        )
        conn.execute(
            insert(LatestMetricRow),
            [
                {"run_pk": pk, "key": key, "value": value, "step": 0, "timestamp": 0}
                for pk, key, value in METRICS
            ],
        )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        sqlite = create_engine("sqlite://", poolclass=StaticPool)
        _seed(sqlite)
        yield sqlite
        sqlite.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("set YARD_TEST_POSTGRES_URL to run PostgreSQL tests")
    server = create_engine(POSTGRES_URL)
    schema = f"yard_search_{secrets.token_hex(6)}"
    with server.begin() as conn:
        conn.execute(CreateSchema(schema))
    try:
        postgres = server.execution_options(schema_translate_map={None: schema})
        _seed(postgres)
        yield postgres
    finally:
        with server.begin() as conn:
            conn.execute(DropSchema(schema, cascade=True))
        server.dispose()


def search(engine: Engine, filter_text: str | None = None, order: Sequence[str] = ()) -> list[str]:
    stmt = select(RunRow.id)
    expr = parse_filter(filter_text)
    if expr is not None:
        stmt = stmt.where(filter_clause(expr))
    stmt = apply_order(stmt, parse_order_by(order))
    with engine.connect() as conn:
        return list(conn.scalars(stmt))


FILTERS = [
    ("metrics.auc > 0.8", ["r5", "r2", "r1"]),
    ("metrics.auc = 0.91", ["r5", "r1"]),
    ("metrics.loss = 0.2", ["r1"]),
    ("metrics.loss > 0", ["r2", "r1"]),  # r3's NaN loss never matches
    ("metrics.loss != 0.2", ["r2"]),  # has the key with another value
    ("metrics.auc in (0.78, 0.85)", ["r4", "r2"]),
    ("metrics.auc not in (0.91)", ["r4", "r2"]),
    ("metrics.`val loss` < 1", ["r4"]),
    ("metrics.auc >= 0.85 and params.lr = '0.1'", ["r1"]),
    ("params.lr = '0.1' or tags.team = 'nlp'", ["r5", "r3", "r2", "r1"]),
    ("tags.team = 'nlp' or tags.team = 'vision' and params.lr = '0.1'", ["r5", "r3", "r2", "r1"]),
    ("(tags.team = 'nlp' or tags.team = 'vision') and params.lr = '0.1'", ["r3", "r1"]),
    ("params.lr != '0.1'", ["r6", "r2"]),  # r4 and r5 have no lr
    ("params.lr in ('0.01', '0.001')", ["r6", "r2"]),
    ("params.lr not in ('0.1')", ["r6", "r2"]),
    ("params.optimizer like 's%'", ["r4"]),
    ("tags.note = 'it\\'s'", ["r3"]),
    ("tags.team not like 'v%'", ["r5", "r2"]),
    ("status = 'finished'", ["r6", "r2", "r1"]),
    ("status != 'FINISHED'", ["r5", "r4", "r3"]),
    ("status in ('running', 'KILLED')", ["r5", "r4"]),
    ("name like 'zeta_1'", ["r6", "r4"]),  # _ is a wildcard ...
    ("name like 'zeta\\_1'", ["r6"]),  # ... unless escaped
    ("name not like 'zeta%'", ["r5", "r3", "r2", "r1"]),
    ("start_time >= 3000 and end_time < 6000", ["r5", "r3"]),  # r4 has no end_time
    ("end_time in (2000, 3000)", ["r2", "r1"]),
    ("id = 'r3' or run_id = 'r4'", ["r4", "r3"]),
    ("user = 'alice' and tags.team = 'vision' and metrics.auc > 0", ["r1"]),
    ("tags.team = 'nobody'", []),
]


@pytest.mark.parametrize(("filter_text", "expected"), FILTERS)
def test_filter_returns_matching_runs_newest_first(
    engine: Engine, filter_text: str, expected: list[str]
) -> None:
    assert search(engine, filter_text) == expected


ORDERS = [
    ([], ["r6", "r5", "r4", "r3", "r2", "r1"]),
    (["metrics.auc desc"], ["r5", "r1", "r2", "r4", "r6", "r3"]),
    (["metrics.auc asc"], ["r4", "r2", "r5", "r1", "r6", "r3"]),
    (["metrics.loss"], ["r1", "r2", "r6", "r5", "r4", "r3"]),  # NaN sorts with the missing
    (["metrics.loss desc"], ["r2", "r1", "r6", "r5", "r4", "r3"]),
    (["end_time desc"], ["r6", "r5", "r3", "r2", "r1", "r4"]),
    (["end_time"], ["r1", "r2", "r3", "r5", "r6", "r4"]),
    (["tags.team asc, metrics.auc desc"], ["r5", "r2", "r1", "r6", "r3", "r4"]),
    (["tags.team desc", "start_time"], ["r1", "r3", "r6", "r2", "r5", "r4"]),
    (["user", "start_time asc"], ["r1", "r3", "r6", "r2", "r5", "r4"]),
    (["status desc", "id"], ["r4", "r5", "r1", "r2", "r6", "r3"]),
    (["params.optimizer desc", "params.lr desc"], ["r4", "r1", "r3", "r2", "r6", "r5"]),
]


@pytest.mark.parametrize(("order", "expected"), ORDERS)
def test_order_by_sorts_missing_values_last(
    engine: Engine, order: list[str], expected: list[str]
) -> None:
    assert search(engine, order=order) == expected


def test_filter_and_order_combine(engine: Engine) -> None:
    assert search(engine, "metrics.auc > 0.8", ["metrics.auc"]) == ["r2", "r5", "r1"]


def test_order_joins_onto_a_select_already_joined_to_experiments(engine: Engine) -> None:
    stmt = (
        select(RunRow.id, ExperimentRow.name)
        .join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
        .where(ExperimentRow.name == "exp")
        .where(filter_clause(parse_filter("tags.team = 'vision'")))  # type: ignore[arg-type]
    )
    stmt = apply_order(stmt, parse_order_by("metrics.auc desc, params.lr"))
    with engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(stmt)] == [
            ("r1", "exp"),
            ("r6", "exp"),  # no auc: by lr, '0.001' < '0.1'
            ("r3", "exp"),
        ]


INJECTIONS = [
    "name = 'alpha\\' OR \\'1\\'=\\'1'",
    "name = \"alpha' OR '1'='1\"",
    "tags.team = 'x\\'; DROP TABLE runs; --'",
    "params.lr in ('0.1\\') OR 1=1 --', 'x')",
    "name like '%\\' OR name LIKE \\'%'",
    "metrics.`auc' OR 1=1 --` > 0",
]


@pytest.mark.parametrize("filter_text", INJECTIONS)
def test_sql_in_a_string_literal_is_only_data(engine: Engine, filter_text: str) -> None:
    assert search(engine, filter_text) == []
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(RunRow)) == len(RUNS)


def test_filter_values_are_bound_parameters() -> None:
    expr = parse_filter("tags.team = 'sneaky_value' and metrics.auc > 0.123")
    assert expr is not None
    compiled = select(RunRow.id).where(filter_clause(expr)).compile()
    assert "sneaky_value" not in str(compiled)
    assert "0.123" not in str(compiled)
    assert {"team", "sneaky_value", "auc", 0.123} <= set(compiled.params.values())
