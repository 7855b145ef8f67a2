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
    from modelyard.cli._app import app
    from modelyard.cli._render import errors
    from modelyard.cli._workspace import workspace

    workspace.cache_clear()  # one workspace per invocation, resolved from the current folder

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="yard", standalone_mode=False)
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
