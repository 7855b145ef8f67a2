"""ActiveRun: the handle a training script logs through while a run is RUNNING."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.domain.clock import now_ms
from modelyard.domain.names import (
    check_artifact_path,
    check_key,
    check_metric_value,
    check_step,
    param_text,
    tag_text,
)
from modelyard.domain.records import Artifact, Metric, Run, RunStatus
from modelyard.errors import InvalidArtifactPath, InvalidValue, ParamConflict, YardError

if TYPE_CHECKING:
    from modelyard.tracking._client import TrackingClient


class RunTerminated(SystemExit):
    """Raised in the main thread on SIGTERM while a run is active, so it ends as KILLED."""


class ActiveRun:
    """A RUNNING run. Use as a context manager: the run ends FINISHED, FAILED on an
    exception, KILLED on Ctrl-C or SIGTERM."""

    def __init__(self, client: TrackingClient, run: Run) -> None:
        self._client = client
        self.id = run.id
        self.experiment = run.experiment_name
        self.name = run.name
        self._ended = False
        self._params: dict[str, str] = {}  # everything this run logged: conflicts show at once

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, experiment={self.experiment!r}, name={self.name!r})"

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def uri(self) -> str:
        return f"runs:/{self.id}"

    @property
    def info(self) -> Run:
        """A fresh record of this run from the store (flushes pending metrics first)."""
        self._client.flush()
        return self._client.store.runs.get(self.id)

    # -- logging ------------------------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        checked = {check_key(k, "param"): param_text(k, v) for k, v in params.items()}
        for key, value in checked.items():
            old = self._params.get(key, value)
            if old != value:
                raise ParamConflict(
                    f"param {key!r} of run {self.id} is already {old!r}, cannot change it to "
                    f"{value!r}; params are fixed once logged - use a tag or a metric for "
                    "values that change"
                )
        self._params.update(checked)
        self._client.metrics.add_params(self.id, checked)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        checked = {check_key(k, "tag"): tag_text(k, v) for k, v in tags.items()}
        self._client.store.runs.set_tags(self.id, checked)

    def log_metric(
        self, key: str, value: float, step: int = 0, timestamp: int | None = None
    ) -> None:
        check_key(key, "metric")
        point = Metric(key, check_metric_value(key, value), check_step(step), timestamp or now_ms())
        self._client.metrics.add(self.id, (point,))

    def log_metrics(
        self, metrics: Mapping[str, float], step: int = 0, timestamp: int | None = None
    ) -> None:
        """Log several metrics at one step; validated now, stored in the background."""
        step = check_step(step)
        ts = timestamp or now_ms()
        points = [
            Metric(check_key(k, "metric"), check_metric_value(k, v), step, ts)
            for k, v in metrics.items()
        ]
        self._client.metrics.add(self.id, points)

    def log_artifact(
        self, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> Artifact:
        """Store a file under ``artifact_path/<file name>`` in the run's artifacts."""
        source = Path(local_path)
        if not source.is_file():
            raise InvalidArtifactPath(f"{source} is not a file; log_artifacts() takes folders")
        logical = check_artifact_path(_join(artifact_path, source.name))
        digest, size = self._client.blobs.put_file(source)
        artifact = Artifact(logical, digest, size)
        self._client.store.runs.add_artifacts(self.id, [artifact])
        return artifact

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[Artifact]:
        """Store every file under ``local_dir``, keeping relative paths."""
        folder = Path(local_dir)
        if not folder.is_dir():
            raise InvalidArtifactPath(f"{folder} is not a folder; log_artifact() takes files")
        artifacts = []
        root = folder.resolve()
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            if not source.resolve().is_relative_to(root):
                raise InvalidArtifactPath(
                    f"{source} links to {source.resolve()}, outside {folder}; copy the file "
                    "into the folder or log it with log_artifact()"
                )
            relative = source.relative_to(folder).as_posix()
            logical = check_artifact_path(_join(artifact_path, relative))
            digest, size = self._client.blobs.put_file(source)
            artifacts.append(Artifact(logical, digest, size))
        self._client.store.runs.add_artifacts(self.id, artifacts)
        return artifacts

    def log_dict(self, data: Any, artifact_file: str) -> Artifact:
        """Store ``data`` as JSON (``.json``) or YAML (``.yaml``, ``.yml``) at ``artifact_file``."""
        logical = check_artifact_path(artifact_file)
        if logical.endswith((".yaml", ".yml")):
            import yaml

            payload = yaml.safe_dump(data, sort_keys=False).encode()
        elif logical.endswith(".json"):
            payload = json.dumps(data, indent=2, default=str).encode()
        else:
            raise InvalidValue(
                f"log_dict cannot tell the format of {artifact_file!r}; end it with .json or .yaml",
                field="artifact_file",
            )
        digest, size = self._client.blobs.put_bytes(payload)
        artifact = Artifact(logical, digest, size)
        self._client.store.runs.add_artifacts(self.id, [artifact])
        return artifact

    # -- ending -------------------------------------------------------------------------------

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """Flush pending metrics and move the run to a terminal status."""
        status = status if isinstance(status, RunStatus) else RunStatus.parse(status)
        self._ended = True
        self._client.forget(self)
        last_params, last_points = self._client.metrics.take(self.id)
        try:
            self._client.store.runs.end(self.id, status, now_ms(), last_points, last_params)
        except YardError:
            self._client.metrics.add_params(self.id, last_params)
            self._client.metrics.add(self.id, last_points)
            raise

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if self._ended:
            return
        if exc_type is None or (issubclass(exc_type, SystemExit) and exc.code in (0, None)):
            status = RunStatus.FINISHED
        elif issubclass(exc_type, (KeyboardInterrupt, RunTerminated)):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        self.end(status)


def _join(folder: str | None, name: str) -> str:
    return f"{folder.strip('/')}/{name}" if folder else name
