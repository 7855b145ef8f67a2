"""TrackingClient: runs, metrics and artifacts against one workspace (store + blobs)."""

from __future__ import annotations

import os
import socket
import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelyard.domain.clock import now_ms
from modelyard.domain.names import check_experiment_name, check_key, tag_text
from modelyard.domain.records import Metric, NewRun, Run
from modelyard.tracking import _environment
from modelyard.tracking._batcher import MetricBatcher, SyncMetricWriter
from modelyard.tracking._run import ActiveRun
from modelyard.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd


class TrackingClient:
    """Explicit entry point to tracking; the ``yard.*`` functions are a thin layer over it."""

    def __init__(self, workspace: Workspace, *, synchronous: bool = False) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.blobs = workspace.blobs
        self.metrics = (
            SyncMetricWriter(self.store.runs) if synchronous else MetricBatcher(self.store.runs)
        )
        self._env_digests: dict[str, str] = {}
        self._active: dict[str, ActiveRun] = {}
        self._lock = threading.Lock()

    def start_run(
        self,
        experiment: str = "default",
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        *,
        parent_id: str | None = None,
        capture_environment: bool = True,
    ) -> ActiveRun:
        """Create a RUNNING run in ``experiment`` (created on first use)."""
        check_experiment_name(experiment)
        checked_tags = {check_key(k, "tag"): tag_text(k, v) for k, v in (tags or {}).items()}
        run_id = uuid.uuid4().hex
        env = _environment.capture() if capture_environment else None
        new = NewRun(
            id=run_id,
            experiment_name=experiment,
            name=name or f"run-{run_id[:8]}",
            start_time=now_ms(),
            parent_id=parent_id,
            user=self.store.actor,
            host=socket.gethostname(),
            command=" ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]) if sys.argv else "",
            git_commit=env.git.commit if env else None,
            git_dirty=env.git.dirty if env else None,
            environment_digest=self._environment_digest(env) if env else None,
            tags=checked_tags,
        )
        run = ActiveRun(self, self.store.runs.create(new))
        with self._lock:
            self._active[run.id] = run
        return run

    def _environment_digest(self, env: _environment.Environment) -> str:
        key = f"{env.git.root}|{env.git.commit}|{env.git.dirty}"
        digest = self._env_digests.get(key)
        if digest is None:
            digest, _ = self.blobs.put_bytes(env.to_json())
            self._env_digests[key] = digest
        return digest

    def forget(self, run: ActiveRun) -> None:
        with self._lock:
            self._active.pop(run.id, None)

    def active_runs(self) -> list[ActiveRun]:
        with self._lock:
            return list(self._active.values())

    def flush(self) -> None:
        """Block until every metric point logged so far is durably stored."""
        self.metrics.flush()

    def close(self) -> None:
        """Store what is pending, then close the workspace's connections."""
        self.flush()
        self.workspace.close()

    def get_run(self, run_id: str) -> Run:
        self.flush()
        return self.store.runs.get(run_id)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self.flush()
        return self.store.runs.metric_history(run_id, key)

    def search_runs(
        self,
        experiments: str | Sequence[str] = (),
        *,
        filter: str | None = None,
        order_by: Sequence[str] | str = (),
        limit: int = 1000,
        include_deleted: bool = False,
    ) -> list[Run]:
        """Runs matching ``filter`` (see ``modelyard.domain.filters``), at most ``limit``."""
        self.flush()
        names = [experiments] if isinstance(experiments, str) else list(experiments)
        orders = [order_by] if isinstance(order_by, str) else list(order_by)
        runs: list[Run] = []
        token = None
        while len(runs) < limit:
            page = self.store.runs.search(
                names,
                filter=filter,
                order_by=orders,
                limit=min(limit - len(runs), 1000),
                page_token=token,
                include_deleted=include_deleted,
            )
            runs.extend(page.items)
            token = page.next_token
            if token is None:
                break
        return runs


def runs_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: attributes, then ``metrics.*``, ``params.*`` and ``tags.*`` columns."""
    import pandas as pd  # imported on use: it costs ~0.3 s, and the CLI never needs it

    rows = []
    for run in runs:
        row: dict[str, Any] = {
            "run_id": run.id,
            "experiment": run.experiment_name,
            "name": run.name,
            "status": run.status.value,
            "start_time": pd.Timestamp(run.start_time, unit="ms", tz="UTC"),
            "end_time": pd.Timestamp(run.end_time, unit="ms", tz="UTC") if run.end_time else pd.NaT,
            "user": run.user,
            "parent_id": run.parent_id,
        }
        row.update({f"metrics.{k}": m.value for k, m in run.metrics.items()})
        row.update({f"params.{k}": v for k, v in run.params.items()})
        row.update({f"tags.{k}": v for k, v in run.tags.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "run_id",
                "experiment",
                "name",
                "status",
                "start_time",
                "end_time",
                "user",
                "parent_id",
            ]
        )
    fixed = [c for c in frame.columns if "." not in c]
    dynamic = sorted(
        (c for c in frame.columns if "." in c), key=lambda c: (c.split(".")[0] != "metrics", c)
    )
    return frame[fixed + dynamic]
