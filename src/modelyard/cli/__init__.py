"""Command-line interface (Typer + Rich). Commands parse, call one capability, render.

Errors are one line on stderr and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys

import click

from modelyard.errors import InvalidInput, YardError

EXIT_ERROR = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``yard`` command."""
    from modelyard.cli._app import app
    from modelyard.cli._render import errors

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="yard", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
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
