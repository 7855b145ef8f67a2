"""yard serve, yard predict, yard predictions list|export"""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard.cli._render import console, print_json, table, when
from modelyard.cli._workspace import workspace
from modelyard.errors import InvalidValue

predictions_app = typer.Typer(
    help="The prediction log written by `yard serve`: list and export its segments.",
    no_args_is_help=True,
)


def serve(
    model_uri: str = typer.Argument(..., help="Model to serve, e.g. models:/churn@champion."),
    model: list[str] = typer.Option(
        [], "--model", help="Another model to serve (repeatable): URI or name=URI."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes."),
    optimize: bool = typer.Option(
        False,
        "--optimize",
        help="Serve scikit-learn, XGBoost and LightGBM models through ONNX Runtime, only "
        "when the converted model's predictions match the original's (other flavors as is).",
    ),
    follow_alias: float = typer.Option(
        0, "--follow-alias", min=0, help="Poll aliases every N seconds and reload (0: off)."
    ),
    max_batch_size: int = typer.Option(64, "--max-batch-size", min=1, help="Rows per predict."),
    max_wait_ms: float = typer.Option(
        2.0, "--max-wait-ms", min=0, help="Longest wait for requests to batch together."
    ),
    max_body_mb: float = typer.Option(8, "--max-body-mb", min=0.001, help="Largest body."),
    unknown_category: str = typer.Option(
        "error", "--unknown-category", help="'error' (422) or 'allow' for unseen categories."
    ),
    no_log: bool = typer.Option(False, "--no-log", help="Do not log predictions."),
    log_segment_rows: int = typer.Option(
        50_000, "--log-segment-rows", min=1, help="Rows per prediction log segment."
    ),
    log_segment_seconds: float = typer.Option(
        60.0, "--log-segment-seconds", min=0.01, help="Longest a log segment stays open."
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
    access_log: bool = typer.Option(
        True,
        "--access-log/--no-access-log",
        help="One JSON line per request on stderr (time, request_id, method, path, status, "
        "latency_ms, model, version, rows) instead of uvicorn's plain access log.",
    ),
) -> None:
    """Serve models over HTTP: /predict, Open Inference Protocol v2, /metrics.

    Example: yard serve models:/churn@champion --port 8000 --workers 2
    """
    from modelyard.serving import BatchPolicy, LogPolicy, ServeConfig
    from modelyard.serving import serve as run_server

    if unknown_category not in ("error", "allow"):
        raise InvalidValue(
            f"--unknown-category must be 'error' or 'allow', not {unknown_category!r}",
            field="unknown_category",
        )
    workspace()  # fail now, with the usual message, when there is no workspace
    config = ServeConfig(
        models=(model_uri, *model),
        batch=BatchPolicy(max_batch_size=max_batch_size, max_wait_ms=max_wait_ms),
        log=LogPolicy(
            enabled=not no_log,
            segment_rows=log_segment_rows,
            segment_seconds=log_segment_seconds,
        ),
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        optimize=optimize,
        follow_alias_seconds=follow_alias or None,
        unknown_category=unknown_category,
        access_log=access_log,
    )
    console.print(
        f"yard serve {', '.join(config.models)} on http://{host}:{port} "
        f"({workers} worker{'s' if workers > 1 else ''})"
    )
    run_server(config, host=host, port=port, workers=workers, log_level=log_level)


def predict(
    model_uri: str = typer.Argument(..., help="Model to score with, e.g. models:/churn/3."),
    data: Path = typer.Argument(..., help="Input rows: a .parquet or .csv file."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write scored Parquet."),
    chunk_rows: int = typer.Option(50_000, "--chunk-rows", min=1, help="Rows per chunk."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Score a file in chunks (bounded memory) and write it with a `prediction` column.

    Example: yard predict models:/churn@champion data.parquet -o scored.parquet
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from modelyard.models import ModelClient
    from modelyard.serving import score_file

    model = ModelClient(workspace()).load(model_uri)
    with Progress(
        TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), console=console,
        disable=as_json or not console.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("score", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        rows = score_file(model, data, output, chunk_rows=chunk_rows, progress=progress)
    if as_json:
        print_json({"rows": rows, "output": str(output), "model": model.uri})
    else:
        console.print(f"scored {rows:,} rows with {model.uri} -> {output}")


@predictions_app.command("list")
def list_predictions(
    model: str = typer.Argument(None, help="Model (churn) or version (churn/3); all if omitted."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Prediction log segments, oldest first.

    Example: yard predictions list churn
    """
    from modelyard.models import ModelClient
    from modelyard.serving import list_segments

    segments = list_segments(ModelClient(workspace()), model)
    if as_json:
        print_json(segments)
        return
    grid = table("CREATED", "MODEL VERSION", "SEGMENT")
    for s in segments:
        grid.add_row(when(s.created_at), s.source, s.uri)
    console.print(grid if segments else "no logged predictions yet; `yard serve` writes them")


@predictions_app.command("export")
def export(
    model: str = typer.Argument(None, help="Model (churn) or version (churn/3); all if omitted."),
    output: Path = typer.Option(..., "-o", "--output", help="Parquet file to write."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for programs."),
) -> None:
    """Every logged prediction (inputs, output, version, latency, time) as one Parquet file.

    Example: yard predictions export churn -o predictions.parquet
    """
    from modelyard.models import ModelClient
    from modelyard.serving import export_predictions

    rows = export_predictions(ModelClient(workspace()), model, str(output))
    if as_json:
        print_json({"rows": rows, "output": str(output)})
    else:
        console.print(f"exported {rows:,} logged predictions -> {output}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("predict")(predict)
    app.add_typer(predictions_app, name="predictions")
