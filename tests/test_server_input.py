"""Bad input through a live server: always a 4xx with a clear message, never a 5xx."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard.blobs import open_server_blob_store
from modelyard.blobs.hashing import hash_bytes
from modelyard.errors import BlobNotFound
from modelyard.store.rest import open_rest_store
from test_store_contract import new_run

pytestmark = pytest.mark.postgres


@pytest.fixture
def api(yard_server: Any) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {yard_server.token}"}
    with httpx.Client(base_url=yard_server.url + "/api/v1", headers=headers, timeout=60) as http:
        yield http


@pytest.fixture
def run_id(yard_server: Any) -> str:
    store = open_rest_store(yard_server.url, token=yard_server.token)
    run = store.runs.create(new_run(f"input-{uuid.uuid4().hex[:6]}"))
    store.close()
    return run.id


def test_malformed_json_is_400(api: httpx.Client, run_id: str) -> None:
    response = api.post(
        f"/runs/{run_id}/metrics",
        content=b'{"keys": ["m"], "values": [1.0',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"keys": ["m"], "values": [1.0], "steps": ["x"], "timestamps": [1]}, "body.steps.0"),
        ({"keys": ["m"], "values": [1.0], "steps": [2**70], "timestamps": [1]}, "body.steps.0"),
        ({"keys": ["m\x00"], "values": [1.0], "steps": [1], "timestamps": [1]}, "body.keys.0"),
        ({"keys": "m", "values": [1.0], "steps": [1], "timestamps": [1]}, "body.keys"),
        ({"keys": ["m"], "values": [{}], "steps": [1], "timestamps": [1]}, "body.values.0"),
        ({"unknown": 1}, "body.unknown"),
    ],
)
def test_wrong_types_are_422_naming_the_field(
    api: httpx.Client, run_id: str, body: dict[str, Any], field: str
) -> None:
    response = api.post(f"/runs/{run_id}/metrics", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"].startswith(field)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"keys": ["m", "n"], "values": [1.0], "steps": [1], "timestamps": [1]}, "invalid_value"),
        ({"keys": ["m"], "values": ["lots"], "steps": [1], "timestamps": [1]}, "invalid_value"),
        ({"keys": ["bad\nkey"], "values": [1.0], "steps": [1], "timestamps": [1]}, "invalid_name"),
    ],
)
def test_inconsistent_batches_are_400(
    api: httpx.Client, run_id: str, body: dict[str, Any], code: str
) -> None:
    response = api.post(f"/runs/{run_id}/metrics", json=body)
    assert response.status_code == 400 and response.json()["code"] == code


def test_oversized_bodies_are_413(api: httpx.Client, run_id: str) -> None:
    big = b'{"keys": [' + b'"m",' * (9 * 1024 * 1024) + b'"m"]}'
    response = api.post(
        f"/runs/{run_id}/metrics", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"keys": ['
        for _ in range(40):
            yield b'"m",' * (256 * 1024)
        yield b'"m"]}'

    response = api.post(
        f"/runs/{run_id}/metrics", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path", ["../../etc/passwd", "/etc/passwd", "a/../../b", "C:/x", "a\\b", "a/\x01"]
)
def test_artifact_paths_that_escape_are_refused(api: httpx.Client, run_id: str, path: str) -> None:
    body = {"artifacts": [{"path": path, "digest": "blake3:" + "1" * 64, "size": 1}]}
    response = api.post(f"/runs/{run_id}/artifacts", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_artifact_path"


@pytest.mark.parametrize(
    "digest", ["..%2F..%2Fetc%2Fpasswd", "blake3:zz", "sha256:" + "0" * 64, "blake3:" + "0" * 65]
)
def test_blob_urls_that_are_not_digests_are_4xx(api: httpx.Client, digest: str) -> None:
    for method in ("GET", "PUT"):
        response = api.request(method, f"/blobs/{digest}", content=b"x")
        assert 400 <= response.status_code < 500, (method, digest, response.text)


@pytest.mark.parametrize(
    "filter",
    [
        "metrics.auc > 0; DROP TABLE runs",
        "params.x = '1' OR 1=1 --",
        "name = '' or ''=''",
        "1=1",
        "metrics.auc > (SELECT 1)",
        "tags.`x` = 'a' UNION SELECT * FROM api_tokens",
    ],
)
def test_sql_ish_filters_are_400_with_the_position(api: httpx.Client, filter: str) -> None:
    response = api.post("/runs/search", json={"filter": filter})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "filter_syntax" and body["field"] == "filter"
    assert "position" in body["detail"]


def test_sql_ish_values_are_plain_data(api: httpx.Client) -> None:
    name = f"x'; DROP TABLE experiments; -- {uuid.uuid4().hex[:6]}"
    assert api.post("/experiments", json={"name": name}).status_code == 201
    found = api.post("/runs/search", json={"filter": "params.x = '1'' OR 1=1'"})
    assert found.status_code in (200, 400)
    assert api.get(f"/experiments/{name}").json()["name"] == name


def test_unknown_routes_and_methods_are_json_4xx(api: httpx.Client) -> None:
    missing = api.get("/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert api.patch("/experiments").status_code == 405


def test_blobs_round_trip_streamed_and_a_wrong_digest_stores_nothing(
    yard_server: Any, api: httpx.Client, tmp_path: Path
) -> None:
    blobs = open_server_blob_store(yard_server.url, token=yard_server.token)
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    digest, size = blobs.put_file(source)
    assert (digest, size) == (hash_bytes(data), len(data))
    assert blobs.exists(digest)
    assert blobs.get_file(digest, tmp_path / "copy.bin").read_bytes() == data
    assert blobs.put_bytes(b"small") == (hash_bytes(b"small"), 5)
    assert blobs.get_bytes(hash_bytes(b"small")) == b"small"

    claimed = hash_bytes(b"what the client claims")
    response = api.put(f"/blobs/{claimed}", content=b"something else")
    assert response.status_code == 400 and "nothing was stored" in response.json()["message"]
    with pytest.raises(BlobNotFound):
        blobs.get_bytes(claimed)
    blobs.close()  # type: ignore[attr-defined]


def test_listings_are_paged_and_large_answers_gzipped(yard_server: Any, api: httpx.Client) -> None:
    names = {f"page-{uuid.uuid4().hex[:6]}" for _ in range(5)}
    for name in names:
        api.post("/experiments", json={"name": name})
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if token:
            params["page_token"] = token
        answer = api.get("/experiments", params=params).json()
        seen += [e["name"] for e in answer["items"]]
        pages += 1
        token = answer["next_page_token"]
        if not token:
            break
    assert names <= set(seen) and len(seen) == len(set(seen)) and pages >= 3
    assert api.get("/experiments", params={"page_token": "garbage"}).status_code == 400
    big = api.get("/experiments", headers={"Accept-Encoding": "gzip"})
    assert big.headers.get("content-encoding") == "gzip"


@pytest.mark.parametrize(
    "url", ["/audit?subject=a%00b", "/lineage/upstream?uri=%00", "/experiments/a%00b"]
)
def test_nul_characters_in_urls_are_400(api: httpx.Client, url: str) -> None:
    response = api.get(url)
    assert response.status_code == 400 and response.json()["field"] == "url"
