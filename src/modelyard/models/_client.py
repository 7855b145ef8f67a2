"""ModelClient: package, store, register, alias and load models against one workspace.

``yard.log_model`` / ``yard.load_model`` are a thin layer over it (``_fluent.py``).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.domain.clock import now_ms
from modelyard.domain.models import (
    AliasChange,
    ModelRef,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
    RunModelRef,
    check_model_name,
    parse_model_ref,
    parse_model_uri,
)
from modelyard.domain.names import check_artifact_path
from modelyard.domain.records import Artifact, Run
from modelyard.errors import InvalidValue, NotFound, YardError
from modelyard.models import flavors
from modelyard.models._environment import warn_on_mismatch
from modelyard.models._model import Model
from modelyard.models._package import (
    DESCRIPTOR,
    INPUT_EXAMPLE,
    Descriptor,
    PackageFiles,
    check_python,
    download,
    finish_folder,
    open_blob_package,
    open_folder_package,
    python_version,
    requirements_for,
    store_folder,
)
from modelyard.models._policy import AliasPolicy, allow_all
from modelyard.models._signature import Signature, as_frame, infer_signature
from modelyard.workspace import Workspace

MAX_EXAMPLE_ROWS = 100


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """What ``log_model`` stored: the package, where, and the registered version if any."""

    package_digest: str
    flavor: str
    uri: str  # runs:/<id>/<path>, or the package digest when logged outside a run
    run_id: str | None
    signature: Signature | None
    version: ModelVersion | None = None


@dataclass(frozen=True, slots=True)
class ModelLineage:
    """Where a version came from: its run, the data the run used, code and environment."""

    version: ModelVersion
    run: Run | None
    datasets: tuple[str, ...]
    git_commit: str | None
    git_dirty: bool | None
    python: str
    requirements: tuple[str, ...]
    environment: Mapping[str, Any]  # python, platform, package count of the run


class ModelClient:
    def __init__(self, workspace: Workspace, *, policy: AliasPolicy = allow_all) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.blobs = workspace.blobs
        self.policy = policy

    # -- packaging ----------------------------------------------------------------------------

    def save(
        self,
        model: Any,
        folder: str | Path,
        *,
        flavor: str | None = None,
        signature: Signature | None = None,
        input_example: Any = None,
        artifacts: Mapping[str, str | Path] | None = None,
        model_config: Mapping[str, Any] | None = None,
        extra_requirements: Sequence[str] = (),
        run_id: str | None = None,
    ) -> Descriptor:
        """Write a package into ``folder`` (which must not exist yet)."""
        folder = Path(folder)
        if folder.exists():
            raise InvalidValue(f"{folder} already exists; save into a new folder", field="path")
        module = flavors.get_flavor(flavor) if flavor else flavors.detect_flavor(model)
        options: dict[str, Any] = {}
        if artifacts:
            if module.NAME != "python":
                raise InvalidValue(
                    "artifacts= is for yard.PythonModel packages; log other files with "
                    "yard.log_artifact",
                    field="artifacts",
                )
            options["artifacts"] = dict(artifacts)
        if model_config is not None:
            options["model_config"] = dict(model_config)
        folder.mkdir(parents=True)
        try:
            saved = module.save(model, flavors.SaveContext(folder, options))
            example_file = None
            if input_example is not None:
                example = as_frame(input_example).head(MAX_EXAMPLE_ROWS)
                (folder / INPUT_EXAMPLE).write_text(example.to_json(orient="split", index=False))
                example_file = INPUT_EXAMPLE
                if signature is None:
                    signature = infer_signature(example, _outputs(module, model, example))
            return finish_folder(
                folder,
                {
                    "flavor": module.NAME,
                    "options": dict(saved.options),
                    "methods": tuple(saved.methods),
                    "python": python_version(),
                    "requirements": (
                        *requirements_for(("modelyard", *module.PACKAGES, *saved.packages)),
                        *extra_requirements,
                    ),
                    "signature": signature,
                    "input_example": example_file,
                    "created": {
                        "at": now_ms(),
                        "by": self.store.actor,
                        "run": run_id,
                        "modelyard": _modelyard_version(),
                    },
                },
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def log_model(
        self,
        model: Any,
        *,
        run_id: str | None = None,
        artifact_path: str = "model",
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str = "",
        **package: Any,
    ) -> LoggedModel:
        """Package ``model``, store it (under the run's artifacts when ``run_id`` is given)
        and, with ``name``, register it as the next version of that model.

        Nothing is recorded until every file is stored: a failure leaves no version and no
        artifact rows behind (blobs already written are content-addressed and harmless)."""
        artifact_path = check_artifact_path(artifact_path)
        if name is not None:
            check_model_name(name)
        with tempfile.TemporaryDirectory(prefix="yard-package-") as tmp:
            folder = Path(tmp) / "model"
            self.save(model, folder, run_id=run_id, **package)
            digest, descriptor, stored = store_folder(self.blobs, folder)
        uri = f"runs:/{run_id}/{artifact_path}" if run_id else f"package:{digest}"
        if run_id is not None:
            self.store.runs.add_artifacts(
                run_id,
                [
                    Artifact(f"{artifact_path}/{file}", entry.digest, entry.size)
                    for file, entry in sorted(stored.items())
                ],
            )
        version = None
        if name is not None:
            version = self.store.models.add_version(
                NewModelVersion(
                    name=name,
                    package_digest=digest,
                    flavor=descriptor.flavor,
                    source=uri,
                    run_id=run_id,
                    description=description,
                    tags={k: str(v) for k, v in (tags or {}).items()},
                )
            )
        return LoggedModel(digest, descriptor.flavor, uri, run_id, descriptor.signature, version)

    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Register the package at ``runs:/<id>/<path>`` as the next version of ``name``."""
        ref = parse_model_uri(source)
        if not isinstance(ref, RunModelRef):
            raise InvalidValue(
                f"register takes a run's package (runs:/<id>/model), got {source!r}; to give "
                "a registered version another name, load and log it again",
                field="source",
            )
        digest = self._run_package_digest(ref)
        files = open_blob_package(self.blobs, digest, ref.uri)
        return self.store.models.add_version(
            NewModelVersion(
                name=name,
                package_digest=digest,
                flavor=files.descriptor.flavor,
                source=ref.uri,
                run_id=ref.run_id,
                description=description,
                tags={k: str(v) for k, v in (tags or {}).items()},
            )
        )

    # -- loading ------------------------------------------------------------------------------

    def load(
        self,
        uri: str | Path,
        *,
        trusted: bool = False,
        extra_columns: str = "drop",
        check_environment: bool = True,
    ) -> Model:
        """Load ``models:/name@alias``, ``models:/name/3``, ``runs:/<id>/model`` or a
        downloaded package folder.

        If the installed versions of the flavor's libraries differ from those the model was
        saved with, it still loads, with one ``ModelEnvironmentWarning`` naming them; silence
        it with ``check_environment=False`` or a ``warnings`` filter on that class."""
        files, version = self._package(uri)
        check_python(files.descriptor, files.label)
        if check_environment:
            warn_on_mismatch(files.descriptor, files.label)
        module = flavors.get_flavor(files.descriptor.flavor)
        predictor = module.load(flavors.LoadContext(files, files.descriptor.options, trusted))
        return Model(
            files, predictor, uri=files.label, version=version, extra_columns=extra_columns
        )

    def download(self, uri: str, destination: str | Path) -> Path:
        """Write the package's MODEL.yaml and files (verified) into ``destination``."""
        files, _ = self._package(uri)
        return download(files, Path(destination))

    def descriptor(self, uri: str | Path) -> Descriptor:
        return self._package(uri)[0].descriptor

    def _package(self, uri: str | Path) -> tuple[PackageFiles, ModelVersion | None]:
        if isinstance(uri, Path) or (
            isinstance(uri, str)
            and not uri.startswith(("models:/", "runs:/"))
            and Path(uri, DESCRIPTOR).is_file()
        ):
            return open_folder_package(Path(uri)), None
        ref = parse_model_uri(uri)
        if isinstance(ref, RunModelRef):
            return open_blob_package(self.blobs, self._run_package_digest(ref), ref.uri), None
        version = self.store.models.resolve(ref)
        return open_blob_package(self.blobs, version.package_digest, version.uri), version

    def _run_package_digest(self, ref: RunModelRef) -> str:
        wanted = f"{ref.path}/{DESCRIPTOR}"
        for artifact in self.store.runs.artifacts(ref.run_id):
            if artifact.path == wanted:
                return artifact.digest
        raise NotFound(
            f"run {ref.run_id} logged no model at {ref.path!r} (no {wanted} among its "
            f"artifacts); `yard runs show {ref.run_id}` lists them"
        )

    # -- registry -----------------------------------------------------------------------------

    def list_models(self) -> list[RegisteredModel]:
        return self.store.models.list_models()

    def get_model(self, name: str) -> RegisteredModel:
        return self.store.models.get_model(name)

    def versions(self, name: str, *, include_deleted: bool = False) -> list[ModelVersion]:
        return self.store.models.versions(name, include_deleted=include_deleted)

    def get_version(self, ref: str | ModelRef) -> ModelVersion:
        """``churn/3``, ``churn@champion``, ``churn`` (the latest), with or without models:/."""
        parsed = parse_model_ref(ref) if isinstance(ref, str) else ref
        if parsed.number is not None:
            return self.store.models.get_version(parsed.name, parsed.number)
        return self.store.models.resolve(parsed)

    def set_alias(self, name: str, alias: str, version: int) -> AliasChange:
        """Point ``alias`` at ``version`` (through the policy); returns the move."""
        return self.store.models.set_alias(name, alias, _number(version), self.policy)

    def delete_alias(self, name: str, alias: str) -> AliasChange:
        return self.store.models.delete_alias(name, alias, self.policy)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        return self.store.models.alias_history(name, alias)

    def set_tags(self, ref: str, tags: Mapping[str, Any]) -> RegisteredModel | ModelVersion:
        """Tags on a version (``churn/3``, ``churn@champion``) or on the model (``churn``)."""
        parsed = parse_model_ref(ref)
        values = {k: str(v) for k, v in tags.items()}
        if parsed.is_latest:
            return self.store.models.set_model_tags(parsed.name, values)
        number = self.get_version(parsed).number
        return self.store.models.set_version_tags(parsed.name, number, values)

    def describe(self, ref: str, description: str) -> RegisteredModel | ModelVersion:
        parsed = parse_model_ref(ref)
        if parsed.is_latest:
            return self.store.models.describe_model(parsed.name, description)
        number = self.get_version(parsed).number
        return self.store.models.describe_version(parsed.name, number, description)

    def delete_version(self, name: str, version: int) -> ModelVersion:
        return self.store.models.delete_version(name, _number(version))

    # -- lineage and environment --------------------------------------------------------------

    def lineage(self, ref: str) -> ModelLineage:
        version = self.get_version(ref)
        descriptor = open_blob_package(self.blobs, version.package_digest, version.uri).descriptor
        run = None
        datasets: list[str] = []
        environment: dict[str, Any] = {}
        if version.run_id is not None:
            try:
                run = self.store.runs.get(version.run_id)
            except NotFound:
                run = None
        if run is not None:
            runs = [run]
            if run.parent_id:
                with contextlib.suppress(NotFound):
                    runs.append(self.store.runs.get(run.parent_id))
            for r in runs:
                for edge in self.store.lineage.upstream(r.uri):
                    if edge.source.startswith("data:") and edge.source not in datasets:
                        datasets.append(edge.source)
            environment = self._environment(run)
        return ModelLineage(
            version=version,
            run=run,
            datasets=tuple(datasets),
            git_commit=run.git_commit if run else None,
            git_dirty=run.git_dirty if run else None,
            python=descriptor.python,
            requirements=descriptor.requirements,
            environment=environment,
        )

    def _environment(self, run: Run) -> dict[str, Any]:
        if not run.environment_digest:
            return {}
        try:
            env = json.loads(self.blobs.get_bytes(run.environment_digest))
        except (YardError, ValueError):
            return {}
        return {
            "python": env.get("python"),
            "platform": env.get("platform"),
            "packages": len(env.get("packages") or {}),
            "digest": run.environment_digest,
        }

    def requirements_text(self, uri: str) -> str:
        """A pip requirements file reproducing what the model needs."""
        descriptor = self.descriptor(_as_uri(uri))
        lines = [f"# {_as_uri(uri)}: {descriptor.flavor} model, Python {descriptor.python}"]
        lines += list(descriptor.requirements)
        return "\n".join(lines) + "\n"

    def create_environment(self, uri: str, folder: str | Path, *, install: bool = True) -> Path:
        """A virtualenv in ``folder`` with the model's requirements installed."""
        import venv

        folder = Path(folder)
        text = self.requirements_text(uri)
        venv.EnvBuilder(with_pip=install, clear=False).create(folder)
        requirements = folder / "requirements.txt"
        requirements.write_text(text)
        if install:
            pip = folder / ("Scripts" if sys.platform == "win32" else "bin") / "pip"
            done = subprocess.run(
                [str(pip), "install", "-r", str(requirements)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise InvalidValue(
                    f"pip could not install the requirements into {folder}: "
                    f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}",
                    field="requirements",
                )
        return folder


def _outputs(module: Any, model: Any, example: Any) -> Any:
    wrap = getattr(module, "wrap", None)
    if wrap is None or not callable(getattr(model, "predict", None)):
        return None
    predictor = wrap(model)
    if predictor is None:
        return None
    try:
        return predictor.predict(example)
    except Exception as exc:
        raise InvalidValue(
            f"the model cannot predict its input_example ({type(exc).__name__}: {exc}); "
            "pass rows shaped like the training data",
            field="input_example",
        ) from exc


def _number(version: Any) -> int:
    if (
        isinstance(version, bool)
        or not isinstance(version, (int, str))
        or not str(version).isdigit()
    ):
        raise InvalidValue(f"version must be a positive number, got {version!r}", field="version")
    return int(version)


def _as_uri(ref: str) -> str:
    if ref.startswith(("models:/", "runs:/")):
        return ref
    return parse_model_ref(ref).uri


def _modelyard_version() -> str:
    try:
        return importlib.metadata.version("modelyard")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
