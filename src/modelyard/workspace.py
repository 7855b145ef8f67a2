"""Where the metadata and blobs live: ``.yard/`` found like git finds ``.git/``, or YARD_URI.

Resolution, first match wins:

1. ``YARD_URI`` - a SQLAlchemy URL (``postgresql://...``, ``sqlite:///...``); blobs then come
   from ``YARD_BLOBS`` (any fsspec URL), or ``.yard/blobs`` when a ``.yard/`` is found.
2. the nearest ``.yard/`` in the working directory or one of its parents.

``YARD_BLOBS`` always overrides the blob location. The acting user is ``YARD_USER`` or the
login name.

A ``YARD_URI`` of ``http://`` or ``https://`` is a ``yard server``: metadata and blobs both go
through its REST API (unless ``YARD_BLOBS`` says otherwise), authenticated with
``YARD_TOKEN`` or the token ``yard login`` saved for that server in ``credentials_path()``.
The acting user is then the token's owner.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.errors import AlreadyExists, StoreNotFound
from modelyard.store.urls import is_rest_url

if TYPE_CHECKING:
    from modelyard.blobs import BlobStore
    from modelyard.store.base import MetadataStore

DIRNAME = ".yard"
DB_NAME = "yard.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """The resolved locations; ``open_workspace`` turns them into live stores."""

    uri: str
    blobs: str
    actor: str
    root: Path | None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Workspace:
    settings: Settings
    store: MetadataStore
    blobs: BlobStore


def find_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` that holds a ``.yard/``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DIRNAME).is_dir():
            return folder / DIRNAME
    return None


def resolve(env: Mapping[str, str] | None = None, start: Path | None = None) -> Settings:
    """Work out the store and blob locations without opening anything."""
    env = os.environ if env is None else env
    actor = env.get("YARD_USER") or _login_name()
    root = find_root(start)
    uri = env.get("YARD_URI")
    blobs = env.get("YARD_BLOBS")
    if uri and is_rest_url(uri):
        token = env.get("YARD_TOKEN") or saved_token(uri, env)
        return Settings(uri, blobs or uri, actor, root, token)
    if uri:
        if blobs is None and root is None:
            raise StoreNotFound(
                "YARD_URI is set but no blob location is: set YARD_BLOBS to a folder or "
                "fsspec URL (e.g. s3://bucket/yard), or run `yard init` here"
            )
        return Settings(uri, blobs or str(root / "blobs"), actor, root)  # type: ignore[operator]
    if root is None:
        raise StoreNotFound(
            f"no {DIRNAME}/ folder in {Path.cwd()} or any parent; run `yard init` to create "
            "one here, or set YARD_URI"
        )
    return Settings(f"sqlite:///{root / DB_NAME}", blobs or str(root / "blobs"), actor, root)


def open_workspace(settings: Settings | None = None) -> Workspace:
    """Open the metadata and blob stores ``settings`` name (the backends load on first use)."""
    from modelyard.blobs import open_blob_store, open_server_blob_store

    settings = settings or resolve()
    if is_rest_url(settings.uri):
        from modelyard.store.rest import open_rest_store

        store = open_rest_store(settings.uri, token=settings.token)
        blobs = (
            open_server_blob_store(settings.blobs, token=settings.token)
            if is_rest_url(settings.blobs)
            else open_blob_store(settings.blobs)
        )
        return Workspace(settings, store, blobs)
    from modelyard.store.sql import open_sql_store

    return Workspace(
        settings,
        open_sql_store(settings.uri, actor=settings.actor),
        open_blob_store(settings.blobs),
    )


def init_workspace(folder: Path | None = None) -> Workspace:
    """Create ``.yard/`` (SQLite metadata + local blob store) in ``folder``."""
    folder = (folder or Path.cwd()).resolve()
    root = folder / DIRNAME
    if (root / DB_NAME).exists():
        raise AlreadyExists(f"{root} already exists; this folder is already a modelyard workspace")
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text("*\n")
    env = {k: v for k, v in os.environ.items() if k not in ("YARD_URI", "YARD_BLOBS")}
    return open_workspace(resolve(env, folder))


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def credentials_path(env: Mapping[str, str] | None = None) -> Path:
    """Where ``yard login`` keeps tokens (0600): ``$XDG_CONFIG_HOME/modelyard/credentials.json``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "modelyard" / "credentials.json"


def saved_token(uri: str, env: Mapping[str, str] | None = None) -> str | None:
    """The token ``yard login`` saved for the server at ``uri``, if any."""
    try:
        saved = json.loads(credentials_path(env).read_text())
    except (OSError, ValueError):
        return None
    token = saved.get("servers", {}).get(uri.rstrip("/"), {}).get("token")
    return token if isinstance(token, str) else None
