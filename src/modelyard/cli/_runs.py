"""yard runs list|show|compare|delete|restore|end"""

from __future__ import annotations

import json

import typer

from modelyard.cli._lines import size
from modelyard.cli._render import console, duration, number, print_json, status, table, when
from modelyard.cli._workspace import workspace
from modelyard.domain.clock import now_ms
from modelyard.domain.records import Run, RunStatus
from modelyard.errors import BlobNotFound
from modelyard.tracking import TrackingClient

app = typer.Typer(help="Runs: search, inspect, compare, delete.", no_args_is_help=True)
MAX_METRIC_COLUMNS = 6


def _client() -> TrackingClient:
    return TrackingClient(workspace(), synchronous=True)


@app.command("list")
def list_runs(
    experiment: list[str] = typer.Option(
        [], "--experiment", "-e", help="Experiment name (repeatable; default all)."
    ),
    filter: str | None = typer.Option(
        None, "--filter", "-f", help="e.g. \"metrics.auc > 0.8 and params.max_depth = '8'\""
    ),
    order_by: list[str] = typer.Option(
        [], "--order-by", "-o", help='e.g. "metrics.auc desc" (repeatable).'
    ),
    limit: int = typer.Option(50, "--limit", "-n", help="At most this many runs."),
    all_: bool = typer.Option(False, "--all", help="Include deleted runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """List runs, filtered and ordered.

    Example: yard runs list -e churn --filter "metrics.auc > 0.8" --order-by "metrics.auc desc"
    """
    runs = _client().search_runs(
        experiment, filter=filter, order_by=order_by, limit=limit, include_deleted=all_
    )
    if as_json:
        print_json(runs)
        return
    if not runs:
        console.print("no runs match")
        return
    keys = _metric_columns(runs, order_by, filter)
    grid = table("RUN ID", "NAME", "EXPERIMENT", "STATUS", "STARTED", "DURATION", *keys)
    for run in runs:
        grid.add_row(
            run.id,
            run.name,
            run.experiment_name,
            status(run.status.value),
            when(run.start_time),
            duration(run.duration_ms),
            *(number(run.metrics[k].value) if k in run.metrics else "-" for k in keys),
        )
    console.print(grid)


def _metric_columns(runs: list[Run], order_by: list[str], filter: str | None) -> list[str]:
    """Metrics named in the order/filter first, then the most common ones."""
    counts: dict[str, int] = {}
    for run in runs:
        for key in run.metrics:
            counts[key] = counts.get(key, 0) + 1
    mentioned = " ".join([*order_by, filter or ""])
    first = [k for k in counts if f"metrics.{k}" in mentioned or f"metric.{k}" in mentioned]
    rest = sorted((k for k in counts if k not in first), key=lambda k: (-counts[k], k))
    return (first + rest)[:MAX_METRIC_COLUMNS]


@app.command("show")
def show(
    run_id: str,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Everything about one run: params, latest metrics, tags, artifacts, environment, lineage.

    Example: yard runs show 3f2a9c0e1b7d4e6f8a9b0c1d2e3f4a5b
    """
    ws = workspace()
    run = ws.store.runs.get(run_id)
    artifacts = ws.store.runs.artifacts(run_id)
    upstream = ws.store.lineage.upstream(run.uri)
    downstream = ws.store.lineage.downstream(run.uri)
    children = _client().search_runs(filter=f"parent_id = '{run.id}'", limit=100)
    environment = _environment(ws, run)
    if as_json:
        print_json(
            {
                "run": run,
                "artifacts": artifacts,
                "environment": environment,
                "lineage": {"upstream": upstream, "downstream": downstream},
                "children": [c.id for c in children],
            }
        )
        return
    console.print(f"[bold]{run.name}[/]  {run.id}  {status(run.status.value)}")
    facts = table("", "", show_header=False)
    for label, value in [
        ("experiment", run.experiment_name),
        ("started", when(run.start_time)),
        ("ended", when(run.end_time)),
        ("duration", duration(run.duration_ms)),
        ("user", f"{run.user}@{run.host}"),
        ("command", run.command or "-"),
        ("parent", run.parent_id or "-"),
        ("git", _git(run)),
        ("state", run.lifecycle.value),
    ]:
        facts.add_row(f"[dim]{label}[/]", value)
    console.print(facts)
    _section("params", ["KEY", "VALUE"], [[k, v] for k, v in run.params.items()])
    _section(
        "metrics (latest)",
        ["KEY", "VALUE", "STEP"],
        [[k, number(m.value), str(m.step)] for k, m in run.metrics.items()],
    )
    _section("tags", ["KEY", "VALUE"], [[k, v] for k, v in run.tags.items()])
    _section(
        "artifacts",
        ["PATH", "SIZE", "DIGEST"],
        [[a.path, size(a.size), a.digest[:19]] for a in artifacts],
    )
    if environment:
        packages = environment.get("packages", {})
        _section(
            "environment",
            ["", ""],
            [
                ["python", f"{environment.get('python')} ({environment.get('implementation')})"],
                ["platform", environment.get("platform", "-")],
                ["packages", f"{len(packages)} installed (yard runs show --json lists them)"],
            ],
        )
    _section(
        "child runs",
        ["RUN ID", "NAME", "STATUS"],
        [[c.id, c.name, status(c.status.value)] for c in children],
    )
    edges = [[e.source, e.relation, "this run"] for e in upstream]
    edges += [["this run", e.relation, e.target] for e in downstream]
    _section("lineage", ["FROM", "RELATION", "TO"], edges)


def _environment(ws, run: Run) -> dict:  # type: ignore[no-untyped-def, type-arg]
    if not run.environment_digest:
        return {}
    try:
        return json.loads(ws.blobs.get_bytes(run.environment_digest))
    except BlobNotFound:
        return {"missing": run.environment_digest}


def _git(run: Run) -> str:
    if not run.git_commit:
        return "-"
    return run.git_commit[:12] + (" (dirty: uncommitted changes recorded)" if run.git_dirty else "")


def _section(title: str, columns: list[str], rows: list[list[str]]) -> None:
    if not rows:
        return
    console.print(f"\n[bold]{title}[/]")
    grid = table(*columns, show_header=any(columns))
    for row in rows:
        grid.add_row(*row)
    console.print(grid)


@app.command("compare")
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids."),
    all_params: bool = typer.Option(False, "--all-params", help="Also show params that are equal."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Side by side: the params that differ and every metric.

    Example: yard runs compare 3f2a9c0e... 7b1d4e6f... 9c0e1b7d...
    """
    if len(run_ids) < 2:
        raise typer.BadParameter("give at least two run ids to compare", param_hint="RUN_IDS")
    store = workspace().store
    runs = [store.runs.get(run_id) for run_id in run_ids]
    param_keys = sorted({k for r in runs for k in r.params})
    differing = [k for k in param_keys if len({r.params.get(k) for r in runs}) > 1]
    shown_params = param_keys if all_params else differing
    metric_keys = sorted({k for r in runs for k in r.metrics})
    if as_json:
        print_json(
            {
                "runs": [r.id for r in runs],
                "params": {k: [r.params.get(k) for r in runs] for k in shown_params},
                "differing_params": differing,
                "metrics": {
                    k: [r.metrics[k].value if k in r.metrics else None for r in runs]
                    for k in metric_keys
                },
            }
        )
        return
    grid = table("", *(f"{r.name}\n[dim]{r.id[:12]}[/]" for r in runs))
    grid.add_row("[dim]status[/]", *(status(r.status.value) for r in runs))
    for key in shown_params:
        style = "yellow" if key in differing else "dim"
        grid.add_row(f"[{style}]params.{key}[/]", *(r.params.get(key, "-") for r in runs))
    for key in metric_keys:
        values = [r.metrics[key].value if key in r.metrics else None for r in runs]
        grid.add_row(f"metrics.{key}", *(number(v) for v in values))
    console.print(grid)
    hidden = len(param_keys) - len(shown_params)
    if hidden:
        console.print(f"[dim]{hidden} params are equal in every run (--all-params shows them)[/]")


@app.command("delete")
def delete(run_ids: list[str] = typer.Argument(..., help="Run ids.")) -> None:
    """Delete runs (hidden from listings; `yard runs restore` undoes it).

    Example: yard runs delete 3f2a9c0e1b7d4e6f8a9b0c1d2e3f4a5b
    """
    for run_id in run_ids:
        workspace().store.runs.delete(run_id)
        console.print(f"deleted run {run_id}")


@app.command("restore")
def restore(run_ids: list[str] = typer.Argument(..., help="Run ids.")) -> None:
    """Restore deleted runs.

    Example: yard runs restore 3f2a9c0e1b7d4e6f8a9b0c1d2e3f4a5b
    """
    for run_id in run_ids:
        workspace().store.runs.restore(run_id)
        console.print(f"restored run {run_id}")


@app.command("end")
def end(
    run_id: str,
    status_: str = typer.Option("KILLED", "--status", "-s", help="FINISHED, FAILED or KILLED."),
) -> None:
    """End a run left RUNNING by a crashed or killed process.

    Example: yard runs end 3f2a9c0e1b7d4e6f8a9b0c1d2e3f4a5b --status failed
    """
    workspace().store.runs.end(run_id, RunStatus.parse(status_), now_ms())
    console.print(f"ended run {run_id} as {RunStatus.parse(status_).value}")
