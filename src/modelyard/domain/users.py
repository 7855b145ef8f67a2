"""Users, API tokens and role grants of a team server. No I/O here.

Roles are ordered: ``viewer`` (read) < ``contributor`` (create runs, data, models) <
``maintainer`` (aliases, deployments, experiment renames and deletes) < ``admin`` (users,
settings). A grant gives a role globally or on one experiment or registered model; what a
user may do somewhere is the highest role among the grants that cover it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from modelyard.errors import InvalidName, InvalidValue

_USER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")


class Role(str, enum.Enum):
    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    MAINTAINER = "maintainer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def covers(self, other: Role) -> bool:
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.lower())
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise InvalidValue(
                f"unknown role {text!r}; valid roles are: {choices}", field="role"
            ) from None


_RANKS = {Role.VIEWER: 1, Role.CONTRIBUTOR: 2, Role.MAINTAINER: 3, Role.ADMIN: 4}


class ScopeKind(str, enum.Enum):
    GLOBAL = "global"
    EXPERIMENT = "experiment"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a grant applies: ``global``, ``experiment:churn`` or ``model:churn``."""

    kind: ScopeKind
    name: str = ""

    def __str__(self) -> str:
        return "global" if self.kind is ScopeKind.GLOBAL else f"{self.kind.value}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        if text.strip().lower() == "global":
            return GLOBAL
        kind, sep, name = text.partition(":")
        try:
            parsed = ScopeKind(kind.strip().lower())
        except ValueError:
            parsed = None
        if not sep or not name or parsed in (None, ScopeKind.GLOBAL):
            raise InvalidValue(
                f"unknown scope {text!r}; use 'global', 'experiment:<name>' or 'model:<name>'",
                field="scope",
            )
        return cls(parsed, name)  # type: ignore[arg-type]


GLOBAL = Scope(ScopeKind.GLOBAL)


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    scope: Scope = GLOBAL


@dataclass(frozen=True, slots=True)
class User:
    name: str
    created_at: int  # milliseconds since the epoch
    disabled: bool = False
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is stored about a token: never the token itself, only its hash."""

    id: str
    user: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None
    description: str = ""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as handed out once, at creation: ``secret`` is not stored anywhere."""

    info: TokenInfo
    secret: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated user of one request and everything their grants allow."""

    name: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def role_in(self, scope: Scope = GLOBAL) -> Role | None:
        """The highest role that applies in ``scope`` (global grants apply everywhere)."""
        best: Role | None = None
        for grant in self.grants:
            applies = grant.scope == GLOBAL or grant.scope == scope
            if applies and (best is None or grant.role.rank > best.rank):
                best = grant.role
        return best

    def allows(self, role: Role, scope: Scope = GLOBAL) -> bool:
        have = self.role_in(scope)
        return have is not None and have.covers(role)

    def allows_somewhere(self, role: Role) -> bool:
        """True when some grant, in any scope, gives at least ``role``."""
        return any(g.role.covers(role) for g in self.grants)

    def scoped_names(self, kind: ScopeKind, role: Role) -> list[str]:
        """Names of the ``kind`` scopes where a scoped grant gives at least ``role``."""
        return sorted(
            {g.scope.name for g in self.grants if g.scope.kind is kind and g.role.covers(role)}
        )


def check_user_name(name: str) -> str:
    if not _USER_RE.fullmatch(name):
        raise InvalidName(
            f"invalid user name {name!r}: use 1-100 letters, digits and _ . @ -, starting "
            "with a letter or digit",
            field="name",
        )
    return name
