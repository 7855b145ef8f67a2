"""Check evaluations through ``yard server``: roles, input validation, replayed requests, and
the `yard check` gate run against a team workspace."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard.domain.evaluations import CheckStatus
from modelyard.errors import AccessDenied, InvalidValue
from modelyard.store.rest import open_rest_store
from test_checks_store import evaluation, register

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(yard_server: Any) -> Any:
    """The live server, emptied, with ``churn`` version 1 registered by the admin."""
    yard_server.reset()
    admin = open_rest_store(yard_server.url, token=yard_server.token)
    register(admin)
    admin.close()
    return yard_server


def test_a_viewer_reads_evaluations_but_cannot_record_one(server: Any) -> None:
    admin = open_rest_store(server.url, token=server.token)
    stored = admin.evaluations.add(evaluation())
    admin.close()
    viewer = open_rest_store(
        server.url, token=server.user(f"viewer-{uuid.uuid4().hex[:8]}", "viewer")
    )
    with pytest.raises(AccessDenied, match="needs the contributor role on model:churn"):
        viewer.evaluations.add(evaluation())
    assert viewer.evaluations.get(stored.id).id == stored.id
    assert [e.id for e in viewer.evaluations.list("churn", 1)] == [stored.id]
    viewer.close()


def test_a_grant_on_another_model_does_not_reveal_an_evaluation(server: Any) -> None:
    admin = open_rest_store(server.url, token=server.token)
    stored = admin.evaluations.add(evaluation())
    admin.close()
    token = server.user(f"outsider-{uuid.uuid4().hex[:8]}", "viewer", "model:other")
    outsider = open_rest_store(server.url, token=token)
    with pytest.raises(AccessDenied, match="viewer role on model:churn"):
        outsider.evaluations.get(stored.id)
    with pytest.raises(AccessDenied):
        outsider.evaluations.list("churn", 1)
    outsider.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"suite_digest": "x" * 81}, "suite_digest"),
        ({"data_uri": ""}, "data_uri"),
        ({"compared_with": "models:/churn/\x00"}, "compared_with"),
    ],
)
def test_invalid_input_is_refused_with_a_one_line_error(
    server: Any, change: dict[str, Any], field: str
) -> None:
    store = open_rest_store(server.url, token=server.token)
    with pytest.raises(InvalidValue, match=field) as raised:
        store.evaluations.add(dataclasses.replace(evaluation(), **change))
    assert "\n" not in str(raised.value) and raised.value.field == f"body.{field}"
    assert store.evaluations.list("churn", 1) == []
    store.close()


def test_an_unknown_check_status_is_a_422_naming_the_field(server: Any) -> None:
    body = {"suite_digest": "d", "data_uri": "data:churn@1", "status": "MAYBE"}
    answer = httpx.post(
        f"{server.url}/api/v1/models/churn/versions/1/evaluations",
        json=body,
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert answer.status_code == 422
    assert (answer.json()["code"], answer.json()["field"]) == ("validation_error", "body.status")


def test_a_replayed_evaluation_is_stored_once(server: Any) -> None:
    body = {
        "suite_digest": "d",
        "data_uri": "data:churn@1",
        "status": "PASSED",
        "outcomes": [{"name": "auc", "kind": "metric", "status": "PASSED", "value": 0.9}],
    }
    headers = {"Authorization": f"Bearer {server.token}", "Idempotency-Key": "eval-1"}
    url = f"{server.url}/api/v1/models/churn/versions/1/evaluations"
    first, again = (httpx.post(url, json=body, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    store = open_rest_store(server.url, token=server.token)
    assert len(store.evaluations.list("churn", 1)) == 1
    store.close()


def test_yard_check_gates_a_model_on_a_team_server(
    yard_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    pytest.importorskip("sklearn")
    from checks_world import build
    from modelyard.cli import main
    from modelyard.workspace import open_workspace

    yard_server.reset()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YARD_URI", yard_server.url)
    monkeypatch.setenv("YARD_TOKEN", yard_server.token)
    ws = open_workspace()
    build(ws)
    ws.close()
    for name, least in (("pass", 0.7), ("fail", 0.99)):
        (tmp_path / f"{name}.yaml").write_text(
            f"target: churned\nmodel:\n  metrics:\n    - {{metric: roc_auc, min: {least}}}\n"
        )
    check = ["check", "models:/churn/1", "--data", "churn@2", "--suite"]
    assert main([*check, "pass.yaml", "--junit", "r.xml"]) == 0
    assert main([*check, "fail.yaml"]) == 1
    capsys.readouterr()
    assert main(["models", "checks", "churn/1", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert [(e["status"], e["created_by"]) for e in stored] == [
        (CheckStatus.FAILED.value, "tester"),
        (CheckStatus.PASSED.value, "tester"),
    ]
    assert not (tmp_path / ".yard").exists()
