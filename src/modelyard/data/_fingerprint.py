"""A folder's stat fingerprint: the walk that finds its files, and the signature that says
whether any of them changed since the folder was last added.

``yard data status`` on an unchanged folder is one walk (one ``lstat`` per file) and one
comparison: the (path, inode, size, mtime_ns) of every file, hashed into a signature, against
the signature the local cache recorded for the folder. This module imports only ``os``,
``stat``, ``marshal``, ``sqlite3`` and blake2, so the quick command path answers that case
before the stores, the domain classes or the CLI framework load (~10 ms of imports here
against ~100 ms); everything else builds on the same walk.

A folder is walked with ``os.scandir``. Symbolic links are followed only while they stay inside
the folder; a link leading out of it, an unreadable entry or an empty folder is refused with a
message naming the path.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import stat
import sys
from _blake2 import blake2b  # hashlib's blake2b; hashlib itself would load OpenSSL (~4 ms)

from modelyard.errors import InvalidValue

TYPE_CHECKING = False  # typing costs ~10 ms to import; type checkers read this as True
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

CACHE_FILE = "stats.db"  # the local cache database, in the workspace's cache folder
CACHE_LAYOUT = 5  # its schema version (PRAGMA user_version); see _cache.py

# (path inside the version, absolute path, size, inode, mtime_ns): the fields of FileStat
RawStat = tuple[str, str, int, int, int]


def walk(source: str) -> tuple[list[RawStat], bool]:
    """The files of ``source`` sorted by path, and whether ``source`` is a single file."""
    try:
        info = os.stat(source)
    except FileNotFoundError:
        raise InvalidValue(f"{source} does not exist", field="source") from None
    except OSError as exc:
        raise InvalidValue(f"cannot read {source}: {exc.strerror}", field="source") from exc
    if stat.S_ISREG(info.st_mode):
        absolute = os.path.abspath(source)
        if not os.access(absolute, os.R_OK):
            raise InvalidValue(f"cannot read {absolute}: permission denied", field="source")
        name = os.path.basename(absolute)
        return [(name, absolute, info.st_size, info.st_ino, info.st_mtime_ns)], True
    if not stat.S_ISDIR(info.st_mode):
        raise InvalidValue(f"{source} is neither a file nor a folder", field="source")
    root = os.path.realpath(source)
    files: list[RawStat] = []
    _walk(root, "", root, files, {root})
    if not files:
        raise InvalidValue(
            f"{source} holds no files; a dataset version needs at least one", field="source"
        )
    files.sort()  # by path: the first field, unique
    return files, False


def walk_ahead(source: str) -> Callable[[], tuple[list[RawStat], bool]]:
    """Start ``walk(source)`` in a forked child and return the call that collects its result
    (or raises its error). The walk is ~50 ms of system calls for 10,000 files; a command that
    has ~90 ms of modules to load meanwhile gets it for ~8 ms on a second core. Walks inline
    instead where fork is missing, would gain nothing (one core) or is unsafe (threads)."""
    threading = sys.modules.get("threading")
    busy = threading is not None and threading.active_count() > 1
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2 or busy:
        walked = walk(source)  # errors are raised here, as from walk
        return lambda: walked
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe, then exits
        os.close(read_end)
        _report_walk(source, write_end)
    os.close(write_end)

    def collect() -> tuple[list[RawStat], bool]:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(child, 0)
        try:
            outcome, value = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return walk(source)  # the child died before reporting: walk here
        if outcome == "error":
            raise InvalidValue(value, field="source")
        files, single = value
        return files, single

    return collect


def _report_walk(source: str, pipe: int) -> NoReturn:
    """In the forked child: walk, send the outcome through ``pipe``, exit without cleanup."""
    code = 0
    try:
        try:
            outcome: tuple[str, object] = ("walked", walk(source))
        except InvalidValue as exc:
            outcome = ("error", str(exc))
        with os.fdopen(pipe, "wb") as out:
            out.write(marshal.dumps(outcome))
    except BaseException:  # anything at all: the parent walks again on a silent pipe
        code = 1
    os._exit(code)


def stat_signature(stats: list[tuple[str, int, int, int]]) -> str:
    """One digest of every file's (path, inode, size, mtime_ns): two equal signatures mean no
    file was added, removed or touched in between.

    Marshal format 2 writes no object references, so equal lists give equal bytes; a Python
    that marshals differently only makes the next status take the longer way once."""
    return blake2b(marshal.dumps(sorted(stats), 2), digest_size=20).hexdigest()


def walk_signature(files: Sequence[RawStat]) -> str:
    """``stat_signature`` of walked files (``RawStat`` rows, or ``FileStat``: the same fields)."""
    return stat_signature([(path, ino, size, mtime) for path, _, size, ino, mtime in files])


def unchanged_since(
    cache_folder: str, store: str, source: str, files: list[RawStat]
) -> tuple[str, int] | None:
    """(dataset, number) of the version last added from the folder or file ``source`` (a real
    path) into ``store``, when the walked ``files`` are exactly as recorded then; None when
    something changed or the cache cannot tell."""
    path = os.path.join(cache_folder, CACHE_FILE)
    if not os.path.exists(path):
        return None
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] != CACHE_LAYOUT:
                return None
            row = conn.execute(
                "SELECT dataset, number, signature FROM sources WHERE source = ? AND store = ?",
                (source, store),
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None  # the full status reports a broken cache in its own words
    if row is None or row[2] is None or row[2] != walk_signature(files):
        return None
    return row[0], row[1]


def _walk(folder: str, prefix: str, root: str, out: list[RawStat], seen: set[str]) -> None:
    """Append the files below ``folder`` (a real path: no link on the way) to ``out``."""
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise InvalidValue(
            f"cannot list {folder}: {exc.strerror}; fix its permissions or remove it",
            field="source",
        ) from exc
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        try:
            if entry.is_symlink():
                _follow(entry, relative, root, out, seen)
            elif entry.is_dir(follow_symlinks=False):  # from the directory listing: no stat
                _walk(entry.path, relative + "/", root, out, seen | {entry.path})
            else:
                _add_file(entry.path, entry.stat(follow_symlinks=False), entry.path, relative, out)
        except OSError as exc:
            raise InvalidValue(f"cannot read {entry.path}: {exc.strerror}", field="source") from exc


def _follow(
    entry: os.DirEntry[str], relative: str, root: str, out: list[RawStat], seen: set[str]
) -> None:
    """A symbolic link: followed while it stays inside ``root`` and makes no loop."""
    target = os.path.realpath(entry.path)
    if target != root and not target.startswith(root + os.sep):
        raise InvalidValue(
            f"{entry.path} is a symbolic link to {target}, outside {root}; copy the file "
            "into the folder or add it separately",
            field="source",
        )
    info = os.stat(target)
    if not stat.S_ISDIR(info.st_mode):
        _add_file(target, info, entry.path, relative, out)
    elif target in seen:
        raise InvalidValue(
            f"{entry.path} links back to {target}, which is already being added (a loop); "
            "remove the link",
            field="source",
        )
    else:
        _walk(target, relative + "/", root, out, seen | {target})


def _add_file(
    path: str, info: os.stat_result, shown: str, relative: str, out: list[RawStat]
) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise InvalidValue(
            f"{shown} is not a regular file (a socket, pipe or device); remove it from the folder",
            field="source",
        )
    out.append((relative, path, info.st_size, info.st_ino, info.st_mtime_ns))
