"""yard users create|list|revoke|grant|token, yard login

Against a database URL (``YARD_URI=postgresql://...``) these act directly: that is how the
first admin is created. Against a server (``YARD_URI=http://...``) they call its admin API
with your token.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from modelyard.cli._render import console, print_json, table, when
from modelyard.domain.users import GLOBAL, Role, Scope, ScopeKind, User
from modelyard.errors import InvalidValue

app = typer.Typer(help="Users, API tokens and role grants.", no_args_is_help=True)
DAY_MS = 86_400_000


@contextlib.contextmanager
def _admin() -> Iterator[Any]:
    """User administration: through the server for an http(s) YARD_URI, else directly on the
    database (YARD_URI or this folder's workspace) - no blob store needed either way."""
    from modelyard.store.rest import is_rest_url, open_rest_user_store
    from modelyard.workspace import resolve, saved_token

    uri = os.environ.get("YARD_URI") or resolve().uri
    if is_rest_url(uri):
        admin: Any = open_rest_user_store(
            uri, token=os.environ.get("YARD_TOKEN") or saved_token(uri)
        )
    else:
        from modelyard.store.sql import open_user_store

        actor = os.environ.get("YARD_USER") or getpass.getuser()
        admin = open_user_store(uri, actor=actor)
    try:
        yield admin
    finally:
        admin.close()


def _scope(experiment: str | None, model: str | None) -> Scope:
    if experiment and model:
        raise InvalidValue("give --experiment or --model, not both", field="scope")
    if experiment:
        return Scope(ScopeKind.EXPERIMENT, experiment)
    if model:
        return Scope(ScopeKind.MODEL, model)
    return GLOBAL


def _grants(user: User) -> str:
    return ", ".join(f"{g.role.value} ({g.scope})" for g in user.grants) or "-"


def _user_json(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "created_at": user.created_at,
        "disabled": user.disabled,
        "grants": [{"role": g.role.value, "scope": str(g.scope)} for g in user.grants],
    }


@app.command("create")
def create(
    name: str,
    role: str = typer.Option(None, "--role", "-r", help="viewer, contributor, maintainer, admin."),
    experiment: str = typer.Option(None, "--experiment", "-e", help="Grant on this experiment."),
    model: str = typer.Option(None, "--model", "-m", help="Grant on this registered model."),
    expires_days: float = typer.Option(None, "--expires-days", help="Token lifetime in days."),
    as_json: bool = typer.Option(False, "--json", help='Print {"user": ..., "token": ...}.'),
) -> None:
    """Create a user and print their API token (shown only this once).

    Example: yard users create alice --role contributor
    """
    parsed = Role.parse(role) if role else None
    expires = int(time.time() * 1000 + expires_days * DAY_MS) if expires_days else None
    with _admin() as admin:
        user = admin.create(name, parsed, _scope(experiment, model))
        issued = admin.issue_token(name, expires_at=expires)
    if as_json:
        print_json({"user": _user_json(user), "token": issued.secret})
        return
    console.print(f"created user {user.name}: {_grants(user)}")
    console.print("API token (shown once; store it now):")
    console.print(issued.secret, markup=False)


@app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Users, their roles and whether they are revoked.

    Example: yard users list
    """
    with _admin() as admin:
        users = admin.list()
    if as_json:
        print_json([_user_json(u) for u in users])
        return
    grid = table("USER", "ROLES", "CREATED", "STATE")
    for user in users:
        state = "revoked" if user.disabled else "active"
        grid.add_row(user.name, _grants(user), when(user.created_at), state)
    console.print(grid)


@app.command("grant")
def grant(
    name: str,
    role: str,
    experiment: str = typer.Option(None, "--experiment", "-e", help="Only on this experiment."),
    model: str = typer.Option(None, "--model", "-m", help="Only on this registered model."),
    remove: bool = typer.Option(False, "--remove", help="Remove the grant in that scope."),
) -> None:
    """Give a user a role, globally or on one experiment or model.

    Example: yard users grant bob maintainer --experiment churn
    """
    scope = _scope(experiment, model)
    with _admin() as admin:
        user = admin.ungrant(name, scope) if remove else admin.grant(name, Role.parse(role), scope)
    console.print(f"{user.name}: {_grants(user)}")


@app.command("revoke")
def revoke(
    name: str = typer.Argument(None, help="User to disable (all their tokens are revoked)."),
    token: str = typer.Option(None, "--token", help="Revoke only this token id."),
) -> None:
    """Revoke a user (and every token they hold), or one token.

    Example: yard users revoke alice
    """
    if not token and not name:
        raise InvalidValue("give a user name or --token <id>", field="name")
    with _admin() as admin:
        if token:
            info = admin.revoke_token(token)
            console.print(f"revoked token {info.id} of {info.user}")
            return
        admin.revoke(name)
    console.print(f"revoked user {name} and all their tokens")


@app.command("token")
def token(
    name: str,
    expires_days: float = typer.Option(None, "--expires-days", help="Token lifetime in days."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue another API token for a user (shown only this once).

    Example: yard users token alice --expires-days 30
    """
    expires = int(time.time() * 1000 + expires_days * DAY_MS) if expires_days else None
    with _admin() as admin:
        issued = admin.issue_token(name, expires_at=expires)
    if as_json:
        print_json({"user": name, "token": issued.secret, "id": issued.info.id})
    else:
        console.print(issued.secret, markup=False)


def login(
    url: str = typer.Argument(None, help="Server URL (default: $YARD_URI)."),
    token: str = typer.Option(
        None, "--token", help="API token (default: $YARD_TOKEN, else asked for)."
    ),
) -> None:
    """Check a token against a server and save it (0600) for later commands.

    Example: yard login http://yard.internal:8080 --token yard_...
    """
    from modelyard.store.rest import is_rest_url, open_rest_user_store
    from modelyard.workspace import credentials_path

    url = (url or os.environ.get("YARD_URI") or "").rstrip("/")
    if not is_rest_url(url):
        raise InvalidValue(
            "give the server URL, e.g. yard login http://127.0.0.1:8080", field="url"
        )
    token = token or os.environ.get("YARD_TOKEN") or typer.prompt("API token", hide_input=True)
    remote = open_rest_user_store(url, token=token)
    try:
        name, grants = remote.me()
    finally:
        remote.close()
    path = credentials_path()
    _save(path, url, token)
    console.print(
        f"logged in to {url} as {name} ({', '.join(grants) or 'no roles'}); token in {path}"
    )
    console.print(f"use it with: export YARD_URI={url}")


def _save(path: Path, url: str, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        saved = {}
    saved.setdefault("servers", {})[url] = {"token": token}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(saved, out, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="users")
    root.command("login")(login)
