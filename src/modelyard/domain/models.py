"""Records of the model registry, and the model URI grammar. No I/O here.

URIs::

    models:/churn/3            version 3 of the registered model "churn"
    models:/churn@champion     the version the alias "champion" points at
    models:/churn              the newest version that is not deleted
    runs:/<run id>/model       the package a run logged under "model"

The CLI also takes the short forms ``churn/3`` and ``churn@champion``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from modelyard.domain.names import check_resource_name
from modelyard.errors import InvalidName, InvalidState

MODELS_SCHEME = "models:/"
RUNS_SCHEME = "runs:/"
MAX_ALIAS_LENGTH = 64

_ALIAS_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_RUN_ID_RE = re.compile(r"[0-9a-f]{32}")


class VersionStatus(str, enum.Enum):
    """A version is READY once its package is stored; DELETED versions are hidden and can be
    neither loaded by number nor aliased."""

    READY = "READY"
    DELETED = "DELETED"

    def check_aliasable(self, name: str, number: int) -> None:
        if self is VersionStatus.DELETED:
            raise InvalidState(
                f"version {number} of model {name!r} is deleted; an alias can only point at a "
                f"READY version (`yard models versions {name}` lists them)"
            )


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    description: str
    owner: str
    created_at: int  # milliseconds since the epoch
    updated_at: int
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)  # alias -> version number
    latest_version: int | None = None
    version_count: int = 0

    @property
    def uri(self) -> str:
        return f"{MODELS_SCHEME}{self.name}"


@dataclass(frozen=True, slots=True)
class NewModelVersion:
    """What a client supplies to register a version; the store assigns the number."""

    name: str
    package_digest: str
    flavor: str
    source: str  # where the package came from: runs:/<id>/model, or a local path
    run_id: str | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    number: int
    package_digest: str
    flavor: str
    source: str
    run_id: str | None
    status: VersionStatus
    description: str
    created_by: str
    created_at: int  # milliseconds since the epoch
    updated_at: int
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return model_version_uri(self.name, self.number)

    @property
    def short_digest(self) -> str:
        return self.package_digest.removeprefix("blake3:")[:12]


@dataclass(frozen=True, slots=True)
class AliasChange:
    """One move of an alias: what a policy is asked about, and what history records.

    ``before`` is None when the alias is new; ``after`` is None when it is removed."""

    model: str
    alias: str
    before: int | None
    after: int | None
    actor: str
    timestamp: int = 0  # milliseconds since the epoch; 0 until recorded


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Which version of a registered model: a number, an alias, or (neither) the latest."""

    name: str
    number: int | None = None
    alias: str | None = None

    @property
    def is_latest(self) -> bool:
        return self.number is None and self.alias is None

    @property
    def uri(self) -> str:
        return MODELS_SCHEME + str(self)

    def __str__(self) -> str:
        if self.number is not None:
            return f"{self.name}/{self.number}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


@dataclass(frozen=True, slots=True)
class RunModelRef:
    """A package logged by a run: ``runs:/<id>/<path>``."""

    run_id: str
    path: str

    @property
    def uri(self) -> str:
        return f"{RUNS_SCHEME}{self.run_id}/{self.path}"

    def __str__(self) -> str:
        return self.uri


def check_model_name(name: object) -> str:
    """Return ``name`` if it can name a registered model, else raise InvalidName saying why."""
    return check_resource_name(name, "model", "churn-rf")


def check_alias(alias: object) -> str:
    """Aliases start with a letter (so ``churn@3`` is never ambiguous) and are short."""
    if not isinstance(alias, str) or not _ALIAS_RE.fullmatch(alias):
        raise InvalidName(
            f"alias {alias!r} is not valid; start with a letter and use only letters, digits, "
            "_ and - (e.g. 'champion')",
            field="alias",
        )
    if alias == "latest":
        raise InvalidName(
            "'latest' always means the newest version and cannot be set as an alias; "
            "pick another name such as 'candidate'",
            field="alias",
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidName(
            f"alias {alias[:20]!r}... is {len(alias)} characters; the limit is {MAX_ALIAS_LENGTH}",
            field="alias",
        )
    return alias


def parse_model_ref(text: object) -> ModelRef:
    """Parse ``[models:/]name``, ``name/3``, ``name@alias`` or ``name@latest``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidName(
            f"model reference must be a non-empty string such as 'churn/3' or "
            f"'churn@champion', got {text!r}",
            field="model",
        )
    body = text.strip().removeprefix(MODELS_SCHEME)
    if "@" in body:
        name, _, alias = body.partition("@")
        check_model_name(name)
        if alias in ("", "latest"):
            if not alias:
                raise InvalidName(
                    f"model reference {text!r} ends with '@'; add an alias ('{name}@champion') "
                    "or drop the '@'",
                    field="model",
                )
            return ModelRef(name)
        return ModelRef(name, alias=check_alias(alias))
    name, slash, version = body.partition("/")
    check_model_name(name)
    if not slash:
        return ModelRef(name)
    if version.isdigit() and int(version) >= 1:
        return ModelRef(name, number=int(version))
    if version == "latest":
        return ModelRef(name)
    raise InvalidName(
        f"cannot read the version in {text!r}: use a number ('{name}/3'), an alias "
        f"('{name}@champion') or 'latest'; versions start at 1",
        field="model",
    )


def parse_model_uri(text: object) -> ModelRef | RunModelRef:
    """A registry reference (``models:/...`` or short form) or a run's package
    (``runs:/<id>/model``)."""
    if isinstance(text, str) and text.strip().startswith(RUNS_SCHEME):
        body = text.strip().removeprefix(RUNS_SCHEME)
        run_id, _, path = body.partition("/")
        if not _RUN_ID_RE.fullmatch(run_id) or not path or ".." in path.split("/"):
            raise InvalidName(
                f"cannot read {text!r}: write runs:/<32-hex run id>/<path>, e.g. "
                "runs:/0123456789abcdef0123456789abcdef/model",
                field="model",
            )
        return RunModelRef(run_id, path.strip("/"))
    return parse_model_ref(text)


def model_version_uri(name: str, number: int) -> str:
    """The lineage URI of one version: ``models:/churn/3``."""
    return f"{MODELS_SCHEME}{name}/{number}"
