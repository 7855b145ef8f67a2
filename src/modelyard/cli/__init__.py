"""Command-line interface (Typer + Rich). Commands parse, call one capability, render.

Errors are one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys

import typer

from modelyard.errors import InvalidInput, YardError

# Newer Typer vendors its own click: take ClickException from where Typer's errors come from.
_ClickException = typer.BadParameter.__mro__[2]

EXIT_ERROR = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``yard`` command."""
    from modelyard.cli._workspace import close_workspace, workspace

    workspace.cache_clear()  # one workspace per invocation, resolved from the current folder
    try:
        return _invoke(sys.argv[1:] if argv is None else argv)
    finally:
        close_workspace()


def _invoke(args: list[str]) -> int:
    from modelyard.cli._app import app
    from modelyard.cli._render import errors

    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="yard", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool):  # typer.Exit(n) in a command
            return code
    except typer.Exit as exc:
        return exc.exit_code
    except _ClickException as exc:
        exc.show()
        return exc.exit_code
    except typer.Abort:
        errors.print("aborted")
        return 130
    except YardError as exc:
        if debug:
            raise
        first, _, rest = str(exc).partition("\n")
        errors.print("[red]error:[/] ", end="")
        errors.print(first, markup=False)
        if rest:
            errors.print(rest, markup=False)
        return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_ERROR
    return 0


def run() -> None:
    sys.exit(main())


__all__ = ["main", "run"]
