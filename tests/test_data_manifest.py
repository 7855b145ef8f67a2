"""Manifests: the stored file listing of a version, in the format written today and before."""

from __future__ import annotations

import json

import pytest

from modelyard.data import Entry, Manifest
from modelyard.domain.datasets import DatasetKind
from modelyard.errors import IntegrityError

PACK = "blake3:" + "ab" * 32
ENTRIES = (
    Entry("a.bin", "blake3:" + "01" * 32, 10, PACK, 0),
    Entry("big.bin", "blake3:" + "02" * 32, 900_000),
    Entry("b.bin", "blake3:" + "03" * 32, 20, PACK, 10),
)


def test_a_manifest_reads_back_equal_and_names_each_pack_once() -> None:
    manifest = Manifest(DatasetKind.FOLDER, ENTRIES)
    data = manifest.to_json()
    assert Manifest.from_json(data, "d") == manifest
    assert data.count(PACK.encode()) == 1
    assert json.loads(data)["format"] == "modelyard.manifest/2"


def test_a_format_1_manifest_still_reads() -> None:
    body = {
        "format": "modelyard.manifest/1",
        "kind": "folder",
        "files": [
            {"path": "a.bin", "digest": ENTRIES[0].digest, "size": 10, "pack": PACK, "offset": 0},
            {"path": "big.bin", "digest": ENTRIES[1].digest, "size": 900_000},
            {"path": "b.bin", "digest": ENTRIES[2].digest, "size": 20, "pack": PACK, "offset": 10},
        ],
    }
    manifest = Manifest.from_json(json.dumps(body).encode(), "d")
    assert manifest == Manifest(DatasetKind.FOLDER, ENTRIES)
    assert manifest.content_digest == Manifest(DatasetKind.FOLDER, ENTRIES).content_digest


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"format": "modelyard.manifest/9", "kind": "folder", "files": []}',
        b'{"format": "modelyard.manifest/2", "kind": "folder", "packs": [], "files": [["a"]]}',
        b'{"format": "modelyard.manifest/2", "kind": "folder", "packs": [],'
        b' "files": [["a", "d", 1, 3, 0]]}',
    ],
)
def test_a_damaged_manifest_is_named(body: bytes) -> None:
    with pytest.raises(IntegrityError, match="manifest d1 is not a modelyard manifest"):
        Manifest.from_json(body, "d1")
