"""yard data add|list|versions|show|diff|get|status|push|pull"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from modelyard.cli._lines import MAX_FILES_SHOWN, add_lines, file_changes, size, status_lines
from modelyard.cli._render import console, errors, number, print_json, table, when
from modelyard.cli._workspace import workspace
from modelyard.data import DataClient, DatasetDiff, DatasetVersion, TableProfile

app = typer.Typer(
    help="Data: versioned datasets (files and folders), profiles, diffs, remotes.",
    no_args_is_help=True,
)
PROGRESS_MIN_BYTES = 64 << 20


def _client() -> DataClient:
    return DataClient(workspace())


@app.command("add")
def add(
    source: Path = typer.Argument(..., help="A file or a folder of files."),
    name: str = typer.Option(..., "--name", "-n", help="Dataset name, e.g. churn."),
    message: str = typer.Option("", "--message", "-m", help="What changed in this version."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Record a file or folder as the next version of a dataset (unchanged data: no version).

    Example: yard data add data/train.parquet --name churn -m "October extract"
    """
    client = _client()
    if sys.stderr.isatty() and not as_json:
        result = _add_with_progress(client, source, name, message)
    else:
        result = client.add(source, name, message=message)
    if as_json:
        print_json(result)
        return
    for line in add_lines(str(source), result):
        console.print(line, markup=False)


def _add_with_progress(client: DataClient, source: Path, name: str, message: str):  # type: ignore[no-untyped-def]
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )
    task = bar.add_task(f"adding {source}", total=None, visible=False)

    def report(done: int, total: int) -> None:
        if total >= PROGRESS_MIN_BYTES:
            bar.update(task, completed=done, total=total, visible=True)

    with bar:
        return client.add(source, name, message=message, progress=report)


@app.command("list")
def list_datasets(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Datasets with their latest version, size and rows.

    Example: yard data list --json
    """
    items = _client().list()
    if as_json:
        print_json(items)
        return
    grid = table("NAME", "LATEST", "FILES", "SIZE", "ROWS", "UPDATED", "MESSAGE")
    for d in items:
        v = d.latest
        if v is None:
            grid.add_row(d.name, "-", "-", "-", "-", when(d.created_at), "")
            continue
        grid.add_row(
            d.name,
            f"@{v.number}",
            f"{v.file_count:,}",
            size(v.total_size),
            f"{v.rows:,}" if v.rows is not None else "-",
            when(v.created_at),
            v.message,
        )
    console.print(grid if items else "no datasets yet; `yard data add <path> --name <name>`")


@app.command("versions")
def versions(
    name: str = typer.Argument(..., help="Dataset name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """History of a dataset: versions with messages, authors, sizes, digests.

    Example: yard data versions churn
    """
    items = _client().versions(name)
    if as_json:
        print_json(items)
        return
    grid = table("VERSION", "DIGEST", "FILES", "SIZE", "ROWS", "CREATED", "AUTHOR", "MESSAGE")
    for v in reversed(items):
        grid.add_row(
            f"{v.dataset}@{v.number}",
            v.short_digest,
            f"{v.file_count:,}",
            size(v.total_size),
            f"{v.rows:,}" if v.rows is not None else "-",
            when(v.created_at),
            v.author,
            v.message,
        )
    console.print(grid)


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name@3, name@latest or name@<digest prefix>."),
    files: bool = typer.Option(False, "--files", help="List every file, not the first 20."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """One version: files, schema, rows, per-column profile, and the runs that used it.

    Example: yard data show churn@2
    """
    details = _client().show(ref)
    v = details.version
    if as_json:
        print_json(details)
        return
    console.print(f"[bold]{v.dataset}@{v.number}[/]  {v.content_digest}")
    facts = table("", "", show_header=False)
    for label, value in [
        ("kind", v.kind.value),
        ("message", v.message or "-"),
        ("author", v.author),
        ("created", when(v.created_at)),
        ("files", f"{v.file_count:,} ({size(v.total_size)})"),
        ("rows", f"{v.rows:,}" if v.rows is not None else "-"),
        ("source", v.source or "-"),
    ]:
        facts.add_row(f"[dim]{label}[/]", value)
    console.print(facts)
    shown = details.entries if files else details.entries[:MAX_FILES_SHOWN]
    console.print("\n[bold]files[/]")
    grid = table("PATH", "SIZE", "DIGEST")
    for e in shown:
        grid.add_row(e.path, size(e.size), e.digest.removeprefix("blake3:")[:12])
    console.print(grid)
    if len(shown) < len(details.entries):
        console.print(f"... and {len(details.entries) - len(shown):,} more (--files lists all)")
    if v.profile is not None:
        _profile(v.profile)
    console.print("\n[bold]used by[/]")
    if details.used_by:
        for edge in details.used_by:
            console.print(f"  {edge.target}  ({edge.relation}, {when(edge.created_at)})")
    else:
        console.print("  no runs yet (yard.use_dataset records them)")
    for edge in details.produced_by:
        console.print(f"produced by {edge.source}")


def _profile(profile: TableProfile) -> None:
    console.print(f"\n[bold]profile[/] ({profile.rows:,} rows, {len(profile.columns)} columns)")
    grid = table("COLUMN", "TYPE", "NULLS", "DISTINCT", "MIN", "MEAN", "STD", "MAX", "TOP")
    for c in profile.columns:
        top = ", ".join(f"{v} ({n})" for v, n in c.top[:3])
        grid.add_row(
            c.name,
            c.type,
            f"{c.nulls:,}",
            f"{c.distinct:,}" if c.distinct is not None else "-",
            _value(c.min),
            _value(c.mean),
            _value(c.std),
            _value(c.max),
            top or "-",
        )
    console.print(grid)


def _value(value: float | str | None) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else number(value)


@app.command("diff")
def diff(
    old: str = typer.Argument(..., help="e.g. churn@1"),
    new: str = typer.Argument(..., help="e.g. churn@2"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Files added/removed/changed; for tables also schema, rows and per-column shifts.

    Example: yard data diff churn@1 churn@2
    """
    result = _client().diff(old, new)
    if as_json:
        print_json(result)
        return
    _render_diff(result)


def _render_diff(d: DatasetDiff) -> None:
    console.print(f"[bold]{_label(d.old)} -> {_label(d.new)}[/]")
    if d.identical:
        console.print("identical content")
        return
    console.print(
        f"files: {len(d.added)} added, {len(d.removed)} removed, {len(d.modified)} modified, "
        f"{d.unchanged} unchanged"
    )
    for line in file_changes(d.added, d.removed, d.modified):
        console.print(line, markup=False)
    if d.rows_before is not None:
        delta = d.rows_after - d.rows_before  # type: ignore[operator]
        console.print(f"rows: {d.rows_before:,} -> {d.rows_after:,} ({delta:+,})")
    if d.schema is not None and d.schema.changed:
        for column, kind in d.schema.added:
            console.print(f"  + column {column} ({kind})", markup=False)
        for column, kind in d.schema.removed:
            console.print(f"  - column {column} ({kind})", markup=False)
        for column, before, after in d.schema.retyped:
            console.print(f"  ~ column {column}: {before} -> {after}", markup=False)
    changed = [c for c in d.columns if c.changed]
    if changed:
        grid = table("COLUMN", "MEAN", "SHIFT (STD)", "NULLS", "DISTINCT", "NEW VALUES")
        for c in changed:
            mean = (
                f"{number(c.mean_before)} -> {number(c.mean_after)}"
                if c.mean_before is not None or c.mean_after is not None
                else "-"
            )
            shift = c.mean_shift_in_std
            grid.add_row(
                c.name,
                mean,
                f"{shift:+.2f}" if shift is not None else "-",
                f"{c.null_fraction_before:.1%} -> {c.null_fraction_after:.1%}",
                f"{c.distinct_before} -> {c.distinct_after}",
                ", ".join(c.new_categories) or "-",
            )
        console.print(grid)


def _label(v: DatasetVersion) -> str:
    return f"{v.dataset}@{v.number}"


@app.command("get")
def get(
    ref: str = typer.Argument(..., help="e.g. churn@1"),
    destination: Path = typer.Argument(..., help="Folder to write the version's files into."),
    copy: bool = typer.Option(False, "--copy", help="Always copy (no hard links)."),
    force: bool = typer.Option(False, "--force", help="Overwrite files already there."),
) -> None:
    """Materialise a version into a folder (hard links to the read-only store, or copies).

    Example: yard data get churn@1 ./restore/
    """
    client = _client()
    version = client.resolve(ref)
    paths = client.get(version_ref(version), destination, link=not copy, force=force)
    console.print(f"wrote {len(paths):,} files of {_label(version)} to {destination}")


def version_ref(v: DatasetVersion) -> str:
    return f"{v.dataset}@{v.number}"


@app.command("status")
def status(
    source: Path = typer.Argument(..., help="The file or folder to compare."),
    name: str | None = typer.Option(
        None, "--name", "-n", help="Compare with this dataset (default: the one added from here)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """What changed on disk since the last version (unchanged files are not re-read).

    Example: yard data status data/images/
    """
    result = _client().status(source, name)
    if as_json:
        print_json(result)
        return
    for line in status_lines(str(source), result):
        console.print(line, markup=False)


@app.command("push")
def push(
    refs: list[str] = typer.Argument(None, help="Versions to push (default: all)."),
    remote: str = typer.Option(..., "--remote", "-r", help="Folder or URL, e.g. s3://bucket/yard"),
) -> None:
    """Upload the blobs a remote lacks (only missing ones), for some or all versions.

    Example: yard data push --remote s3://bucket/yard
    """
    result = _client().push(remote, refs or ())
    console.print(
        f"pushed {result.copied:,} blobs ({size(result.copied_bytes)}) to {remote}; "
        f"{result.present:,} were already there"
    )


@app.command("pull")
def pull(
    refs: list[str] = typer.Argument(None, help="Versions to pull (default: all)."),
    remote: str = typer.Option(..., "--remote", "-r", help="Folder or URL, e.g. s3://bucket/yard"),
) -> None:
    """Download what the workspace lacks of some or all versions, verifying every digest.

    Example: yard data pull churn@1 --remote s3://bucket/yard
    """
    result = _client().pull(refs or (), remote)
    console.print(
        f"pulled {result.copied:,} blobs ({size(result.copied_bytes)}) from {remote}; "
        f"{result.present:,} were already here"
    )
