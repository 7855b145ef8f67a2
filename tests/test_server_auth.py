"""Team server authentication and permissions: tokens, roles, scopes, audit actors."""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from typing import Any

import httpx
import pytest

from modelyard.blobs.hashing import hash_bytes
from modelyard.domain.models import NewModelVersion
from modelyard.domain.records import Metric
from modelyard.errors import AccessDenied, InvalidValue, Unauthenticated
from modelyard.models import allow_all
from modelyard.server import check_bind, is_loopback
from modelyard.store.rest import open_rest_store

pytestmark = pytest.mark.postgres
ROLES = ["viewer", "contributor", "maintainer", "admin"]
RANK = {role: i for i, role in enumerate(ROLES)}
BLOB = b"permission test blob"
DIGEST = hash_bytes(BLOB)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def clients() -> Any:
    opened: list[httpx.Client] = []

    def make(server: Any, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        opened.append(httpx.Client(base_url=server.url, headers=headers, timeout=30))
        return opened[-1]

    yield make
    for http in opened:
        http.close()


@pytest.fixture(scope="module")
def setting(yard_server: Any) -> dict[str, Any]:
    """An experiment with one run and a registered model (version 1 aliased ``champion``),
    made by the admin, and one token per role."""
    admin = open_rest_store(yard_server.url, token=yard_server.token)
    experiment = unique("perm")
    from test_store_contract import new_run

    run = admin.runs.create(new_run(experiment))
    admin.runs.log_metrics(run.id, [Metric("m", 1.0, 0, 1)])
    model = model_of(experiment)
    admin.models.add_version(NewModelVersion(model, DIGEST, "sklearn", run.uri, run.id))
    admin.models.set_alias(model, "champion", 1, allow_all)
    admin.close()
    tokens = {role: yard_server.user(unique(role), role) for role in ROLES}
    tokens["none"] = yard_server.user(unique("nobody"), None)
    return {"experiment": experiment, "run": run.id, "tokens": tokens}


def model_of(experiment: str) -> str:
    return f"{experiment}-model"


def routes(experiment: str, run: str) -> list[tuple[str, str, Any, str]]:
    """(method, path, JSON body, least role) for every API route."""
    from test_store_contract import new_run

    fresh = new_run(experiment)
    new = {
        "id": fresh.id,
        "experiment_name": experiment,
        "name": "r",
        "start_time": 1,
        "user": "x",
        "host": "h",
        "command": "c",
    }
    digest = "blake3:" + "0" * 64
    version = {
        "dataset": unique("ds"),
        "content_digest": digest,
        "manifest_digest": digest,
        "kind": "file",
        "total_size": 1,
        "file_count": 1,
    }
    points = {"keys": ["m"], "values": [1.0], "steps": [1], "timestamps": [1]}
    user = unique("target")
    model = f"/api/v1/models/{model_of(experiment)}"
    model_version = {"package_digest": DIGEST, "flavor": "sklearn", "source": "x"}
    return [
        ("GET", "/api/v1/experiments", None, "viewer"),
        ("POST", "/api/v1/experiments", {"name": unique("e")}, "contributor"),
        ("GET", f"/api/v1/experiments/{experiment}", None, "viewer"),
        ("PUT", f"/api/v1/experiments/{experiment}", None, "contributor"),
        ("POST", "/api/v1/experiments/-/rename", {"name": "nope", "new_name": "x"}, "maintainer"),
        ("POST", "/api/v1/experiments/-/restore", {"name": "nope"}, "maintainer"),
        ("DELETE", "/api/v1/experiments/nope", None, "maintainer"),
        ("POST", "/api/v1/runs", new, "contributor"),
        ("POST", "/api/v1/runs/search", {"experiments": [experiment]}, "viewer"),
        ("GET", f"/api/v1/runs/{run}", None, "viewer"),
        ("POST", f"/api/v1/runs/{run}/params", {"params": {"p": "1"}}, "contributor"),
        ("POST", f"/api/v1/runs/{run}/tags", {"tags": {"t": "1"}}, "contributor"),
        ("POST", f"/api/v1/runs/{run}/metrics", points, "contributor"),
        ("GET", f"/api/v1/runs/{run}/metric-history?key=m", None, "viewer"),
        ("POST", f"/api/v1/runs/{run}/artifacts", {"artifacts": []}, "contributor"),
        ("GET", f"/api/v1/runs/{run}/artifacts", None, "viewer"),
        ("DELETE", f"/api/v1/runs/{run}", None, "contributor"),
        ("POST", f"/api/v1/runs/{run}/restore", None, "contributor"),
        ("POST", "/api/v1/runs/nope/end", {"status": "FINISHED", "end_time": 2}, "contributor"),
        ("POST", "/api/v1/lineage", {"source": "a", "target": "b", "relation": "r"}, "contributor"),
        ("GET", "/api/v1/lineage/upstream?uri=b", None, "viewer"),
        ("GET", "/api/v1/audit", None, "maintainer"),
        ("POST", "/api/v1/datasets/versions", version, "contributor"),
        ("GET", "/api/v1/datasets", None, "viewer"),
        ("GET", "/api/v1/datasets/-/by-source?source=x", None, "viewer"),
        ("GET", "/api/v1/datasets/-/resolve?ref=nope", None, "viewer"),
        ("GET", "/api/v1/datasets/nope", None, "viewer"),
        ("GET", "/api/v1/datasets/nope/versions", None, "viewer"),
        ("HEAD", f"/api/v1/blobs/{DIGEST}", None, "viewer"),
        ("GET", f"/api/v1/blobs/{DIGEST}", None, "viewer"),
        ("PUT", f"/api/v1/blobs/{DIGEST}", BLOB, "contributor"),
        ("GET", "/api/v1/users/me", None, "viewer"),
        ("GET", "/api/v1/users", None, "admin"),
        ("POST", "/api/v1/users", {"name": user, "role": "viewer"}, "admin"),
        ("GET", f"/api/v1/users/{user}", None, "admin"),
        ("POST", f"/api/v1/users/{user}/grants", {"role": "viewer"}, "admin"),
        ("DELETE", f"/api/v1/users/{user}/grants?scope=global", None, "admin"),
        ("POST", f"/api/v1/users/{user}/tokens", {}, "admin"),
        ("GET", f"/api/v1/users/{user}/tokens", None, "admin"),
        ("POST", f"/api/v1/users/{user}/revoke", None, "admin"),
        ("DELETE", "/api/v1/tokens/nope", None, "admin"),
        ("GET", "/api/v1/models", None, "viewer"),
        ("POST", "/api/v1/models", {"name": unique("m")}, "contributor"),
        ("GET", f"/api/v1/models/-/by-run?run_id={run}", None, "viewer"),
        ("GET", model, None, "viewer"),
        ("POST", f"{model}/tags", {"tags": {"t": "1"}}, "contributor"),
        ("PUT", f"{model}/description", {"description": "d"}, "contributor"),
        ("POST", f"{model}/versions", model_version, "contributor"),
        ("GET", f"{model}/versions", None, "viewer"),
        ("GET", f"{model}/resolve?alias=champion", None, "viewer"),
        ("GET", f"{model}/versions/1", None, "viewer"),
        ("POST", f"{model}/versions/1/tags", {"tags": {"t": "1"}}, "contributor"),
        ("PUT", f"{model}/versions/1/description", {"description": "d"}, "contributor"),
        ("DELETE", f"{model}/versions/99", None, "maintainer"),
        ("PUT", f"{model}/aliases/champion", {"version": 1}, "maintainer"),
        ("DELETE", f"{model}/aliases/nope", None, "maintainer"),
        ("GET", f"{model}/alias-history", None, "viewer"),
        (
            "POST",
            f"{model}/versions/1/evaluations",
            {"suite_digest": "d", "data_uri": "data:x@1", "status": "PASSED"},
            "contributor",
        ),
        ("GET", f"{model}/versions/1/evaluations", None, "viewer"),
        ("GET", "/api/v1/evaluations/nope", None, "viewer"),
    ]


def send(http: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    if isinstance(body, bytes):
        return http.request(method, path, content=body)
    return http.request(method, path, json=body)


def test_the_role_table_covers_every_route(yard_server: Any, setting: dict[str, Any]) -> None:
    schema = httpx.get(yard_server.url + "/openapi.json").json()
    served = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1")
        for method in item
    }
    table = {(m, p.split("?")[0]) for m, p, _, _ in routes(setting["experiment"], setting["run"])}
    templated = {(m, _template(p, setting["experiment"], setting["run"])) for m, p in table}
    assert served <= templated | {("HEAD", p) for _, p in templated}, served - templated


def _template(path: str, experiment: str, run: str) -> str:
    parts = path.split("/")
    rules = {
        4: {
            "experiments": "{name}",
            "runs": "{run_id}",
            "datasets": "{name}",
            "blobs": "{digest}",
            "users": "{name}",
            "tokens": "{token_id}",
            "lineage": "{direction}",
            "models": "{name}",
            "evaluations": "{evaluation_id}",
        },
    }
    if (
        len(parts) > 4
        and parts[3] in rules[4]
        and parts[4] not in ("-", "search", "me", "versions", "")
    ):
        parts[4] = rules[4][parts[3]]
    if len(parts) > 6 and parts[3] == "models":
        parts[6] = {"versions": "{number}", "aliases": "{alias}"}.get(parts[5], parts[6])
    return "/".join(parts)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_403_exactly_where_it_should(
    clients: Any, yard_server: Any, setting: dict[str, Any], role: str
) -> None:
    http = clients(yard_server, setting["tokens"][role])
    wrong = []
    for method, path, body, least in routes(setting["experiment"], setting["run"]):
        response = send(http, method, path, body)
        allowed = RANK[role] >= RANK[least]
        assert response.status_code < 500, (method, path, response.text)
        if allowed == (response.status_code == 403):
            wrong.append((method, path, least, response.status_code, response.text[:120]))
    assert wrong == []


def test_a_user_without_grants_can_only_ask_who_they_are(
    clients: Any, yard_server: Any, setting: dict[str, Any]
) -> None:
    http = clients(yard_server, setting["tokens"]["none"])
    for method, path, body, _ in routes(setting["experiment"], setting["run"]):
        status = send(http, method, path, body).status_code
        assert status == (200 if path.endswith("/users/me") else 403), (method, path, status)


def test_a_grant_on_one_experiment_covers_only_that_experiment(
    yard_server: Any, setting: dict[str, Any]
) -> None:
    mine, other = unique("mine"), setting["experiment"]
    token = yard_server.user(unique("scoped"), "contributor", f"experiment:{mine}")
    store = open_rest_store(yard_server.url, token=token)
    from test_store_contract import new_run

    run = store.runs.create(new_run(mine))
    store.runs.log_metrics(run.id, [Metric("m", 1.0, 0, 1)])
    assert [e.name for e in store.experiments.list()] == [mine]
    assert [r.id for r in store.runs.search().items] == [run.id]
    with pytest.raises(AccessDenied, match="contributor role on experiment"):
        store.runs.create(new_run(other))
    with pytest.raises(AccessDenied):
        store.runs.log_metrics(setting["run"], [Metric("m", 1.0, 0, 1)])
    with pytest.raises(AccessDenied):
        store.runs.get(setting["run"])
    store.close()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic abc", "Bearer yard_nope", "Bearer yard_0000000000000000_wrong"],
)
def test_missing_malformed_or_unknown_tokens_get_401(yard_server: Any, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.get(yard_server.url + "/api/v1/experiments", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthenticated" and body["message"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_secret_for_a_real_token_id_gets_401(yard_server: Any) -> None:
    token = yard_server.user(unique("u"), "viewer")
    forged = token.rsplit("_", 1)[0] + "_" + "x" * 20
    assert (
        httpx.get(
            yard_server.url + "/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"}
        ).status_code
        == 401
    )


def test_revoked_users_and_tokens_get_401(clients: Any, yard_server: Any) -> None:
    name = unique("leaver")
    token = yard_server.user(name, "contributor")
    admin = clients(yard_server, yard_server.token)
    assert clients(yard_server, token).get("/api/v1/users/me").status_code == 200
    assert admin.post(f"/api/v1/users/{name}/revoke").status_code == 200
    response = clients(yard_server, token).get("/api/v1/users/me")
    assert response.status_code == 401 and "revoked" in response.json()["message"]

    other = unique("rotating")
    second = yard_server.user(other, "viewer")
    token_id = second.split("_")[1]
    assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200
    assert clients(yard_server, second).get("/api/v1/users/me").status_code == 401


def test_expired_tokens_get_401(clients: Any, yard_server: Any) -> None:
    token = yard_server.user(unique("temp"), "viewer", expires_at=int(time.time() * 1000) + 300)
    time.sleep(0.4)
    response = clients(yard_server, token).get("/api/v1/users/me")
    assert response.status_code == 401 and "expired" in response.json()["message"]
    with pytest.raises(Unauthenticated, match="expired"):
        open_rest_store(yard_server.url, token=token)


def test_health_probes_need_no_token(yard_server: Any) -> None:
    assert httpx.get(yard_server.url + "/healthz").json()["status"] == "ok"
    assert httpx.get(yard_server.url + "/readyz").json()["status"] == "ready"
    assert httpx.get(yard_server.url + "/docs").status_code == 200
    assert "/api/v1/runs" in httpx.get(yard_server.url + "/openapi.json").json()["paths"]


def test_audit_events_name_the_user_behind_the_token(yard_server: Any) -> None:
    name = unique("alice")
    store = open_rest_store(yard_server.url, token=yard_server.user(name, "contributor"))
    from test_store_contract import new_run

    run = store.runs.create(new_run(unique("audited")))
    store.runs.log_metrics(run.id, [Metric("m", 1.0, 0, 1)])
    store.close()
    admin = open_rest_store(yard_server.url, token=yard_server.token)
    events = admin.audit.events(subject=run.uri)
    admin.close()
    assert {e.actor for e in events} == {name}
    assert {e.action for e in events} == {"run.create", "run.log_metrics"}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_auth_none_is_refused_off_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_bind(host, "none")
    else:
        with pytest.raises(InvalidValue, match="refusing to serve"):
            check_bind(host, "none")
    check_bind(host, "token")


def test_yard_server_cli_refuses_auth_none_on_a_public_address(tmp_path: Any) -> None:
    from modelyard.cli import main

    code = main(
        [
            "server",
            "--db",
            f"sqlite:///{tmp_path / 'y.db'}",
            "--blobs",
            str(tmp_path / "b"),
            "--host",
            "0.0.0.0",
            "--auth",
            "none",
        ]
    )
    assert code == 2


def test_bootstrap_admin_then_login_saves_the_token_privately(
    yard_server: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from modelyard.cli import main

    monkeypatch.setenv("YARD_URI", yard_server.db_url)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    boss = unique("boss")
    assert main(["users", "create", boss, "--role", "admin", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["user"]["grants"] == [{"role": "admin", "scope": "global"}]
    token = created["token"]

    monkeypatch.setenv("YARD_URI", yard_server.url)
    assert main(["login", yard_server.url, "--token", token]) == 0
    path = tmp_path / "config" / "modelyard" / "credentials.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    capsys.readouterr()
    # with the saved token, admin commands go through the server
    alice = unique("alice")
    assert main(["users", "create", alice, "--role", "contributor", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["token"].startswith("yard_")
    assert main(["users", "grant", alice, "maintainer", "--experiment", "churn"]) == 0
    assert "maintainer (experiment:churn)" in capsys.readouterr().out
    assert main(["users", "list", "--json"]) == 0
    listed = {u["name"]: u for u in json.loads(capsys.readouterr().out)}
    assert {"role": "maintainer", "scope": "experiment:churn"} in listed[alice]["grants"]
    assert main(["users", "revoke", alice]) == 0
