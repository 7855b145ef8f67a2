"""The workspace a command works on, opened once per invocation."""

from __future__ import annotations

import functools

from modelyard.workspace import Workspace, open_workspace


@functools.cache
def workspace() -> Workspace:
    return open_workspace()
