"""Users, API tokens and role grants of a team server, in the metadata database.

A token reads ``yard_<id>_<secret>``. Only ``sha256(secret)`` is stored, next to the public
id it is looked up by; the secret is shown once, when the token is issued. Tokens can expire
and be revoked; revoking a user disables them and revokes all their tokens. Every change is
an audit event attributed to the acting user, written in the same transaction.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import secrets
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from modelyard.domain.users import (
    GLOBAL,
    Grant,
    IssuedToken,
    Principal,
    Role,
    Scope,
    ScopeKind,
    TokenInfo,
    User,
    check_user_name,
)
from modelyard.errors import AlreadyExists, InvalidValue, NotFound, Unauthenticated
from modelyard.store.sql._database import Database, now_ms
from modelyard.store.sql._schema import GrantRow, TokenRow, UserRow

TOKEN_PREFIX = "yard_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SqlUserStore:
    def __init__(self, db: Database, *, close: Callable[[], None] | None = None) -> None:
        self._db = db
        self._close = close

    def close(self) -> None:
        """Release the database connections (only of a store opened on its own engine)."""
        if self._close is not None:
            self._close()

    # -- users --------------------------------------------------------------------------------

    def create(self, name: str, role: Role | None = None, scope: Scope = GLOBAL) -> User:
        """A new user, with one grant when ``role`` is given."""
        check_user_name(name)
        with self._db.write() as conn:
            if conn.execute(select(UserRow.id).where(UserRow.name == name)).first():
                raise AlreadyExists(
                    f"user {name!r} already exists; `yard users grant` changes their roles"
                )
            user_id = conn.execute(
                UserRow.__table__.insert()
                .values(name=name, created_at=now_ms(), disabled=False)
                .returning(UserRow.id)
            ).scalar_one()
            self._db.audit(conn, "user.create", f"users:/{name}", {})
            if role is not None:
                self._grant(conn, user_id, name, role, scope)
            return self._user(conn, name)

    def get(self, name: str) -> User:
        with self._db.read() as conn:
            return self._user(conn, name)

    def list(self) -> list[User]:
        with self._db.read() as conn:
            rows = conn.execute(select(UserRow).order_by(UserRow.name)).all()
            grants = self._grants(conn, [r.id for r in rows])
        return [User(r.name, r.created_at, r.disabled, grants.get(r.id, ())) for r in rows]

    def grant(self, name: str, role: Role, scope: Scope = GLOBAL) -> User:
        """Give ``name`` the role ``role`` in ``scope`` (replacing their role there)."""
        with self._db.write() as conn:
            row = self._row(conn, name)
            self._grant(conn, row.id, name, role, scope)
            return self._user(conn, name)

    def ungrant(self, name: str, scope: Scope = GLOBAL) -> User:
        with self._db.write() as conn:
            row = self._row(conn, name)
            removed = conn.execute(
                delete(GrantRow).where(
                    GrantRow.user_id == row.id,
                    GrantRow.scope_kind == scope.kind.value,
                    GrantRow.scope_name == scope.name,
                )
            ).rowcount
            if removed:
                self._db.audit(conn, "user.ungrant", f"users:/{name}", {"scope": str(scope)})
            return self._user(conn, name)

    def revoke(self, name: str) -> User:
        """Disable ``name`` and revoke every token they hold."""
        with self._db.write() as conn:
            row = self._row(conn, name)
            now = now_ms()
            conn.execute(update(UserRow).where(UserRow.id == row.id).values(disabled=True))
            conn.execute(
                update(TokenRow)
                .where(TokenRow.user_id == row.id, TokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            self._db.audit(
                conn,
                "user.revoke",
                f"users:/{name}",
                {"before": "disabled" if row.disabled else "active", "after": "disabled"},
            )
            return self._user(conn, name)

    # -- tokens -------------------------------------------------------------------------------

    def issue_token(
        self, name: str, *, expires_at: int | None = None, description: str = ""
    ) -> IssuedToken:
        """A new token for ``name``; the returned secret is the only copy."""
        if expires_at is not None and expires_at <= now_ms():
            raise InvalidValue("a token's expiry must be in the future", field="expires_at")
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        created = now_ms()
        with self._db.write() as conn:
            row = self._row(conn, name)
            if row.disabled:
                raise InvalidValue(
                    f"user {name!r} is revoked; create a new user instead", field="name"
                )
            conn.execute(
                TokenRow.__table__.insert().values(
                    id=token_id,
                    user_id=row.id,
                    secret_hash=_hash(secret),
                    description=description,
                    created_at=created,
                    expires_at=expires_at,
                    revoked_at=None,
                )
            )
            self._db.audit(
                conn,
                "user.token.create",
                f"users:/{name}",
                {"token": token_id, "expires_at": expires_at},
            )
        info = TokenInfo(token_id, name, created, expires_at, None, description)
        return IssuedToken(info, f"{TOKEN_PREFIX}{token_id}_{secret}")

    def tokens(self, name: str) -> list[TokenInfo]:
        with self._db.read() as conn:
            row = self._row(conn, name)
            rows = conn.execute(
                select(TokenRow).where(TokenRow.user_id == row.id).order_by(TokenRow.created_at)
            ).all()
        return [
            TokenInfo(r.id, name, r.created_at, r.expires_at, r.revoked_at, r.description)
            for r in rows
        ]

    def revoke_token(self, token_id: str) -> TokenInfo:
        with self._db.write() as conn:
            row = conn.execute(
                select(TokenRow, UserRow.name.label("user_name"))
                .join(UserRow, UserRow.id == TokenRow.user_id)
                .where(TokenRow.id == token_id)
            ).first()
            if row is None:
                raise NotFound(f"no token with id {token_id!r}; `yard users list` shows tokens")
            revoked_at = row.revoked_at
            if revoked_at is None:
                revoked_at = now_ms()
                conn.execute(
                    update(TokenRow).where(TokenRow.id == token_id).values(revoked_at=revoked_at)
                )
                self._db.audit(
                    conn, "user.token.revoke", f"users:/{row.user_name}", {"token": token_id}
                )
        return TokenInfo(
            token_id, row.user_name, row.created_at, row.expires_at, revoked_at, row.description
        )

    def authenticate(self, token: str) -> Principal:
        """The user a token belongs to, or Unauthenticated saying why not."""
        token_id, secret = _split(token)
        with self._db.read() as conn:
            row = conn.execute(
                select(TokenRow, UserRow.name.label("user_name"), UserRow.disabled)
                .join(UserRow, UserRow.id == TokenRow.user_id)
                .where(TokenRow.id == token_id)
            ).first()
            if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
                raise Unauthenticated("unknown API token; create one with `yard users create`")
            if row.revoked_at is not None or row.disabled:
                raise Unauthenticated("this API token was revoked; ask an admin for a new one")
            if row.expires_at is not None and row.expires_at <= now_ms():
                raise Unauthenticated("this API token has expired; ask an admin for a new one")
            grants = self._grants(conn, [row.user_id]).get(row.user_id, ())
        return Principal(row.user_name, grants)

    # -- helpers ------------------------------------------------------------------------------

    def _grant(self, conn: Connection, user_id: int, name: str, role: Role, scope: Scope) -> None:
        before = conn.execute(
            select(GrantRow.role).where(
                GrantRow.user_id == user_id,
                GrantRow.scope_kind == scope.kind.value,
                GrantRow.scope_name == scope.name,
            )
        ).scalar()
        if before == role.value:
            return
        if before is None:
            conn.execute(
                GrantRow.__table__.insert().values(
                    user_id=user_id,
                    scope_kind=scope.kind.value,
                    scope_name=scope.name,
                    role=role.value,
                )
            )
        else:
            conn.execute(
                update(GrantRow)
                .where(
                    GrantRow.user_id == user_id,
                    GrantRow.scope_kind == scope.kind.value,
                    GrantRow.scope_name == scope.name,
                )
                .values(role=role.value)
            )
        self._db.audit(
            conn,
            "user.grant",
            f"users:/{name}",
            {"scope": str(scope), "before": before, "after": role.value},
        )

    def _row(self, conn: Connection, name: str):  # type: ignore[no-untyped-def]
        row = conn.execute(select(UserRow).where(UserRow.name == name)).first()
        if row is None:
            names = conn.execute(select(UserRow.name)).scalars().all()
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "; `yard users list` shows them"
            raise NotFound(f"no user named {name!r}{hint}")
        return row

    def _user(self, conn: Connection, name: str) -> User:
        row = self._row(conn, name)
        grants = self._grants(conn, [row.id]).get(row.id, ())
        return User(row.name, row.created_at, row.disabled, grants)

    def _grants(self, conn: Connection, user_ids: list[int]) -> dict[int, tuple[Grant, ...]]:
        if not user_ids:
            return {}
        found: dict[int, list[Grant]] = {}
        rows = conn.execute(
            select(GrantRow)
            .where(GrantRow.user_id.in_(user_ids))
            .order_by(GrantRow.scope_kind, GrantRow.scope_name)
        ).all()
        for r in rows:
            scope = (
                GLOBAL if r.scope_kind == "global" else Scope(ScopeKind(r.scope_kind), r.scope_name)
            )
            found.setdefault(r.user_id, []).append(Grant(Role(r.role), scope))
        return {k: tuple(v) for k, v in found.items()}


def _split(token: str) -> tuple[str, str]:
    body = token.strip()
    if body.startswith(TOKEN_PREFIX):
        token_id, sep, secret = body[len(TOKEN_PREFIX) :].partition("_")
        if sep and token_id and secret:
            return token_id, secret
    raise Unauthenticated(
        "malformed API token (expected yard_<id>_<secret>); copy the whole token that "
        "`yard users create` printed"
    )
