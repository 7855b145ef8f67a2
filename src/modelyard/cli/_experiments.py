"""yard experiments list|create|rename|delete|restore"""

from __future__ import annotations

import typer

from modelyard.cli._render import console, print_json, table, when
from modelyard.cli._workspace import workspace

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


@app.command("list")
def list_experiments(
    all_: bool = typer.Option(False, "--all", help="Include deleted experiments."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """List experiments with their run counts.

    Example: yard experiments list --json
    """
    items = workspace().store.experiments.list(include_deleted=all_)
    if as_json:
        print_json(items)
        return
    grid = table("NAME", "RUNS", "CREATED", "STATE", "DESCRIPTION")
    for e in items:
        grid.add_row(e.name, str(e.run_count), when(e.created_at), e.lifecycle.value, e.description)
    console.print(
        grid if items else "no experiments yet; `yard.start_run(experiment=...)` creates one"
    )


@app.command("create")
def create(
    name: str,
    description: str = typer.Option("", "--description", "-d", help="What this experiment is for."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Create an experiment.

    Example: yard experiments create churn -d "monthly churn model"
    """
    experiment = workspace().store.experiments.create(name, description)
    print_json(experiment) if as_json else console.print(f"created experiment {experiment.name}")


@app.command("rename")
def rename(name: str, new_name: str) -> None:
    """Rename an experiment; its runs follow.

    Example: yard experiments rename churn churn-2026
    """
    workspace().store.experiments.rename(name, new_name)
    console.print(f"renamed experiment {name} to {new_name}")


@app.command("delete")
def delete(name: str) -> None:
    """Delete an experiment (hidden with its runs; `yard experiments restore` undoes it).

    Example: yard experiments delete scratch
    """
    workspace().store.experiments.delete(name)
    console.print(f"deleted experiment {name} (restore with `yard experiments restore {name}`)")


@app.command("restore")
def restore(name: str) -> None:
    """Restore a deleted experiment.

    Example: yard experiments restore scratch
    """
    workspace().store.experiments.restore(name)
    console.print(f"restored experiment {name}")
