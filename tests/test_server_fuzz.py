"""Property-based fuzz of the API from its own OpenAPI schema: no input yields a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="the fuzz test needs schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

pytestmark = pytest.mark.postgres


@pytest.fixture
def fuzz_token(yard_server: Any) -> str:
    import uuid

    return yard_server.user(f"fuzz-{uuid.uuid4().hex[:6]}", "admin")


@pytest.mark.parametrize("examples", [10, pytest.param(200, marks=pytest.mark.slow)])
def test_no_request_the_schema_allows_gets_a_server_error(
    yard_server: Any, fuzz_token: str, examples: int
) -> None:
    schema = schemathesis.openapi.from_url(yard_server.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    failures: list[tuple[str, str, int, str]] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(
                    (case.method, case.formatted_path, response.status_code, response.text[:200])
                )

        check()
    assert failures == []
