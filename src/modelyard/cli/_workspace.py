"""The workspace a command works on, opened once per invocation."""

from __future__ import annotations

import functools

from modelyard.workspace import Workspace, open_workspace


@functools.cache
def workspace() -> Workspace:
    return open_workspace()


def close_workspace() -> None:
    """Close the invocation's workspace, if a command opened one (a server's connections)."""
    if workspace.cache_info().currsize:
        opened = workspace()
        workspace.cache_clear()
        opened.store.close()
        close_blobs = getattr(opened.blobs, "close", None)  # only server blob stores hold any
        if close_blobs is not None:
            close_blobs()
