"""One exception hierarchy for everything modelyard raises.

    YardError
    ├── NotFound(LookupError)
    │   ├── ExperimentNotFound
    │   ├── RunNotFound
    │   ├── BlobNotFound
    │   ├── DatasetNotFound          unknown dataset or version
│   ├── ModelNotFound            unknown registered model, version or alias
    │   └── StoreNotFound            no .yard/ here or above; run `yard init`
    ├── InvalidInput(ValueError)
    │   ├── FilterSyntaxError        carries the position and what was expected
    │   ├── InvalidName              metric / param / tag / experiment names
    │   ├── InvalidValue             metric values, param values
    │   └── InvalidArtifactPath      absolute paths, `..`, drives, control characters
    ├── Conflict
    │   ├── AlreadyExists
    │   ├── ParamConflict            a param logged twice with different values
    │   ├── SourceChanged            a file changed while it was being read
    │   ├── InvalidState             e.g. logging to a finished run
│   └── PolicyDenied             a policy refused the change (e.g. an alias move)
    ├── AccessDenied(PermissionError) the acting user's role does not allow this (HTTP 403)
    │   └── Unauthenticated          no, unknown, revoked or expired API token (HTTP 401)
    ├── IntegrityError               a blob whose bytes do not match its digest
    └── StoreError                   the backend failed (database, file system, server)

Every message says what happened and how to fix it. Foreign exceptions (SQLAlchemy, fsspec,
OS errors) are translated once, in the store and blob layers, with ``raise ... from exc``.
"""

from __future__ import annotations


class YardError(Exception):
    """Root of every error modelyard raises on purpose."""

    code = "yard_error"


class NotFound(YardError, LookupError):
    code = "not_found"


class ExperimentNotFound(NotFound):
    code = "experiment_not_found"


class RunNotFound(NotFound):
    code = "run_not_found"


class BlobNotFound(NotFound):
    code = "blob_not_found"


class DatasetNotFound(NotFound):
    code = "dataset_not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"


class StoreNotFound(NotFound):
    code = "store_not_found"


class InvalidInput(YardError, ValueError):
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FilterSyntaxError(InvalidInput):
    """A search filter or order-by clause that does not parse."""

    code = "filter_syntax"

    def __init__(self, message: str, *, text: str, position: int) -> None:
        pointer = f"\n  {text}\n  {' ' * position}^"
        super().__init__(f"{message} at position {position}{pointer}", field="filter")
        self.text = text
        self.position = position
        self.reason = message


class InvalidName(InvalidInput):
    code = "invalid_name"


class InvalidValue(InvalidInput):
    code = "invalid_value"


class InvalidArtifactPath(InvalidInput):
    code = "invalid_artifact_path"


class Conflict(YardError):
    code = "conflict"


class AlreadyExists(Conflict):
    code = "already_exists"


class ParamConflict(Conflict):
    code = "param_conflict"


class SourceChanged(Conflict):
    code = "source_changed"


class InvalidState(Conflict):
    code = "invalid_state"


class AccessDenied(YardError, PermissionError):
    code = "forbidden"


class Unauthenticated(AccessDenied):
    code = "unauthenticated"


class PolicyDenied(Conflict):
    code = "policy_denied"


class IntegrityError(YardError):
    code = "integrity_error"


class StoreError(YardError):
    code = "store_error"


__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "BlobNotFound",
    "Conflict",
    "DatasetNotFound",
    "ExperimentNotFound",
    "FilterSyntaxError",
    "IntegrityError",
    "InvalidArtifactPath",
    "InvalidInput",
    "InvalidName",
    "InvalidState",
    "InvalidValue",
    "ModelNotFound",
    "NotFound",
    "ParamConflict",
    "PolicyDenied",
    "RunNotFound",
    "SourceChanged",
    "StoreError",
    "StoreNotFound",
    "Unauthenticated",
    "YardError",
]
