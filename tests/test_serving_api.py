"""The model server over real HTTP: predict forms, validation, errors, OIP v2, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
pytest.importorskip("sklearn")

from modelyard.serving import BatchPolicy, LogPolicy, ServeConfig
from serving_helpers import add_fragile, build_workspace, live_server

ROW = {"f0": 0.5, "f1": 1.0, "f2": 0.0, "f3": -1.0, "f4": 2.0}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    workspace = build_workspace(tmp_path_factory.mktemp("serve-api"))
    add_fragile(workspace)
    config = ServeConfig(
        models=("models:/rf@champion", "churn=models:/churn/1", "models:/fragile/1"),
        batch=BatchPolicy(max_batch_size=64, max_wait_ms=2),
        log=LogPolicy(segment_seconds=3600),
        max_body_bytes=64 * 1024,
    )
    with live_server(workspace, config) as server:
        yield server


@pytest.fixture
def http(live: object) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=10) as client:  # type: ignore[attr-defined]
        yield client


def test_predict_accepts_records_and_columns_forms(http: httpx.Client) -> None:
    records = http.post("/predict", json={"records": [ROW, ROW]})
    split = http.post("/predict", json={"columns": list(ROW), "data": [list(ROW.values())] * 2})
    assert records.status_code == split.status_code == 200
    assert records.json()["predictions"] == split.json()["predictions"]
    assert len(records.json()["predictions"]) == 2
    assert records.json()["model"] == "rf" and records.json()["version"] == "1"


def test_predict_accepts_csv_body_and_upload(http: httpx.Client) -> None:
    csv = b"tenure,charges,plan\n3,10.5,pro\n40,70.0,basic\n"
    body = http.post("/predict/churn", content=csv, headers={"content-type": "text/csv"})
    upload = http.post("/predict/churn", files={"file": ("rows.csv", csv, "text/csv")})
    assert body.status_code == upload.status_code == 200
    assert body.json()["predictions"] == upload.json()["predictions"] == [1, 0]


def test_request_id_is_returned_or_generated(http: httpx.Client) -> None:
    given_id = http.post("/predict", json={"records": [ROW]}, headers={"x-request-id": "abc-1"})
    generated = http.post("/predict", json={"records": [ROW]})
    assert given_id.headers["x-request-id"] == "abc-1" == given_id.json()["request_id"]
    assert len(generated.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("record", "field", "problem"),
    [
        ({"charges": 1.0, "plan": "pro"}, "tenure", "missing"),
        ({"tenure": "three", "charges": 1.0, "plan": "pro"}, "tenure", "wrong_type"),
        ({"tenure": 3, "charges": None, "plan": "pro"}, "charges", "null"),
        ({"tenure": 3, "charges": 1.0, "plan": "gold"}, "plan", "unknown_category"),
        ({"tenure": 3.5, "charges": 1.0, "plan": "pro"}, "tenure", "wrong_type"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    http: httpx.Client, record: dict, field: str, problem: str
) -> None:
    response = http.post("/predict/churn", json={"records": [record]})
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    assert {"field": field, "problem": problem} in [
        {"field": p["field"], "problem": p["problem"]} for p in problems
    ]


def test_every_problem_is_listed_at_once(http: httpx.Client) -> None:
    records = [{"plan": "gold"}, {"tenure": 1, "charges": "x", "plan": None}]
    response = http.post("/predict/churn", json={"records": records})
    assert response.status_code == 422
    found = {(p["field"], p["problem"], p.get("row")) for p in response.json()["error"]["problems"]}
    assert found == {
        ("tenure", "missing", 0),
        ("charges", "missing", 0),
        ("plan", "unknown_category", 0),
        ("charges", "wrong_type", 1),
        ("plan", "null", 1),
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"[1, 2]", 422, "invalid_input"),
        (b'{"records": []}', 422, "invalid_input"),
        (b'{"rows": [1]}', 422, "invalid_input"),
        (b'{"columns": ["f0"], "data": [[1, 2]]}', 422, "invalid_input"),
        (b"\xff\xfe", 400, "malformed_json"),
    ],
)
def test_malformed_bodies_are_json_errors(
    http: httpx.Client, body: bytes, status: int, code: str
) -> None:
    response = http.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_oversized_body_is_413(http: httpx.Client) -> None:
    response = http.post("/predict", json={"records": [ROW] * 2000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_oversized_chunked_body_is_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    response = http.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_unknown_model_is_404_and_wrong_media_type_415(http: httpx.Client) -> None:
    assert http.post("/predict/nope", json={"records": [ROW]}).status_code == 404
    response = http.post("/predict", content=b"x", headers={"content-type": "image/png"})
    assert response.status_code == 415


def test_model_error_fails_only_that_request(http: httpx.Client) -> None:
    bad = http.post("/predict/fragile", json={"records": [{"x": -1.0}]})
    good = http.post("/predict/fragile", json={"records": [{"x": 2.0}]})
    assert bad.status_code == 500
    assert bad.json()["error"]["code"] == "model_error"
    assert bad.json()["request_id"] == bad.headers["x-request-id"]
    assert good.status_code == 200 and good.json()["predictions"] == [4.0]


def test_open_inference_protocol_round_trip(http: httpx.Client) -> None:
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").status_code == 200
    assert http.get("/v2/models/rf/ready").status_code == 200
    meta = http.get("/v2/models/rf").json()
    assert meta["name"] == "rf" and meta["versions"] == ["1"]
    assert [i["name"] for i in meta["inputs"]] == list(ROW)
    per_column = {
        "id": "req-7",
        "inputs": [
            {"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in ROW.items()
        ],
    }
    matrix = {
        "inputs": [{"name": "input-0", "shape": [1, 5], "datatype": "FP64",
                    "data": [list(ROW.values())]}]
    }  # fmt: skip
    first = http.post("/v2/models/rf/infer", json=per_column)
    second = http.post("/v2/models/rf/infer", json=matrix)
    plain = http.post("/predict", json={"records": [ROW]}).json()["predictions"]
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == "req-7"
    assert first.json()["model_name"] == "rf" and first.json()["model_version"] == "1"
    output = first.json()["outputs"][0]
    assert output["shape"] == [1] and output["datatype"] == "INT64"
    assert output["data"] == second.json()["outputs"][0]["data"] == plain


def test_oip_infer_validates_too(http: httpx.Client) -> None:
    body = {"inputs": [{"name": "f0", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}
    response = http.post("/v2/models/rf/infer", json=body)
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["error"]["problems"]}
    assert {"f0", "f1", "f4"} <= fields


def test_metrics_count_requests_by_model_version_and_code(http: httpx.Client) -> None:
    http.post("/predict", json={"records": [ROW]})
    http.post("/predict/churn", json={"records": [{"plan": "gold"}]})
    text = http.get("/metrics").text
    assert 'yard_requests_total{code="200",model="rf",version="1"}' in text
    assert 'yard_requests_total{code="422",model="churn",version="1"}' in text
    assert 'yard_validation_failures_total{field="plan",model="churn"}' in text
    assert "yard_request_duration_seconds_bucket" in text
    assert 'yard_predictions_total{class="1",model="rf",version="1"}' in text
    assert 'yard_model_load_seconds{model="rf",version="1"}' in text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = json_values | st.fixed_dictionaries(
    {"records": st.lists(st.dictionaries(st.sampled_from([*ROW, "x"]), json_values), max_size=3)}
) | st.fixed_dictionaries({"inputs": json_values})  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies, path=st.sampled_from(["/predict", "/v2/models/rf/infer", "/predict/churn"]))
def test_random_json_never_gets_a_5xx(http: httpx.Client, body: object, path: str) -> None:
    response = http.post(path, json=body)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")


def test_readiness_is_false_until_models_load(tmp_path: Path) -> None:
    import time

    from modelyard.workspace import init_workspace

    config = ServeConfig(models=("models:/missing/1",))
    with live_server(init_workspace(tmp_path), config, wait="live") as server:
        deadline = time.monotonic() + 10
        while server.server.load_error is None and time.monotonic() < deadline:
            time.sleep(0.02)
        ready = httpx.get(f"{server.url}/v2/health/ready")
        assert ready.status_code == 503 and "missing" in ready.json()["error"]
        response = httpx.post(f"{server.url}/predict", json={"records": [ROW]})
        assert response.status_code == 503
