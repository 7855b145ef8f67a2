"""Data versioning: datasets, immutable versions, profiles, diff, remotes, lineage to runs.

A version is a manifest (path -> digest, size, where the bytes are) stored as a blob; the
metadata store keeps datasets and versions (number, message, author, sizes, profile). Small
files are packed into large blobs; a local stat cache avoids re-reading unchanged files, and a
per-folder index answers ``yard data status`` without opening the metadata store.
``DataClient`` is the explicit API; ``yard.use_dataset`` / ``load_dataset`` / ``log_dataset``
(in ``modelyard.tracking``) tie it to the active run.

Names load on first use (PEP 562): ``yard data status`` imports the scanner and the index,
not the client, the profiler or the metadata store.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs ~10 ms to import; type checkers read this as True
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {
    "AddResult": "modelyard.data._client",
    "DataClient": "modelyard.data._client",
    "DataStatus": "modelyard.data._status",
    "VersionDetails": "modelyard.data._client",
    "ColumnShift": "modelyard.data._diff",
    "DatasetDiff": "modelyard.data._diff",
    "SchemaChange": "modelyard.data._diff",
    "Entry": "modelyard.data._manifest",
    "Manifest": "modelyard.data._manifest",
    "profile_table": "modelyard.data._profile",
    "TransferResult": "modelyard.data._transfer",
    "ColumnProfile": "modelyard.domain.datasets",
    "Dataset": "modelyard.domain.datasets",
    "DatasetKind": "modelyard.domain.datasets",
    "DatasetVersion": "modelyard.domain.datasets",
    "TableProfile": "modelyard.domain.datasets",
    "DatasetRef": "modelyard.domain.uris",
    "dataset_uri": "modelyard.domain.uris",
    "parse_dataset_ref": "modelyard.domain.uris",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modelyard.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = sorted(_EXPORTS)
