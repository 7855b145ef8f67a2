"""yard models list|versions|show|alias|tag|describe|lineage|download|env|checks"""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard.cli._render import console, print_json, table, when
from modelyard.cli._workspace import workspace
from modelyard.errors import InvalidValue
from modelyard.models import ModelClient, environment_mismatches

app = typer.Typer(
    help="Models: registered models, versions, aliases, lineage and environments.",
    no_args_is_help=True,
)


def _client() -> ModelClient:
    return ModelClient(workspace())


@app.command("list")
def list_models(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Registered models with their latest version and aliases.

    Example: yard models list --json
    """
    items = _client().list_models()
    if as_json:
        print_json(items)
        return
    grid = table("NAME", "LATEST", "VERSIONS", "ALIASES", "OWNER", "UPDATED", "DESCRIPTION")
    for m in items:
        grid.add_row(
            m.name,
            str(m.latest_version) if m.latest_version else "-",
            str(m.version_count),
            _aliases(m.aliases),
            m.owner,
            when(m.updated_at),
            m.description,
        )
    console.print(grid if items else "no registered models yet; yard.log_model(model, name=...)")


@app.command("versions")
def versions(
    name: str = typer.Argument(..., help="Registered model name."),
    deleted: bool = typer.Option(False, "--deleted", help="Include deleted versions."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Versions of a model: number, status, aliases, flavor, source run, digest.

    Example: yard models versions churn
    """
    items = _client().versions(name, include_deleted=deleted)
    if as_json:
        print_json(items)
        return
    grid = table("VERSION", "STATUS", "ALIASES", "FLAVOR", "RUN", "DIGEST", "CREATED", "BY")
    for v in items:
        grid.add_row(
            str(v.number),
            v.status.value,
            ", ".join(v.aliases) or "-",
            v.flavor,
            v.run_id or "-",
            v.short_digest,
            when(v.created_at),
            v.created_by,
        )
    console.print(grid if items else f"model {name!r} has no versions")


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="churn (the model), churn/3 or churn@champion."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """A model, or one version with its signature, requirements and whether they are installed.

    Example: yard models show churn/3
    """
    client = _client()
    if "/" not in ref.removeprefix("models:/") and "@" not in ref:
        model = client.get_model(ref.removeprefix("models:/"))
        if as_json:
            print_json(model)
            return
        console.print(
            f"[bold]{model.uri}[/]  owner {model.owner}, created {when(model.created_at)}"
        )
        if model.description:
            console.print(f"  {model.description}")
        console.print(
            f"  latest version: {model.latest_version or '-'} ({model.version_count} versions)"
        )
        console.print(f"  aliases: {_aliases(model.aliases)}")
        for key, value in sorted(model.tags.items()):
            console.print(f"  tag {key} = {value}")
        return
    version = client.get_version(ref)
    descriptor = client.descriptor(version.uri)
    mismatches = environment_mismatches(descriptor)
    if as_json:
        print_json(
            {
                "version": version,
                "signature": descriptor.signature.to_dict() if descriptor.signature else None,
                "requirements": list(descriptor.requirements),
                "python": descriptor.python,
                "environment": mismatches,
                "files": {
                    k: {"digest": f.digest, "size": f.size} for k, f in descriptor.files.items()
                },
            }
        )
        return
    console.print(f"[bold]{version.uri}[/]  {version.status.value}, {version.flavor}")
    console.print(f"  package {version.package_digest}")
    console.print(
        f"  source {version.source}; created {when(version.created_at)} by {version.created_by}"
    )
    console.print(f"  aliases: {', '.join(version.aliases) or '-'}")
    if version.description:
        console.print(f"  {version.description}")
    for key, value in sorted(version.tags.items()):
        console.print(f"  tag {key} = {value}")
    if descriptor.signature:
        console.print(
            "  inputs: "
            + ", ".join(
                f"{c.name}: {c.type}" + ("" if c.required else " (optional)")
                for c in descriptor.signature.inputs
            )
        )
        if descriptor.signature.outputs:
            console.print(
                "  outputs: "
                + ", ".join(f"{c.name}: {c.type}" for c in descriptor.signature.outputs)
            )
    console.print(f"  python {descriptor.python}; requires " + ", ".join(descriptor.requirements))
    differences = [f"{m.name} {m.saved} -> {m.installed} installed" for m in mismatches]
    console.print("  environment: " + (", ".join(differences) or "matches"))


@app.command("alias")
def alias(
    name: str = typer.Argument(..., help="Registered model name."),
    version: str = typer.Argument(..., help="Version number the alias should point at."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="Alias, e.g. champion."),
) -> None:
    """Point an alias at a version (moved atomically, audited, checked by policy).

    Example: yard models alias churn 3 champion
    """
    if not version.isdigit():
        raise InvalidValue(
            f"version must be a number, got {version!r}; e.g. yard models alias {name} 3 "
            f"{alias_name}",
            field="version",
        )
    change = _client().set_alias(name, alias_name, int(version))
    if change.before == change.after:
        console.print(f"{name}@{alias_name} already points at version {change.after}")
    elif change.before is None:
        console.print(f"{name}@{alias_name} -> version {change.after}")
    else:
        console.print(f"{name}@{alias_name} moved from version {change.before} to {change.after}")


@app.command("tag")
def tag(
    ref: str = typer.Argument(..., help="churn (the model) or churn/3 (a version)."),
    tags: list[str] = typer.Argument(..., help="key=value pairs."),
) -> None:
    """Set tags on a model or a version.

    Example: yard models tag churn/3 reviewed=yes
    """
    values = {}
    for pair in tags:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise InvalidValue(f"tag {pair!r} is not key=value, e.g. reviewed=yes", field="tag")
        values[key] = value
    _client().set_tags(ref, values)
    console.print(f"tagged {ref}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


@app.command("describe")
def describe(
    ref: str = typer.Argument(..., help="churn (the model) or churn/3 (a version)."),
    message: str = typer.Option(..., "--message", "-m", help="The description."),
) -> None:
    """Set the description of a model or a version.

    Example: yard models describe churn/3 -m "retrained on October data"
    """
    _client().describe(ref, message)
    console.print(f"described {ref}")


@app.command("lineage")
def lineage(
    ref: str = typer.Argument(..., help="churn/3 or churn@champion."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Where a version came from: run, datasets, code commit, environment.

    Example: yard models lineage churn/3
    """
    found = _client().lineage(ref)
    if as_json:
        print_json(found)
        return
    v = found.version
    console.print(f"[bold]{v.uri}[/] ({v.flavor}, package {v.short_digest})")
    if found.run is None:
        console.print(f"  run: - (source {v.source})")
    else:
        r = found.run
        console.print(
            f"  run: {r.uri} ({r.name}, experiment {r.experiment_name}, "
            f"{r.status.value}, by {r.user})"
        )
    console.print("  datasets: " + (", ".join(found.datasets) or "-"))
    dirty = " (with uncommitted changes)" if found.git_dirty else ""
    console.print(f"  code: git {found.git_commit or '-'}{dirty}")
    env = found.environment
    if env:
        console.print(
            f"  environment: Python {env.get('python')} on {env.get('platform')}, "
            f"{env.get('packages')} packages ({str(env.get('digest'))[:19]})"
        )
    console.print(f"  model needs: Python {found.python}; " + ", ".join(found.requirements))


@app.command("download")
def download_cmd(
    ref: str = typer.Argument(..., help="churn@champion, churn/3 or runs:/<id>/model."),
    destination: Path = typer.Argument(..., help="A new or empty folder."),
) -> None:
    """Write a version's package (MODEL.yaml and every file, verified) into a folder.

    Example: yard models download churn@champion ./out/
    """
    client = _client()
    target = client.download(_uri(ref), destination)
    console.print(f"downloaded {ref} into {target}")


@app.command("env")
def env(
    ref: str = typer.Argument(..., help="churn/3 or churn@champion."),
    create: Path | None = typer.Option(
        None, "--create", help="Create a virtualenv here with the requirements installed."
    ),
) -> None:
    """Print the requirements that reproduce the model's environment (or create a venv).

    Example: yard models env churn/3 > requirements.txt
    """
    client = _client()
    if create is None:
        typer.echo(client.requirements_text(_uri(ref)), nl=False)
        return
    client.create_environment(_uri(ref), create)
    console.print(f"created {create} with the requirements of {ref}")


@app.command("checks")
def checks(
    ref: str = typer.Argument(..., help="churn/4 or churn@champion."),
    limit: int = typer.Option(20, "--limit", "-n", help="How many evaluations, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Check results stored on a version by `yard check`, newest first.

    Example: yard models checks churn/4
    """
    from modelyard.checks import CheckClient
    from modelyard.cli._checks import render_evaluations

    render_evaluations(CheckClient(workspace()).evaluations(ref, limit=limit), as_json)


def _uri(ref: str) -> str:
    if ref.startswith(("models:/", "runs:/")):
        return ref
    return "models:/" + ref


def _aliases(aliases: dict[str, int] | object) -> str:
    items = dict(aliases)  # type: ignore[call-overload]
    return ", ".join(f"{a}->{n}" for a, n in sorted(items.items())) or "-"
