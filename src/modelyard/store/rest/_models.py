"""The model registry over HTTP (``/api/v1/models``), and its JSON wire format.

Both sides use the ``*_to_json`` / ``*_from_json`` functions below, so the format is defined
once. Registering a version and moving or removing an alias carry an idempotency key: a
request retried after a dropped connection is applied once, and answers as the first did.

Alias policies: the server owns the policy that governs alias moves and runs it inside its
write transaction (a refusal is ``PolicyDenied``, HTTP 403 ``policy_denied``). The ``check``
a caller passes (``ModelClient(policy=...)``, ``allow_all`` by default) cannot run in that
transaction, so it runs here first, on the move as it looks from the alias's current target,
and a refusal sends nothing to the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from modelyard.domain.models import (
    AliasChange,
    ModelRef,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
    VersionStatus,
    check_alias,
    check_model_name,
)
from modelyard.store.rest._http import Transport, new_key

Json = dict[str, Any]


def _seg(text: str) -> str:
    return quote(text, safe="")


# -- wire format ----------------------------------------------------------------------------------


def model_to_json(m: RegisteredModel) -> Json:
    return {
        "name": m.name,
        "description": m.description,
        "owner": m.owner,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "tags": dict(m.tags),
        "aliases": dict(m.aliases),
        "latest_version": m.latest_version,
        "version_count": m.version_count,
    }


def model_from_json(d: Mapping[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=d["name"],
        description=d["description"],
        owner=d["owner"],
        created_at=d["created_at"],
        updated_at=d["updated_at"],
        tags=dict(d["tags"]),
        aliases=dict(d["aliases"]),
        latest_version=d["latest_version"],
        version_count=d["version_count"],
    )


def model_version_to_json(v: ModelVersion) -> Json:
    return {
        "name": v.name,
        "number": v.number,
        "package_digest": v.package_digest,
        "flavor": v.flavor,
        "source": v.source,
        "run_id": v.run_id,
        "status": v.status.value,
        "description": v.description,
        "created_by": v.created_by,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
        "tags": dict(v.tags),
        "aliases": list(v.aliases),
    }


def model_version_from_json(d: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=d["name"],
        number=d["number"],
        package_digest=d["package_digest"],
        flavor=d["flavor"],
        source=d["source"],
        run_id=d["run_id"],
        status=VersionStatus(d["status"]),
        description=d["description"],
        created_by=d["created_by"],
        created_at=d["created_at"],
        updated_at=d["updated_at"],
        tags=dict(d["tags"]),
        aliases=tuple(d["aliases"]),
    )


def new_model_version_to_json(n: NewModelVersion) -> Json:
    return {
        "package_digest": n.package_digest,
        "flavor": n.flavor,
        "source": n.source,
        "run_id": n.run_id,
        "description": n.description,
        "tags": dict(n.tags),
    }


def alias_change_to_json(c: AliasChange) -> Json:
    return {
        "model": c.model,
        "alias": c.alias,
        "before": c.before,
        "after": c.after,
        "actor": c.actor,
        "timestamp": c.timestamp,
    }


def alias_change_from_json(d: Mapping[str, Any]) -> AliasChange:
    return AliasChange(d["model"], d["alias"], d["before"], d["after"], d["actor"], d["timestamp"])


# -- the store ------------------------------------------------------------------------------------


class RestModelRegistryStore:
    def __init__(self, http: Transport, actor: str) -> None:
        self._http = http
        self._actor = actor

    def create_model(self, name: str, description: str = "") -> RegisteredModel:
        check_model_name(name)
        body = {"name": name, "description": description}
        return model_from_json(self._http.call("POST", "/models", body=body, key=new_key()))

    def get_model(self, name: str) -> RegisteredModel:
        return model_from_json(self._http.call("GET", f"/models/{_seg(name)}"))

    def list_models(self) -> list[RegisteredModel]:
        return [model_from_json(m) for m in self._http.pages("/models")]

    def add_version(self, new: NewModelVersion) -> ModelVersion:
        check_model_name(new.name)
        answer = self._http.call(
            "POST",
            f"/models/{_seg(new.name)}/versions",
            body=new_model_version_to_json(new),
            key=new_key(),
        )
        return model_version_from_json(answer)

    def get_version(self, name: str, number: int) -> ModelVersion:
        answer = self._http.call("GET", f"/models/{_seg(name)}/versions/{int(number)}")
        return model_version_from_json(answer)

    def versions(self, name: str, *, include_deleted: bool = False) -> list[ModelVersion]:
        items = self._http.pages(
            f"/models/{_seg(name)}/versions", {"include_deleted": include_deleted}
        )
        return [model_version_from_json(v) for v in items]

    def resolve(self, ref: ModelRef) -> ModelVersion:
        params: dict[str, Any] = {}
        if ref.number is not None:
            params["number"] = ref.number
        if ref.alias is not None:
            params["alias"] = ref.alias
        answer = self._http.call("GET", f"/models/{_seg(ref.name)}/resolve", params=params)
        return model_version_from_json(answer)

    def versions_of_run(self, run_id: str) -> list[ModelVersion]:
        items = self._http.pages("/models/-/by-run", {"run_id": run_id})
        return [model_version_from_json(v) for v in items]

    def set_alias(
        self, name: str, alias: str, number: int, check: Callable[[AliasChange], None]
    ) -> AliasChange:
        check_alias(alias)
        current = self.get_model(name).aliases.get(alias)
        check(AliasChange(name, alias, current, number, self._actor))
        answer = self._http.call(
            "PUT",
            f"/models/{_seg(name)}/aliases/{_seg(alias)}",
            body={"version": number},
            key=new_key(),
        )
        return alias_change_from_json(answer)

    def delete_alias(
        self, name: str, alias: str, check: Callable[[AliasChange], None]
    ) -> AliasChange:
        check_alias(alias)
        current = self.get_model(name).aliases.get(alias)
        if current is not None:  # else the server says there is nothing to remove
            check(AliasChange(name, alias, current, None, self._actor))
        path = f"/models/{_seg(name)}/aliases/{_seg(alias)}"
        return alias_change_from_json(self._http.call("DELETE", path, key=new_key()))

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        params = {} if alias is None else {"alias": alias}
        items = self._http.pages(f"/models/{_seg(name)}/alias-history", params)
        return [alias_change_from_json(c) for c in items]

    def set_model_tags(self, name: str, tags: Mapping[str, str]) -> RegisteredModel:
        body = {"tags": dict(tags)}
        answer = self._http.call("POST", f"/models/{_seg(name)}/tags", body=body, safe=True)
        return model_from_json(answer)

    def set_version_tags(self, name: str, number: int, tags: Mapping[str, str]) -> ModelVersion:
        path = f"/models/{_seg(name)}/versions/{int(number)}/tags"
        answer = self._http.call("POST", path, body={"tags": dict(tags)}, safe=True)
        return model_version_from_json(answer)

    def describe_model(self, name: str, description: str) -> RegisteredModel:
        body = {"description": description}
        answer = self._http.call("PUT", f"/models/{_seg(name)}/description", body=body)
        return model_from_json(answer)

    def describe_version(self, name: str, number: int, description: str) -> ModelVersion:
        path = f"/models/{_seg(name)}/versions/{int(number)}/description"
        answer = self._http.call("PUT", path, body={"description": description})
        return model_version_from_json(answer)

    def delete_version(self, name: str, number: int) -> ModelVersion:
        answer = self._http.call("DELETE", f"/models/{_seg(name)}/versions/{int(number)}")
        return model_version_from_json(answer)
