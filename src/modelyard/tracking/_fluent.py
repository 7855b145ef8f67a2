"""The convenient module-level API (``yard.start_run``, ``yard.log_metrics``, ...).

Each function finds the active run of the current thread/task (a context variable) and calls
its method. The client behind it is opened from the workspace settings on first use and cached
per location. At interpreter exit, queued metrics are flushed and runs still open are ended.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelyard.domain.records import Artifact, Metric, Run, RunStatus
from modelyard.errors import InvalidState
from modelyard.tracking._client import TrackingClient, runs_frame
from modelyard.tracking._run import ActiveRun, RunTerminated
from modelyard.workspace import Settings, open_workspace, resolve

if TYPE_CHECKING:
    import pandas as pd

_active: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "yard_active_runs", default=()
)
_clients: dict[Settings, TrackingClient] = {}
_clients_lock = threading.Lock()
_settings: dict[tuple[str, ...], Settings] = {}
_SETTINGS_ENV = ("YARD_URI", "YARD_BLOBS", "YARD_USER", "YARD_S3_ENDPOINT_URL")


def _current_settings() -> Settings:
    """``resolve()``, remembered per working directory and YARD_* values (a run start is a
    dictionary lookup, not a walk up the file system); a new ``.yard/`` is found when the
    remembered one disappears."""
    key = (os.getcwd(), *(os.environ.get(name, "") for name in _SETTINGS_ENV))
    found = _settings.get(key)
    if found is None or (found.root is not None and not found.root.is_dir()):
        found = _settings[key] = resolve()
    return found


def client(settings: Settings | None = None) -> TrackingClient:
    """The tracking client for the current workspace (``.yard/`` or ``YARD_URI``)."""
    settings = settings or _current_settings()
    with _clients_lock:
        found = _clients.get(settings)
        if found is None:
            found = _clients[settings] = TrackingClient(open_workspace(settings))
        return found


def start_run(
    experiment: str = "default",
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    nested: bool = False,
    parent_id: str | None = None,
) -> ActiveRun:
    """Start a run and make it the active one; use it in a ``with`` block.

    A run started while another is active must say ``nested=True``; it then records the
    active run as its parent.
    """
    stack = _open_stack()
    if stack and not nested and parent_id is None:
        raise InvalidState(
            f"run {stack[-1].id} is already active; end it first, or pass nested=True to "
            "start a child run"
        )
    if nested and stack and parent_id is None:
        parent_id = stack[-1].id
    tracking = client()
    run = tracking.start_run(experiment, name, tags, parent_id=parent_id)
    _active.set((*stack, run))
    _install_sigterm_handler()
    return run


def _open_stack() -> tuple[ActiveRun, ...]:
    """The active runs of this thread/task, dropping those that have ended since."""
    stack = _active.get()
    open_runs = tuple(r for r in stack if not r.ended)
    if len(open_runs) != len(stack):
        _active.set(open_runs)
    return open_runs


def active_run() -> ActiveRun | None:
    """The innermost run started with ``start_run`` that has not ended, or None."""
    stack = _open_stack()
    return stack[-1] if stack else None


def _require_run() -> ActiveRun:
    run = active_run()
    if run is None:
        raise InvalidState(
            "no active run; wrap your logging in `with yard.start_run(experiment=...):`"
        )
    return run


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run with ``status`` (FINISHED, FAILED or KILLED)."""
    _require_run().end(status)


def log_param(key: str, value: Any) -> None:
    _require_run().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _require_run().log_params(params)


def set_tag(key: str, value: Any) -> None:
    _require_run().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _require_run().set_tags(tags)


def log_metric(key: str, value: float, step: int = 0, timestamp: int | None = None) -> None:
    _require_run().log_metric(key, value, step, timestamp)


def log_metrics(metrics: Mapping[str, float], step: int = 0, timestamp: int | None = None) -> None:
    _require_run().log_metrics(metrics, step, timestamp)


def log_artifact(local_path: str, artifact_path: str | None = None) -> Artifact:
    return _require_run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str, artifact_path: str | None = None) -> list[Artifact]:
    return _require_run().log_artifacts(local_dir, artifact_path)


def log_dict(data: Any, artifact_file: str) -> Artifact:
    return _require_run().log_dict(data, artifact_file)


def flush() -> None:
    """Block until every metric logged so far in this process is durably stored."""
    with _clients_lock:
        clients = list(_clients.values())
    for c in clients:
        c.flush()


def get_run(run_id: str) -> Run:
    return client().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every point of ``key`` in the run, ordered by step then time."""
    return client().get_metric_history(run_id, key)


def search_runs(
    experiments: str | Sequence[str] = (),
    filter: str | None = None,
    order_by: Sequence[str] | str = (),
    limit: int = 1000,
    *,
    include_deleted: bool = False,
) -> pd.DataFrame:
    """Runs as a pandas DataFrame, e.g. ``search_runs("churn", filter="metrics.auc > 0.8")``."""
    runs = client().search_runs(
        experiments, filter=filter, order_by=order_by, limit=limit, include_deleted=include_deleted
    )
    return runs_frame(runs)


def _install_sigterm_handler() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def _on_sigterm(signum, frame) -> None:  # type: ignore[no-untyped-def]
        raise RunTerminated(128 + signum)

    signal.signal(signal.SIGTERM, _on_sigterm)


def _excepthook(exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
    status = RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED
    _end_open_runs(status)
    _previous_excepthook(exc_type, exc, tb)


def _end_open_runs(status: RunStatus) -> None:
    with _clients_lock:
        clients = list(_clients.values())
    for c in clients:
        for run in c.active_runs():
            run.end(status)
        c.flush()


def _close_clients() -> None:
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for c in clients:
        c.close()


_previous_excepthook = sys.excepthook
sys.excepthook = _excepthook
atexit.register(_close_clients)  # at exit handlers run last-registered first: this one last
atexit.register(_end_open_runs, RunStatus.FINISHED)
