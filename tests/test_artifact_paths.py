"""Logical artifact paths: anything that could leave the run's artifact root is refused."""

from __future__ import annotations

import itertools
import posixpath
from pathlib import PurePosixPath, PureWindowsPath

import pytest

from modelyard.domain.names import check_artifact_path
from modelyard.errors import InvalidArtifactPath, InvalidInput


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        (None, "must be a non-empty string"),
        (3, "must be a non-empty string"),
        (b"model.pkl", "must be a non-empty string"),
        ("", "must be a non-empty string"),
        ("..", "contains '..'"),
        ("../x", "contains '..'"),
        ("a/../../b", "contains '..'"),
        ("a/..", "contains '..'"),
        ("a/b/../c", "contains '..'"),  # would stay inside, refused anyway: no '..' at all
        ("/etc/passwd", "is absolute"),
        ("/", "is absolute"),
        ("//server/share/x", "is absolute"),
        ("C:x", "is absolute"),
        ("c:/x", "is absolute"),
        ("C:", "is absolute"),
        ("C:\\x", "backslash"),
        ("a\\b", "backslash"),
        ("..\\x", "backslash"),
        ("\\\\server\\share", "backslash"),
        ("a\0b", "NUL"),
        ("a/C:/x", "contains ':'"),
        ("a/b:c", "contains ':'"),
        ("a\nb", "control character"),
        ("x" * 1001, "limit is 1000"),
        (".", "does not name a file"),
        ("./", "does not name a file"),
        ("./.", "does not name a file"),
    ],
)
def test_bad_artifact_path(path: object, fragment: str) -> None:
    with pytest.raises(InvalidArtifactPath, match=fragment):
        check_artifact_path(path)


def test_bad_artifact_path_is_an_invalid_input() -> None:
    with pytest.raises(ValueError) as caught:
        check_artifact_path("../x")
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "invalid_artifact_path"


@pytest.mark.parametrize(
    ("path", "normalised"),
    [
        ("model.pkl", "model.pkl"),
        ("plots/roc.png", "plots/roc.png"),
        ("a//b", "a/b"),  # empty segments are collapsed, not refused
        ("a///b//c", "a/b/c"),
        ("./a", "a"),
        ("a/./b", "a/b"),
        ("a/", "a"),
        (".hidden", ".hidden"),
        ("...", "..."),  # three dots is a name, not a parent
        ("a/...", "a/..."),
        ("a..b/c", "a..b/c"),
        ("~/x", "~/x"),  # a folder literally named '~'
        ("dir with space/file.txt", "dir with space/file.txt"),
        ("données/modèle.bin", "données/modèle.bin"),
    ],
)
def test_good_artifact_path_is_normalised(path: str, normalised: str) -> None:
    assert check_artifact_path(path) == normalised
    assert check_artifact_path(normalised) == normalised


_SEGMENTS = ["a", "..", ".", "", "~", "C:", "b:c", " "]
_CANDIDATES = sorted(
    {"/".join(parts) for n in range(1, 4) for parts in itertools.product(_SEGMENTS, repeat=n)}
)


def _accepted(path: str) -> str | None:
    try:
        return check_artifact_path(path)
    except InvalidArtifactPath:
        return None


def test_accepted_paths_stay_under_a_posix_root() -> None:
    root = PurePosixPath("/srv/artifacts/run")
    for path in _CANDIDATES:
        normal = _accepted(path)
        if normal is None:
            continue
        joined = PurePosixPath(posixpath.normpath(root / normal))
        assert joined.is_relative_to(root) and joined != root, (path, normal, joined)


def test_accepted_paths_stay_under_a_windows_root_when_joined_by_segment() -> None:
    root = PureWindowsPath("D:/artifacts/run")
    for path in _CANDIDATES:
        normal = _accepted(path)
        if normal is None:
            continue
        joined = root.joinpath(*normal.split("/"))
        assert joined.is_relative_to(root) and joined != root, (path, normal, joined)
