"""Validation of the names and values users log: metric, param and tag keys, artifact paths."""

from __future__ import annotations

import numbers
import posixpath
import re

from modelyard.errors import InvalidArtifactPath, InvalidName, InvalidValue

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 200
MAX_ARTIFACT_PATH_LENGTH = 1000  # the width of artifacts.path

_KEY_RE = re.compile(r"[A-Za-z0-9_\-.:/ ]+")
_valid_keys: set[str] = set()


def check_key(key: object, kind: str) -> str:
    """Return ``key`` if it is a valid metric/param/tag name, else raise InvalidName."""
    if isinstance(key, str) and key in _valid_keys:
        return key
    if not isinstance(key, str) or not key:
        raise InvalidName(f"{kind} name must be a non-empty string, got {key!r}", field=kind)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidName(
            f"{kind} name {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY_LENGTH}",
            field=kind,
        )
    if not _KEY_RE.fullmatch(key):
        bad = sorted({c for c in key if not _KEY_RE.fullmatch(c)})
        raise InvalidName(
            f"{kind} name {key!r} contains {''.join(bad)!r}; use letters, digits, spaces "
            "and _ - . : /",
            field=kind,
        )
    if key.startswith("/") or ".." in key.split("/"):
        raise InvalidName(
            f"{kind} name {key!r} must not start with '/' or contain '..'", field=kind
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def check_metric_value(key: str, value: object) -> float:
    """Return ``value`` as a float; NaN and infinities are allowed, non-numbers are not."""
    if isinstance(value, float):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidValue(
            f"metric {key!r} got {value!r} ({type(value).__name__}); metric values must be "
            "numbers - log text as a param or tag",
            field=key,
        )
    return float(value)


def check_step(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise InvalidValue(f"step must be a non-negative integer, got {step!r}", field="step")
    return int(step)


def param_text(key: str, value: object) -> str:
    """Params are stored as text, as given by ``str``; limited in length."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidValue(
            f"param {key!r} value is {len(text)} characters; the limit is "
            f"{MAX_PARAM_VALUE_LENGTH} - log long values as an artifact with log_dict",
            field=key,
        )
    return text


def tag_text(key: str, value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidValue(
            f"tag {key!r} value is {len(text)} characters; the limit is {MAX_TAG_VALUE_LENGTH}",
            field=key,
        )
    return text


MAX_RESOURCE_NAME_LENGTH = 100
_RESOURCE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_resource_name(name: object, kind: str, example: str) -> str:
    """Names of datasets and registered models: they appear in URIs (``data:name@3``,
    ``models:/name/3``), so they start with a letter or digit and use only ``. _ -``."""
    if not isinstance(name, str) or not name:
        raise InvalidName(f"{kind} name must be a non-empty string, got {name!r}", field="name")
    if len(name) > MAX_RESOURCE_NAME_LENGTH:
        raise InvalidName(
            f"{kind} name {name[:40]!r}... is {len(name)} characters; the limit is "
            f"{MAX_RESOURCE_NAME_LENGTH}",
            field="name",
        )
    if not _RESOURCE_NAME_RE.fullmatch(name):
        raise InvalidName(
            f"{kind} name {name!r} is not valid; start with a letter or digit and use only "
            f"letters, digits and . _ - (e.g. {example!r})",
            field="name",
        )
    return name


def check_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidName(f"experiment name must be a non-empty string, got {name!r}", field="name")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH or any(c in name for c in "\n\r\t\0"):
        raise InvalidName(
            f"experiment name {name[:40]!r} must be one line of at most "
            f"{MAX_EXPERIMENT_NAME_LENGTH} characters",
            field="name",
        )
    return name


def check_artifact_path(path: object) -> str:
    """Normalise a logical artifact path, refusing anything that could escape its root."""
    if not isinstance(path, str) or not path:
        raise InvalidArtifactPath(f"artifact path must be a non-empty string, got {path!r}")
    if "\0" in path or "\\" in path:
        raise InvalidArtifactPath(
            f"artifact path {path!r} contains a NUL or backslash; use '/' between folders"
        )
    if len(path) > MAX_ARTIFACT_PATH_LENGTH:
        raise InvalidArtifactPath(
            f"artifact path {path[:40]!r}... is {len(path)} characters; the limit is "
            f"{MAX_ARTIFACT_PATH_LENGTH}"
        )
    if any(ord(c) < 32 or c == "\x7f" for c in path):
        raise InvalidArtifactPath(f"artifact path {path!r} contains a control character")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise InvalidArtifactPath(
            f"artifact path {path!r} is absolute; give a path relative to the run, "
            "e.g. 'plots/roc.png'"
        )
    parts = path.split("/")
    if any(part == ".." for part in parts):
        raise InvalidArtifactPath(
            f"artifact path {path!r} contains '..' and would escape the run's artifacts"
        )
    if ":" in path:  # a drive ('a/C:/x') or an NTFS stream ('a/b:c') once joined on Windows
        raise InvalidArtifactPath(
            f"artifact path {path!r} contains ':'; use letters, digits, - _ ."
        )
    normal = posixpath.normpath(path)
    if normal in (".", "") or any(part in ("", ".") for part in normal.split("/")):
        raise InvalidArtifactPath(f"artifact path {path!r} does not name a file")
    return normal
