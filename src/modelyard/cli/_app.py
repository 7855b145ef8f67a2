"""The ``yard`` command: one Typer app with a sub-app per capability.

Capability commands load on demand: ``yard runs list`` imports the runs commands and what they
need, not the model server or the checks, so every command starts fast. A module listed in
``COMMANDS`` either has a Typer ``app`` (mounted under the command's name) or a
``register(root)`` function that adds its commands to the root.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from modelyard import __version__
from modelyard.cli._render import console, print_json

COMMANDS = {
    "experiments": "modelyard.cli._experiments",
    "runs": "modelyard.cli._runs",
    "data": "modelyard.cli._data",
    "models": "modelyard.cli._models",
    "check": "modelyard.cli._checks",
    "ci": "modelyard.cli._checks",
    "server": "modelyard.cli._server",
    "users": "modelyard.cli._users",
    "login": "modelyard.cli._users",
    "serve": "modelyard.cli._serve",
    "predict": "modelyard.cli._serve",
    "predictions": "modelyard.cli._serve",
}


class LazyGroup(TyperGroup):
    """The root group: built-in commands, plus capability commands imported when named."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in COMMANDS:
            return _loaded(COMMANDS[name]).get_command(ctx, name)
        return super().get_command(ctx, name)


_groups: dict[str, Any] = {}


def _loaded(module_name: str) -> Any:
    """The click group holding the commands one CLI module contributes."""
    group = _groups.get(module_name)
    if group is None:
        module = importlib.import_module(module_name)
        holder = typer.Typer()
        holder.callback()(lambda: None)  # a group even when the module adds one command
        if hasattr(module, "register"):
            module.register(holder)
        else:
            (name,) = [n for n, m in COMMANDS.items() if m == module_name]
            holder.add_typer(module.app, name=name)
        group = _groups[module_name] = typer.main.get_command(holder)
    return group


app = typer.Typer(
    name="yard",
    cls=LazyGroup,
    help="modelyard: the machine-learning lifecycle with one lineage graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        console.print(f"modelyard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Environment: YARD_URI (metadata database), YARD_BLOBS (blob store URL), YARD_USER."""


@app.command("init")
def init(
    folder: Path = typer.Argument(Path("."), help="Folder to create .yard/ in."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Create a workspace (.yard/ with SQLite metadata and a local blob store).

    Example: yard init
    """
    from modelyard.workspace import init_workspace

    ws = init_workspace(folder)
    if as_json:
        print_json(
            {"root": str(ws.settings.root), "uri": ws.settings.uri, "blobs": ws.settings.blobs}
        )
    else:
        console.print(f"initialised modelyard workspace in {ws.settings.root}")


@app.command("demo")
def demo(
    folder: Path = typer.Option(
        Path("yard-demo"), "--folder", help="Where the demo workspace goes."
    ),
) -> None:
    """Run the end-to-end lifecycle demo in a fresh workspace and print a summary.

    Example: yard demo --folder /tmp/yard-demo
    """
    from modelyard.demo import run_demo

    run_demo(folder)
