"""yard check MODEL_URI|data ..., yard ci init github|gitlab; and the renderer of
``yard models checks``."""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard.checks import CheckClient, CheckReport, CheckStatus, Evaluation, ci_workflow
from modelyard.cli._render import console, errors, print_json, table, when
from modelyard.cli._workspace import workspace
from modelyard.errors import InvalidValue, YardError

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2

ci = typer.Typer(help="Continuous integration: workflows that gate models.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.add_typer(ci, name="ci")


def check(
    subject: str = typer.Argument(
        ..., help="Model URI (models:/churn/4, churn@candidate, runs:/<id>/model) or 'data'."
    ),
    version: str | None = typer.Argument(None, help="With 'data': the data version to check."),
    suite: Path | None = typer.Option(None, "--suite", "-s", help="Suite YAML file."),
    data: str | None = typer.Option(
        None, "--data", "-d", help="Evaluation data: churn@5 or a file."
    ),
    against: str | None = typer.Option(
        None, "--against", help="With 'data': the reference version."
    ),
    compare_to: str | None = typer.Option(
        None, "--compare-to", help="Alias or version to compare with (default: the suite's)."
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Write a JUnit XML report here."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Write a Markdown report here."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not store the evaluation."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Run a check suite: exit 0 when every check passes, 1 when one fails, 2 on an error.

    Examples: yard check models:/churn/4 --suite checks.yaml --data churn@5 --junit report.xml;
    yard check data churn@6 --against churn@5
    """
    try:
        client = CheckClient(workspace())
        if subject == "data":
            if not version or not against:
                raise InvalidValue(
                    "write `yard check data churn@6 --against churn@5`", field="against"
                )
            report = client.check_data(version, against, suite=suite)
        else:
            if suite is None or data is None:
                raise InvalidValue(
                    "a model check needs --suite checks.yaml and --data churn@5 (or a file)",
                    field="suite" if suite is None else "data",
                )
            report = client.check_model(
                subject, suite, data, compare_to=compare_to, store=not no_store
            )
        if junit:
            junit.write_text(report.to_junit())
        if markdown:
            markdown.write_text(report.to_markdown())
    except YardError as exc:
        errors.print("[red]error:[/] ", end="")
        errors.print(str(exc), markup=False)
        raise typer.Exit(EXIT_ERROR) from exc
    if as_json:
        print_json(report.to_dict())
    else:
        _render(report)
    raise typer.Exit(
        {CheckStatus.PASSED: EXIT_PASSED, CheckStatus.FAILED: EXIT_FAILED}.get(
            report.status, EXIT_ERROR
        )
    )


def _render(report: CheckReport) -> None:
    grid = table("STATUS", "CHECK", "VALUE", "THRESHOLD", "DETAILS")
    for o in report.ordered():
        colour = {"PASSED": "green", "FAILED": "red", "ERROR": "red", "SKIPPED": "yellow"}
        grid.add_row(
            f"[{colour[o.status.value]}]{o.status.value}[/]",
            o.name,
            "-" if o.value is None else f"{o.value:.4g}",
            o.threshold or "-",
            o.message,
        )
    console.print(grid)
    stored = f"; stored as evaluation {report.evaluation_id}" if report.evaluation_id else ""
    console.print(
        f"{report.status.value}: {report.subject} on {report.data_uri}, "
        f"{len(report.outcomes)} checks{stored}"
    )


@ci.command("init")
def ci_init(
    provider: str = typer.Argument(..., help="github or gitlab"),
    model: str = typer.Option("churn", "--model", help="Registered model to gate."),
    suite: str = typer.Option("checks.yaml", "--suite", help="Suite file in the repository."),
    data: str = typer.Option("churn", "--data", help="Evaluation data version."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing workflow."),
) -> None:
    """Write a CI workflow that runs the suite on the candidate and fails on failure.

    Example: yard ci init github --model churn --data churn@5
    """
    path, text = ci_workflow(provider, model=model, suite=suite, data=data)
    target = Path(path)
    if target.exists() and not force:
        raise InvalidValue(f"{target} exists; pass --force to overwrite it", field="provider")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    console.print(f"wrote {target}; commit it and set YARD_URI / YARD_BLOBS as CI secrets")


def render_evaluations(items: list[Evaluation], as_json: bool) -> None:
    """``yard models checks``: stored evaluations, newest first."""
    if as_json:
        print_json(items)
        return
    grid = table(
        "EVALUATION", "STATUS", "CHECKS", "NOT PASSED", "DATA", "VS", "SUITE", "WHEN", "BY"
    )
    for e in items:
        bad = [o.name for o in e.outcomes if o.status is not CheckStatus.PASSED]
        grid.add_row(
            e.id[:12],
            e.status.value,
            str(len(e.outcomes)),
            ", ".join(bad[:3]) + (" ..." if len(bad) > 3 else "") or "-",
            e.data_uri,
            e.compared_with or "-",
            e.suite_digest.removeprefix("blake3:")[:12],
            when(e.created_at),
            e.created_by,
        )
    console.print(grid if items else "no stored checks; run `yard check <model> --suite ...`")
