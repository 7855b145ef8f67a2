"""Data versioning: datasets, immutable versions, profiles, diff, remotes, lineage to runs.

A version is a manifest (path -> digest, size, where the bytes are) stored as a blob; the
metadata store keeps datasets and versions (number, message, author, sizes, profile). Small
files are packed into large blobs; a local stat cache avoids re-reading unchanged files.
``DataClient`` is the explicit API; ``yard.use_dataset`` / ``load_dataset`` / ``log_dataset``
(in ``modelyard.tracking``) tie it to the active run.
"""

from modelyard.data._client import AddResult, DataClient, DataStatus, VersionDetails
from modelyard.data._diff import ColumnShift, DatasetDiff, SchemaChange
from modelyard.data._manifest import Entry, Manifest
from modelyard.data._profile import profile_table
from modelyard.data._transfer import TransferResult
from modelyard.domain.datasets import (
    ColumnProfile,
    Dataset,
    DatasetKind,
    DatasetVersion,
    TableProfile,
)
from modelyard.domain.uris import DatasetRef, dataset_uri, parse_dataset_ref

__all__ = [
    "AddResult",
    "ColumnProfile",
    "ColumnShift",
    "DataClient",
    "DataStatus",
    "Dataset",
    "DatasetDiff",
    "DatasetKind",
    "DatasetRef",
    "DatasetVersion",
    "Entry",
    "Manifest",
    "SchemaChange",
    "TableProfile",
    "TransferResult",
    "VersionDetails",
    "dataset_uri",
    "parse_dataset_ref",
    "profile_table",
]
