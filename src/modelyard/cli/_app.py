"""The ``yard`` command: one Typer app with a sub-app per capability."""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard import __version__
from modelyard.cli import _checks, _data, _experiments, _models, _runs, _serve, _server, _users
from modelyard.cli._render import console, print_json
from modelyard.workspace import init_workspace

app = typer.Typer(
    name="yard",
    help="modelyard: the machine-learning lifecycle with one lineage graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(_experiments.app, name="experiments")
app.add_typer(_runs.app, name="runs")
app.add_typer(_data.app, name="data")
app.add_typer(_models.app, name="models")
_server.register(app)  # yard server
_users.register(app)  # yard users ..., yard login
_checks.register(app)  # yard check ..., yard ci init
_serve.register(app)  # yard serve, yard predict, yard predictions ...


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
