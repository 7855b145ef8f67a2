"""The model registry through ``yard server``: the fluent API, the CLI, model-scoped grants,
the server-side alias policy and idempotent registration, end to end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import modelyard as yard
from modelyard.domain.models import AliasChange, ModelRef, NewModelVersion
from modelyard.errors import AccessDenied, PolicyDenied
from modelyard.models import allow_all
from modelyard.store.rest import open_rest_store

pytestmark = pytest.mark.postgres
DIGEST = "blake3:" + "1" * 64


def refuse_champion_moves(change: AliasChange) -> None:
    """The policy of the policed server: ``champion``, once set, only moves with approval."""
    if change.alias == "champion" and change.before is not None:
        raise PolicyDenied(
            f"{change.actor} may not move {change.model}@champion from version "
            f"{change.before} to {change.after} without an approval"
        )


@pytest.fixture
def team(yard_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The fluent API and the CLI pointed at the live server (YARD_URI=http://...)."""
    yard_server.reset()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YARD_URI", yard_server.url)
    monkeypatch.setenv("YARD_TOKEN", yard_server.token)
    return yard_server


@pytest.fixture(scope="module")
def policed_server(yard_server: Any) -> Iterator[Any]:
    """A second server (own schema, same bucket) whose alias policy refuses champion moves."""
    from conftest import postgres_url
    from server_fixture import YardServer, drop_schema, pg_schema

    base = postgres_url()
    assert base
    schema, url = pg_schema(base)
    server = YardServer(
        db_url=url,
        blobs_url=yard_server.blobs_url,
        s3_endpoint=yard_server.s3_endpoint,
        extra_args=("--alias-policy", f"{__name__}:refuse_champion_moves"),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(Path(__file__).parent))
        try:
            server.start()
            yield server
        finally:
            server.stop()
            drop_schema(base, schema)


def training_data() -> tuple[pd.DataFrame, pd.Series]:
    x = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30) % 4})
    return x, (x["a"] > 14).astype(int)


def test_log_register_alias_load_and_predict_through_the_server(team: Any) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = training_data()
    with yard.start_run(experiment="team-models") as run:
        model = LogisticRegression().fit(x, y)
        first = yard.log_model(model, name="churn", input_example=x.head(3))
        yard.log_model(model, artifact_path="candidate")
    second = yard.register_model(f"runs:/{run.id}/candidate", "churn", description="retrained")
    assert (first.version.number, second.number) == (1, 2)  # type: ignore[union-attr]
    yard.set_model_alias("churn", "champion", 2)

    loaded = yard.load_model("models:/churn@champion")
    assert loaded.version is not None and loaded.version.number == 2
    assert list(loaded.predict(x)) == list(model.predict(x))
    assert list(yard.load_model("models:/churn/1").predict(x.head(5))) == list(
        model.predict(x.head(5))
    )

    # metadata and package bytes both live on the server
    client = yard.models.client()
    assert client.store.uri == team.url and client.blobs.exists(first.package_digest)
    headers = {"Authorization": f"Bearer {team.token}"}
    head = httpx.head(f"{team.url}/api/v1/blobs/{first.package_digest}", headers=headers)
    assert head.status_code == 200
    assert not (Path.cwd() / ".yard").exists()
    history = client.alias_history("churn", "champion")
    assert [(h.before, h.after, h.actor) for h in history] == [(None, 2, "tester")]
    assert [v.number for v in client.store.models.versions_of_run(run.id)] == [1, 2]


def test_yard_models_commands_work_in_team_mode(
    team: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.linear_model import LogisticRegression

    from modelyard.cli import main

    x, y = training_data()
    with yard.start_run(experiment="team-cli"):
        yard.log_model(LogisticRegression().fit(x, y), name="fraud", input_example=x.head(2))
    capsys.readouterr()
    assert main(["models", "alias", "fraud", "1", "champion"]) == 0
    assert main(["models", "tag", "fraud@champion", "reviewed=yes"]) == 0
    assert main(["models", "describe", "fraud", "-m", "fraud model"]) == 0
    capsys.readouterr()
    assert main(["models", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["name"], listed["description"]) == ("fraud", "fraud model")
    assert main(["models", "show", "fraud@champion", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["version"]
    assert (shown["number"], shown["tags"]) == (1, {"reviewed": "yes"})
    assert main(["models", "show", "frod/1"]) != 0
    assert "did you mean 'fraud'" in capsys.readouterr().err


def test_the_server_policy_governs_alias_moves_and_refuses_with_403(
    policed_server: Any,
) -> None:
    store = open_rest_store(policed_server.url, token=policed_server.token)
    name = f"gov-{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        store.models.add_version(NewModelVersion(name, DIGEST, "sklearn", "x"))
    store.models.set_alias(name, "champion", 1, allow_all)  # a first setting is allowed
    with pytest.raises(PolicyDenied, match="without an approval"):
        store.models.set_alias(name, "champion", 2, allow_all)
    with pytest.raises(PolicyDenied):
        store.models.delete_alias(name, "champion", allow_all)
    assert store.models.resolve(ModelRef(name, alias="champion")).number == 1
    assert len(store.models.alias_history(name)) == 1
    store.close()

    response = httpx.put(
        f"{policed_server.url}/api/v1/models/{name}/aliases/champion",
        json={"version": 2},
        headers={"Authorization": f"Bearer {policed_server.token}"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "policy_denied"


def test_a_grant_on_one_model_covers_only_that_model(yard_server: Any) -> None:
    yard_server.reset()
    mine, other = f"mine-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    admin = open_rest_store(yard_server.url, token=yard_server.token)
    admin.models.add_version(NewModelVersion(other, DIGEST, "sklearn", "x"))
    admin.close()

    token = yard_server.user(f"u-{uuid.uuid4().hex[:8]}", "contributor", f"model:{mine}")
    store = open_rest_store(yard_server.url, token=token)
    assert store.models.add_version(NewModelVersion(mine, DIGEST, "sklearn", "x")).number == 1
    assert [m.name for m in store.models.list_models()] == [mine]
    with pytest.raises(AccessDenied, match=f"contributor role on model:{other}"):
        store.models.add_version(NewModelVersion(other, DIGEST, "sklearn", "x"))
    with pytest.raises(AccessDenied):
        store.models.get_model(other)
    with pytest.raises(AccessDenied, match="maintainer role"):
        store.models.set_alias(mine, "champion", 1, allow_all)
    store.close()

    keeper = yard_server.user(f"k-{uuid.uuid4().hex[:8]}", "maintainer", f"model:{mine}")
    store = open_rest_store(yard_server.url, token=keeper)
    assert store.models.set_alias(mine, "champion", 1, allow_all).after == 1
    with pytest.raises(AccessDenied):
        store.models.set_alias(other, "champion", 1, allow_all)
    store.close()


def test_a_replayed_registration_or_alias_move_applies_once(yard_server: Any) -> None:
    yard_server.reset()
    base = f"{yard_server.url}/api/v1/models/replayed"
    auth = {"Authorization": f"Bearer {yard_server.token}"}
    body = {"package_digest": DIGEST, "flavor": "sklearn", "source": "x"}
    first, again = (
        httpx.post(f"{base}/versions", json=body, headers={**auth, "Idempotency-Key": "reg-1"})
        for _ in range(2)
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    moves = [
        httpx.put(
            f"{base}/aliases/champion",
            json={"version": 1},
            headers={**auth, "Idempotency-Key": "move-1"},
        ).json()
        for _ in range(2)
    ]
    assert moves[0] == moves[1] and (moves[0]["before"], moves[0]["after"]) == (None, 1)
    store = open_rest_store(yard_server.url, token=yard_server.token)
    assert [v.number for v in store.models.versions("replayed")] == [1]
    assert len(store.models.alias_history("replayed")) == 1
    store.close()


def test_a_client_side_policy_still_refuses_before_anything_is_sent(team: Any) -> None:
    def refuse(change: AliasChange) -> None:
        raise PolicyDenied(f"no {change.alias} here")

    client = yard.ModelClient(yard.open_workspace(), policy=refuse)
    client.store.models.add_version(NewModelVersion("local", DIGEST, "sklearn", "x"))
    with pytest.raises(PolicyDenied, match="no champion here"):
        client.set_alias("local", "champion", 1)
    assert client.alias_history("local") == []
    client.store.close()
