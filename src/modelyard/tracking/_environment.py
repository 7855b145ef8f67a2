"""What a run ran on: Python, platform, installed packages, git state.

Captured once per process and working directory (reading package metadata and asking git
cost tens of milliseconds; a process's code does not change under it), serialised to JSON and
stored as one deduplicated blob, so starting a run costs a cache lookup.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import asdict, dataclass

MAX_DIFF_BYTES = 2_000_000
_NORMALISE = re.compile(r"[-_.]+")  # PEP 503 names: scikit_learn -> scikit-learn


@dataclass(frozen=True, slots=True)
class GitState:
    commit: str | None
    dirty: bool | None
    diff: str | None
    root: str | None


@dataclass(frozen=True, slots=True)
class Environment:
    python: str
    implementation: str
    platform: str
    packages: dict[str, str]
    git: GitState

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, indent=1).encode()


@functools.cache
def installed_packages() -> dict[str, str]:
    """name -> version of every distribution on ``sys.path`` (the first one wins, as for
    imports), read from the names of their metadata folders (``name-version.dist-info``,
    ``name-version[-pyX.Y].egg-info``). No file is opened: reading every METADATA file through
    importlib.metadata took ~60 ms for 140 packages, a tenth of creating 300 runs."""
    packages: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, or a folder that does not exist
            continue
        for folder in names:
            stem, dot, suffix = folder.rpartition(".")
            name, dash, version = stem.partition("-")
            if dot and dash and suffix in ("dist-info", "egg-info"):
                packages.setdefault(_NORMALISE.sub("-", name).lower(), version.split("-")[0])
    return dict(sorted(packages.items()))


@functools.cache
def git_state(folder: str) -> GitState:
    """Commit, dirty flag and diff of the git work tree holding ``folder``, if any."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    root = git("rev-parse", "--show-toplevel")
    if root is None:
        return GitState(None, None, None, None)
    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = bool(status and status.strip())
    diff = git("diff", "HEAD") if dirty and commit else None
    if diff is not None and len(diff) > MAX_DIFF_BYTES:
        diff = diff[:MAX_DIFF_BYTES] + "\n... diff truncated ...\n"
    return GitState(commit.strip() if commit else None, dirty, diff, root.strip())


def capture(folder: str | None = None) -> Environment:
    return _capture(folder or os.getcwd())


@functools.cache
def _capture(folder: str) -> Environment:
    return Environment(
        python=platform.python_version(),
        implementation=sys.implementation.name,
        platform=platform.platform(),
        packages=installed_packages(),
        git=git_state(folder),
    )


def forget() -> None:
    """Capture afresh next time (after the code or the packages changed in this process)."""
    _capture.cache_clear()
    git_state.cache_clear()
