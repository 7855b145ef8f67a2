"""Per-request context: who is asking (authenticated from the bearer token), what their
grants allow, and a view of the metadata store acting as them."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Header, Request

from modelyard.blobs import BlobStore
from modelyard.domain.users import GLOBAL, Grant, Principal, Role, Scope, ScopeKind
from modelyard.errors import AccessDenied, Unauthenticated
from modelyard.server._config import ServerConfig
from modelyard.store.base import MetadataStore
from modelyard.store.sql import SqlBackend


@dataclass(frozen=True, slots=True)
class AppState:
    config: ServerConfig
    backend: SqlBackend
    blobs: BlobStore


@dataclass(frozen=True, slots=True)
class Ctx:
    principal: Principal
    state: AppState
    idempotency_key: str | None

    @property
    def user(self) -> str:
        return self.principal.name

    def store(self) -> MetadataStore:
        return self.state.backend.store(self.user, idempotency_key=self.idempotency_key)

    def require(self, role: Role, scope: Scope = GLOBAL) -> None:
        if not self.principal.allows(role, scope):
            have = self.principal.role_in(scope)
            where = "globally" if scope == GLOBAL else f"on {scope}"
            raise AccessDenied(
                f"user {self.user!r} needs the {role.value} role {where} for this "
                f"(has {have.value if have else 'no role'}); ask an admin: "
                f"`yard users grant {self.user} {role.value}`"
            )

    def require_experiment(self, role: Role, name: str) -> None:
        self.require(role, Scope(ScopeKind.EXPERIMENT, name))

    def require_run(self, role: Role, run_id: str) -> None:
        if self.principal.allows(role):
            return
        self.require_somewhere(role)  # refuse before revealing whether the run exists
        self.require_experiment(role, self.store().runs.get(run_id).experiment_name)

    def require_somewhere(self, role: Role) -> None:
        if not self.principal.allows_somewhere(role):
            raise AccessDenied(
                f"user {self.user!r} needs the {role.value} role (globally or on an experiment "
                "or model) for this; ask an admin to grant it"
            )

    def visible_experiments(self) -> list[str] | None:
        """None when every experiment is visible; else the names this user may read."""
        if self.principal.allows(Role.VIEWER):
            return None
        return self.principal.scoped_names(ScopeKind.EXPERIMENT, Role.VIEWER)


def state(request: Request) -> AppState:
    return request.app.state.yard  # type: ignore[no-any-return]


def context(
    app: AppState = Depends(state),
    authorization: str | None = Header(None, description="Bearer <API token>"),
    idempotency_key: str | None = Header(
        None, max_length=64, description="Makes a retried write apply once"
    ),
) -> Ctx:
    if app.config.auth == "none":
        principal = Principal(app.config.local_user, (Grant(Role.ADMIN),))
    else:
        principal = authenticate(app, authorization)
    return Ctx(principal, app, idempotency_key)


def authenticate(app: AppState, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthenticated(
            "no API token: send 'Authorization: Bearer <token>' (set YARD_TOKEN, or run "
            "`yard login`)"
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return app.backend.users("").authenticate(token.strip())
