"""Command-line interface (Typer + Rich). Commands parse, call one capability, render.

Errors are one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys

from modelyard.errors import InvalidInput, YardError

TYPE_CHECKING = False  # typing costs ~10 ms to import; type checkers read this as True
if TYPE_CHECKING:
    from typing import Any

EXIT_ERROR = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``yard`` command."""
    from modelyard.cli._quick import run as run_quick

    args = sys.argv[1:] if argv is None else argv
    answered = run_quick(args)
    if answered is not None:
        return answered
    from modelyard.cli._workspace import close_workspace, workspace

    workspace.cache_clear()  # one workspace per invocation, resolved from the current folder
    try:
        return _invoke(args)
    finally:
        close_workspace()


def _invoke(args: list[str]) -> int:
    import typer

    from modelyard.cli._app import app
    from modelyard.cli._render import errors

    # Newer Typer vendors its own click: take ClickException from where Typer's errors come from.
    click_exception = typer.BadParameter.__mro__[2]

    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="yard", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool):  # typer.Exit(n) in a command
            return code
    except typer.Exit as exc:
        return exc.exit_code
    except click_exception as exc:
        exc.show()
        return exc.exit_code
    except typer.Abort:
        errors.print("aborted")
        return 130
    except YardError as exc:
        if debug:
            raise
        return report_error(exc, errors)
    return 0


def report_error(exc: YardError, console: Any = None) -> int:
    """Print ``exc`` as ``error: ...`` on stderr (red on a terminal, through Rich when given its
    ``console``); the exit code it calls for."""
    first, _, rest = str(exc).partition("\n")
    if console is None:
        sys.stderr.write(f"error: {first}\n" + (f"{rest}\n" if rest else ""))
    else:
        console.print("[red]error:[/] ", end="")
        console.print(first, markup=False)
        if rest:
            console.print(rest, markup=False)
    return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_ERROR


def run() -> None:
    sys.exit(main())


__all__ = ["main", "run"]
