"""Finding the workspace: .yard/ like .git/, YARD_URI and YARD_BLOBS overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import StoreNotFound
from modelyard.workspace import init_workspace, open_workspace, resolve


def test_workspace_is_found_from_a_subfolder(workspace_dir: Path) -> None:
    nested = workspace_dir / "src" / "deep"
    nested.mkdir(parents=True)
    settings = resolve(start=nested)
    assert settings.root == workspace_dir.resolve() / ".yard"
    assert settings.uri == f"sqlite:///{workspace_dir.resolve() / '.yard' / 'yard.db'}"


def test_no_workspace_says_to_run_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreNotFound, match="run `yard init`"):
        resolve(start=tmp_path)


def test_yard_uri_and_blobs_override(tmp_path: Path) -> None:
    env = {"YARD_URI": f"sqlite:///{tmp_path / 'other.db'}", "YARD_BLOBS": "memory://yard-ws-test"}
    settings = resolve(env, start=tmp_path)
    assert settings.uri == env["YARD_URI"] and settings.blobs == "memory://yard-ws-test"
    ws = open_workspace(settings)
    digest, _ = ws.blobs.put_bytes(b"hello")
    assert ws.blobs.get_bytes(digest) == b"hello"
    assert (tmp_path / "other.db").is_file()


def test_yard_uri_without_blob_location_is_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound, match="YARD_BLOBS"):
        resolve({"YARD_URI": "sqlite:///x.db"}, start=tmp_path)


def test_actor_comes_from_yard_user(tmp_path: Path) -> None:
    init_workspace(tmp_path)
    assert resolve({"YARD_USER": "alice"}, start=tmp_path).actor == "alice"
