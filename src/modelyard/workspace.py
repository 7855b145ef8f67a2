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

from modelyard._paths import DB_NAME, DIRNAME, default_uri
from modelyard._paths import find_root as _find_root
from modelyard.errors import AlreadyExists, StoreNotFound
from modelyard.store.urls import is_rest_url

if TYPE_CHECKING:
    from modelyard.blobs import BlobStore
    from modelyard.store.base import MetadataStore


@dataclass(frozen=True, slots=True)
class Settings:
    """The resolved locations; ``open_workspace`` turns them into live stores."""

    uri: str
    blobs: str
    actor: str
    root: Path | None
    token: str | None = None


class Workspace:
    """The resolved settings plus the metadata and blob stores, each opened on first use, so
    that a command opens only what it touches (``yard data status`` opens neither)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: MetadataStore | None = None
        self._blobs: BlobStore | None = None

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = _open_store(self.settings)
        return self._store

    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            self._blobs = _open_blobs(self.settings)
        return self._blobs

    @property
    def store_opened(self) -> bool:
        return self._store is not None

    def close(self) -> None:
        """Close what was opened (a server's connections, a database's pool)."""
        if self._store is not None:
            self._store.close()
            self._store = None
        close_blobs = getattr(self._blobs, "close", None)  # only server blob stores hold any
        if close_blobs is not None:
            close_blobs()
        self._blobs = None


def find_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` that holds a ``.yard/``."""
    found = _find_root(str(start or Path.cwd()))
    return None if found is None else Path(found)


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
    return Settings(default_uri(root), blobs or str(root / "blobs"), actor, root)


def open_workspace(settings: Settings | None = None, *, lazy: bool = False) -> Workspace:
    """Open the metadata and blob stores ``settings`` name (default: ``resolve()``); with
    ``lazy`` each store opens when first used instead."""
    workspace = Workspace(settings or resolve())
    if not lazy:
        workspace.store  # noqa: B018 - opened now, so that a bad location fails here
        workspace.blobs  # noqa: B018
    return workspace


def _open_store(settings: Settings) -> MetadataStore:
    if is_rest_url(settings.uri):
        from modelyard.store.rest import open_rest_store

        return open_rest_store(settings.uri, token=settings.token)
    from modelyard.store.sql import open_sql_store

    return open_sql_store(settings.uri, actor=settings.actor)


def _open_blobs(settings: Settings) -> BlobStore:
    from modelyard.blobs import open_blob_store, open_server_blob_store

    if is_rest_url(settings.uri) and is_rest_url(settings.blobs):
        return open_server_blob_store(settings.blobs, token=settings.token)
    return open_blob_store(settings.blobs)


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
