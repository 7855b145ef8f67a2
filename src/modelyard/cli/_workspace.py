"""The workspace a command works on: resolved once per invocation, its stores opened on
first use."""

from __future__ import annotations

import functools

from modelyard.workspace import Workspace, open_workspace


@functools.cache
def workspace() -> Workspace:
    return open_workspace(lazy=True)


def close_workspace() -> None:
    """Close what the invocation's workspace opened, if a command used one."""
    if workspace.cache_info().currsize:
        opened = workspace()
        workspace.cache_clear()
        opened.close()
