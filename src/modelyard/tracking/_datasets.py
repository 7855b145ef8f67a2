"""Datasets inside runs: ``yard.use_dataset``, ``yard.load_dataset``, ``yard.log_dataset``.

Each uses the active run (if any) of the current thread/task to record lineage:
``data:name@n -used_by-> runs:/<id>`` for use, ``runs:/<id> -produced-> data:name@n`` for
versions logged from a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.data import DataClient, DatasetVersion
from modelyard.errors import InvalidState
from modelyard.tracking._fluent import active_run, client

if TYPE_CHECKING:
    import pandas as pd


def _data() -> DataClient:
    return DataClient(client().workspace)


def use_dataset(ref: str) -> Path:
    """Inside a run: record that the run uses ``ref`` (``churn``, ``churn@2``, ...) and return
    a local path to its bytes (the file of a single-file version, else the folder)."""
    run = active_run()
    if run is None:
        raise InvalidState(
            f"use_dataset({ref!r}) records which run used the data, and no run is active; call "
            "it inside `with yard.start_run(...)`, or use load_dataset() outside runs"
        )
    return _data().use(ref, consumer=run.uri)


def load_dataset(ref: str) -> pd.DataFrame:
    """A tabular version as a pandas DataFrame; inside a run, the use is recorded too."""
    run = active_run()
    return _data().load(ref, consumer=run.uri if run is not None else None)


def log_dataset(frame: pd.DataFrame, name: str, message: str = "") -> DatasetVersion:
    """Store ``frame`` as the next version of ``name`` (one Parquet file); inside a run, the
    run is recorded as its producer. Unchanged content returns the latest version as it is."""
    data = _data()
    result = data.add_frame(frame, name, message=message)
    run = active_run()
    if run is not None:
        data.record_output(run.uri, result.version)
    return result.version
