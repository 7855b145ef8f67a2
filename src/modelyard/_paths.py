"""Where an embedded workspace keeps its files, worked out with ``os.path`` alone.

``modelyard.workspace`` resolves the full settings (environment, server tokens, the acting
user); this module holds the on-disk layout it shares with the quick commands, which answer
before anything heavier than ``os`` and ``sqlite3`` is imported.
"""

from __future__ import annotations

import os

DIRNAME = ".yard"
DB_NAME = "yard.db"
CACHE_NAME = "cache"


def find_root(start: str) -> str | None:
    """The ``.yard/`` folder at or above the folder ``start``, like git finds ``.git/``."""
    folder = os.path.realpath(start)
    while True:
        candidate = os.path.join(folder, DIRNAME)
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def default_uri(root: str | os.PathLike[str]) -> str:
    """The SQLite metadata store of the workspace whose ``.yard/`` folder is ``root``."""
    return f"sqlite:///{os.path.join(root, DB_NAME)}"


def cache_folder(root: str | os.PathLike[str] | None) -> str:
    """The local cache: ``.yard/cache``, or the user's cache folder without a ``.yard/``."""
    if root is not None:
        return os.path.join(root, CACHE_NAME)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "modelyard")
