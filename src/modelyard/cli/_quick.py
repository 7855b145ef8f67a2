"""The two hot data commands, answered before the CLI framework loads.

Importing Typer (with the pydantic it now validates parameters with) and Rich costs ~0.1 s per
command: more than ``yard data status`` on a 10,000-file folder, and a third of re-adding it
after changing ten files. So the plain forms of those two commands are parsed here and run
with the data package alone:

    yard data status PATH [--json]
    yard data add PATH --name NAME [--message TEXT] [--json]     (stderr not a terminal)

``yard data status`` on a folder that has not changed since it was added (the common case)
is answered from the walk and one row of the local cache (``data/_fingerprint.py``), before
even the domain classes load: ~10 ms of imports in all, against ~100 ms for the rest.

Anything else (another option, ``--help``, ``--debug``, a terminal that gets a progress bar, a
folder this workspace never added for status) returns None and the full command runs. The
output is the same either way; ``tests/test_data_cli.py`` runs both paths.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs ~10 ms to import; type checkers read this as True
if TYPE_CHECKING:
    from collections.abc import Callable

Parsed = tuple[list[str], dict[str, str | bool]]

_ADD_OPTIONS = {"--name": "name", "-n": "name", "--message": "message", "-m": "message"}


def run(args: list[str]) -> int | None:
    """The exit code if ``args`` was answered here, else None."""
    if len(args) < 2 or args[0] != "data":
        return None
    command = {"status": _status, "add": _add}.get(args[1])
    return None if command is None else command(args[2:])


def _status(args: list[str]) -> int | None:
    parsed = _parse(args, {}, {"--json"})
    if parsed is None or len(parsed[0]) != 1:
        return None
    (source,), options = parsed
    from modelyard import _paths
    from modelyard.data._fingerprint import unchanged_since, walk
    from modelyard.errors import YardError

    root = _paths.find_root(os.getcwd())
    if root is None:
        return None  # the full command finds the store from YARD_URI or says to run yard init
    store = os.environ.get("YARD_URI") or _paths.default_uri(root)
    cache = _paths.cache_folder(root)
    try:
        walked, _ = walk(source)
    except YardError:
        return None  # the full command reports it in its usual words
    if not options.get("json"):
        clean = unchanged_since(cache, store, os.path.realpath(source), walked)
        if clean is not None:  # the common case, answered from one row of the cache
            from modelyard.cli._lines import unchanged_line

            dataset, number = clean
            sys.stdout.write(unchanged_line(source, f"{dataset}@{number}", len(walked)) + "\n")
            return 0
    from pathlib import Path

    from modelyard.data._status import status_from_index

    try:
        status = status_from_index(Path(cache), store, source, walked)
    except YardError:
        return None
    if status is None:
        return None
    from modelyard.cli._lines import status_lines

    return _print(status, options, lambda: status_lines(source, status))


def _add(args: list[str]) -> int | None:
    parsed = _parse(args, _ADD_OPTIONS, {"--json"})
    if parsed is None or len(parsed[0]) != 1 or "name" not in parsed[1] or sys.stderr.isatty():
        return None
    (source,), options = parsed
    from modelyard.cli import report_error
    from modelyard.data._fingerprint import walk_ahead
    from modelyard.errors import YardError

    try:
        walked = walk_ahead(source)  # on another core while the modules below load
    except YardError as exc:
        return report_error(exc)
    from modelyard.data._client import DataClient
    from modelyard.workspace import open_workspace, resolve

    try:
        workspace = open_workspace(resolve(), lazy=True)
        try:
            client = DataClient(workspace)
            result = client.add(
                source,
                str(options["name"]),
                message=str(options.get("message", "")),
                walked=walked(),
            )
        finally:
            workspace.close()
    except YardError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        sys.stderr.write("aborted\n")
        return 130
    from modelyard.cli._lines import add_lines

    return _print(result, options, lambda: add_lines(source, result))


def _parse(args: list[str], valued: dict[str, str], switches: set[str]) -> Parsed | None:
    """Positional arguments and options of a plain command line; None for anything else."""
    positional: list[str] = []
    options: dict[str, str | bool] = {}
    rest = iter(args)
    for arg in rest:
        flag, equals, value = arg.partition("=")
        if arg in switches:
            options[arg.lstrip("-")] = True
        elif flag in valued:
            if not equals:
                value = next(rest, None)  # type: ignore[assignment]
                if value is None:
                    return None
            options[valued[flag]] = value
        elif arg.startswith("-"):
            return None
        else:
            positional.append(arg)
    return positional, options


def _print(value: object, options: dict[str, str | bool], lines: Callable[[], object]) -> int:
    from modelyard.cli._plain import print_json

    if options.get("json"):
        print_json(value)
    else:
        sys.stdout.write("".join(f"{line}\n" for line in lines()))  # type: ignore[attr-defined]
    return 0
