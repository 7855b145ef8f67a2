"""CheckClient: run a suite on a model version or a data version, store the result.

``check_model`` loads the candidate and (when the suite compares) the version behind the
suite's ``compare_to`` alias, evaluates both on the same data in the same call, and stores the
evaluation on the candidate's version (with lineage and an audit event) when it is a
registered version.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from modelyard.checks._data import data_outcomes
from modelyard.checks._model import ModelRun, model_outcomes
from modelyard.checks._report import CheckReport
from modelyard.checks._suite import DataSpec, Suite, load_suite
from modelyard.data import DataClient, profile_table
from modelyard.data._profile import read_table, tabular_format
from modelyard.domain.datasets import TableProfile
from modelyard.domain.evaluations import Evaluation, NewEvaluation
from modelyard.domain.models import ModelRef, parse_model_ref, parse_model_uri
from modelyard.errors import NotFound
from modelyard.models import Model, ModelClient
from modelyard.workspace import Workspace


class CheckClient:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.models = ModelClient(workspace)
        self.data = DataClient(workspace)

    # -- evaluation data ------------------------------------------------------------------------

    def load_data(self, data: str | Path) -> tuple[Any, str, TableProfile | None]:
        """(DataFrame, URI, profile) of a dataset version (``churn@5``) or a Parquet/CSV file."""
        path = Path(data)
        if tabular_format(path) and path.is_file():
            table = read_table(path)
            return table.to_pandas(), f"file:{path.resolve()}", profile_table(table)
        version = self.data.resolve(str(data))
        frame = self.data.load(version.uri.removeprefix("data:"))
        profile = version.profile
        if profile is None:
            import pyarrow as pa

            profile = profile_table(pa.Table.from_pandas(frame, preserve_index=False))
        return frame, version.uri, profile

    def _profile(self, ref: str) -> tuple[TableProfile | None, str]:
        version = self.data.resolve(ref.removeprefix("data:"))
        return version.profile, version.uri

    def _training_profile(self, model_uri: str) -> tuple[TableProfile | None, str | None]:
        ref = parse_model_uri(model_uri)
        if not isinstance(ref, ModelRef):
            return None, None
        used = self.models.lineage(str(ref)).datasets
        if not used:
            return None, None
        return self._profile(used[-1])

    # -- checks ---------------------------------------------------------------------------------

    def check_model(
        self,
        model_uri: str,
        suite: Suite | str | Path,
        data: str | Path,
        *,
        compare_to: str | None = None,
        store: bool = True,
    ) -> CheckReport:
        """Run ``suite`` on ``model_uri`` with ``data``; stored on the version when ``store``
        and the model is a registered version."""
        started = time.perf_counter()
        suite = suite if isinstance(suite, Suite) else load_suite(suite)
        frame, data_uri, profile = self.load_data(data)
        model = self.models.load(model_uri)
        outcomes = []
        if suite.data is not None:
            reference, reference_uri = self._reference(suite.data, model_uri)
            outcomes += data_outcomes(suite.data, profile, reference, reference_uri)
        champion, champion_uri = None, None
        if suite.needs_champion:
            champion, champion_uri = self._champion(model, compare_to or suite.compare_to)
        outcomes += model_outcomes(
            ModelRun(
                suite=suite,
                frame=frame,
                model=model,
                champion=champion,
                champion_uri=champion_uri,
                package_bytes=_package_bytes(model),
            )
        )
        report = CheckReport(
            subject=model.version.uri if model.version else str(model_uri),
            data_uri=data_uri,
            suite_digest=suite.digest,
            outcomes=tuple(outcomes),
            compared_with=champion_uri,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
        if store and model.version is not None:
            stored = self.store.evaluations.add(
                NewEvaluation(
                    model=model.version.name,
                    number=model.version.number,
                    suite_digest=report.suite_digest,
                    data_uri=data_uri,
                    status=report.status,
                    outcomes=report.outcomes,
                    compared_with=champion_uri,
                    duration_ms=report.duration_ms,
                )
            )
            report = _with_id(report, stored.id)
        return report

    def check_data(
        self, data: str | Path, against: str, *, suite: Suite | str | Path | None = None
    ) -> CheckReport:
        """Data-only checks of ``data`` against the profile of the version ``against``: the
        suite's ``data`` section, or a schema check when no suite is given."""
        started = time.perf_counter()
        if suite is not None and not isinstance(suite, Suite):
            suite = load_suite(suite)
        spec = suite.data if suite is not None and suite.data is not None else DataSpec()
        spec = DataSpec(
            schema_reference=against,
            range_tolerance=spec.range_tolerance,
            max_null_fraction=spec.max_null_fraction,
            min_rows=spec.min_rows,
        )
        _, data_uri, profile = self.load_data(data)
        reference, reference_uri = self._profile(against)
        outcomes = data_outcomes(spec, profile, reference, reference_uri)
        return CheckReport(
            subject=data_uri,
            data_uri=data_uri,
            suite_digest=(suite or Suite(data=spec)).digest,
            outcomes=tuple(outcomes),
            duration_ms=round((time.perf_counter() - started) * 1000),
        )

    def evaluations(self, ref: str, *, limit: int = 100) -> list[Evaluation]:
        """Stored evaluations of a version (``churn/4``, ``churn@champion``), newest first."""
        version = self.models.get_version(ref)
        return self.store.evaluations.list(version.name, version.number, limit=limit)

    # -- helpers --------------------------------------------------------------------------------

    def _reference(self, spec: DataSpec, model_uri: str) -> tuple[TableProfile | None, str | None]:
        if spec.schema_reference is None:
            return None, None
        if spec.schema_reference == "training":
            return self._training_profile(model_uri)
        return self._profile(spec.schema_reference)

    def _champion(self, model: Model, compare_to: str) -> tuple[Model | None, str | None]:
        if model.version is None:
            return None, None
        name = model.version.name
        text = f"{name}/{compare_to}" if compare_to.isdigit() else f"{name}@{compare_to}"
        try:
            version = self.models.get_version(parse_model_ref(text))
        except NotFound:
            return None, None
        return self.models.load(version.uri), version.uri


def _package_bytes(model: Model) -> int:
    return sum(entry.size for entry in model.descriptor.files.values())


def _with_id(report: CheckReport, evaluation_id: str) -> CheckReport:
    from dataclasses import replace

    return replace(report, evaluation_id=evaluation_id)
