"""The prediction log end to end, alias reloads, and the serving CLI."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("sklearn")

from modelyard.cli import main
from modelyard.models import ModelClient
from modelyard.serving import LogPolicy, ServeConfig, list_segments
from serving_helpers import FEATURES, add_fragile, build_workspace, live_server, numeric_frame


def test_prediction_log_rotates_and_exports(workspace_dir: Path) -> None:
    from modelyard.workspace import open_workspace

    workspace = open_workspace()
    add_fragile(workspace)
    config = ServeConfig(
        models=("models:/fragile/1",), log=LogPolicy(segment_rows=5, segment_seconds=3600)
    )
    with live_server(workspace, config) as live, httpx.Client(base_url=live.url) as client:
        for i in range(12):
            response = client.post(
                "/predict", json={"records": [{"x": float(i)}]}, headers={"x-request-id": f"q{i}"}
            )
            assert response.status_code == 200
    # 12 rows with segments of 5: two full segments, and the rest flushed at shutdown
    segments = list_segments(ModelClient(workspace), "fragile")
    assert len(segments) == 3
    assert all(s.source == "models:/fragile/1" for s in segments)
    assert main(["predictions", "list", "fragile", "--json"]) == 0
    out = workspace_dir / "export.parquet"
    assert main(["predictions", "export", "fragile", "-o", str(out)]) == 0
    frame = pd.read_parquet(out)
    assert sorted(frame["yard_request_id"]) == sorted(f"q{i}" for i in range(12))
    assert frame.set_index("yard_request_id").loc["q3", "prediction"] == 6.0
    assert set(frame["yard_version"]) == {"1"} and (frame["yard_latency_ms"] > 0).all()
    assert {"x", "yard_timestamp", "yard_model"} <= set(frame.columns)


def test_log_rotates_by_time(workspace_dir: Path) -> None:
    from modelyard.workspace import open_workspace

    workspace = open_workspace()
    add_fragile(workspace)
    config = ServeConfig(models=("models:/fragile/1",), log=LogPolicy(segment_seconds=0.2))
    with live_server(workspace, config) as live:
        httpx.post(f"{live.url}/predict", json={"records": [{"x": 1.0}]})
        deadline = time.monotonic() + 10
        while not live.server.log.written and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(live.server.log.written) == 1  # written while the server still runs


def test_reload_on_alias_move_keeps_in_flight_requests(workspace_dir: Path) -> None:
    from modelyard.workspace import open_workspace

    workspace = open_workspace()
    add_fragile(workspace, delay=0.05)
    add_fragile(workspace, delay=0.05, offset=100.0)
    client = ModelClient(workspace)
    client.set_alias("fragile", "live", 1)
    config = ServeConfig(models=("models:/fragile@live",), follow_alias_seconds=0.2)
    with live_server(workspace, config) as live:

        async def traffic() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:

                async def one(i: int) -> httpx.Response:
                    await asyncio.sleep(i * 0.01)
                    return await http.post("/predict", json={"records": [{"x": 1.0}]})

                async def move() -> None:
                    await asyncio.sleep(0.15)
                    await asyncio.to_thread(client.set_alias, "fragile", "live", 2)

                results = await asyncio.gather(*(one(i) for i in range(120)), move())
                answered = [r for r in results if r is not None]
                deadline = asyncio.get_running_loop().time() + 20
                while answered[-1].json().get("version") != "2":  # a slow machine reloads late
                    assert asyncio.get_running_loop().time() < deadline, "never reloaded"
                    await asyncio.sleep(0.05)
                    answered.append(await one(0))
                return answered

        responses = asyncio.run(traffic())
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses][:3]
        versions = [r.json()["version"] for r in responses]
        assert versions[0] == "1" and versions[-1] == "2"
        assert {r.json()["predictions"][0] for r in responses} == {2.0, 102.0}
        # back to 1 through the admin endpoint
        client.set_alias("fragile", "live", 1)
        reloaded = httpx.post(f"{live.url}/admin/reload").json()["models"][0]
        if reloaded["changed"]:  # (unless the poller got there first)
            assert reloaded == {
                "model": "fragile",
                "version": "1",
                "previous": "2",
                "changed": True,
            }
        answer = httpx.post(f"{live.url}/predict", json={"records": [{"x": 1.0}]}).json()
        assert answer["version"] == "1"


def test_yard_predict_scores_a_file_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    data = numeric_frame(1000, seed=3)
    data.to_parquet(tmp_path / "in.parquet")
    data.to_csv(tmp_path / "in.csv", index=False)
    for name in ("in.parquet", "in.csv"):
        out = tmp_path / f"{name}.scored.parquet"
        args = ["predict", "models:/rf/1", str(tmp_path / name), "-o", str(out)]
        assert main([*args, "--chunk-rows", "300"]) == 0
        scored = pd.read_parquet(out)
        assert len(scored) == 1000 and list(scored.columns) == [*FEATURES, "prediction"]
    from modelyard.workspace import open_workspace

    model = ModelClient(open_workspace()).load("models:/rf/1")
    assert (scored["prediction"].to_numpy() == model.predict(data)).all()


def test_optimize_serves_through_onnx_with_identical_predictions(tmp_path: Path) -> None:
    pytest.importorskip("skl2onnx")
    workspace = build_workspace(tmp_path)
    rows = numeric_frame(50, seed=9).to_dict("records")
    answers = {}
    for optimize in (False, True):
        config = ServeConfig(models=("models:/rf/1", "churn=models:/churn/1"), optimize=optimize)
        with live_server(workspace, config) as live:
            answers[optimize] = httpx.post(f"{live.url}/predict", json={"records": rows}).json()
            served = live.server.models
            assert served["rf"].optimized is optimize
            assert not served["churn"].optimized  # a string input: kept the original, said why
            if optimize:
                assert "non-numeric" in served["churn"].optimize_note
    assert answers[True]["predictions"] == answers[False]["predictions"]


@pytest.mark.parametrize("flavor", ["xgboost", "lightgbm"])
def test_optimize_converts_boosted_trees_with_matching_predictions(
    tmp_path: Path, flavor: str
) -> None:
    pytest.importorskip("onnxmltools")
    boost = pytest.importorskip(flavor)
    from modelyard.workspace import init_workspace

    workspace = init_workspace(tmp_path)
    client = ModelClient(workspace)
    x = numeric_frame()
    if flavor == "xgboost":
        classifier = boost.XGBClassifier(n_estimators=20, max_depth=3)
        regressor = boost.XGBRegressor(n_estimators=20, max_depth=3)
    else:
        classifier = boost.LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1)
        regressor = boost.LGBMRegressor(n_estimators=20, num_leaves=8, verbose=-1)
    classifier.fit(x, (x["f0"] + x["f1"] > 0).astype(int))
    regressor.fit(x, x["f0"] * 2 + x["f2"])
    client.log_model(classifier, name="clf", input_example=x.head(20))
    client.log_model(regressor, name="reg", input_example=x.head(20))
    rows = numeric_frame(50, seed=9).to_dict("records")
    answers: dict[bool, dict[str, list[float]]] = {}
    for optimize in (False, True):
        config = ServeConfig(models=("clf=models:/clf/1", "reg=models:/reg/1"), optimize=optimize)
        with live_server(workspace, config) as live:
            answers[optimize] = {
                name: httpx.post(f"{live.url}/predict/{name}", json={"records": rows}).json()[
                    "predictions"
                ]
                for name in ("clf", "reg")
            }
            for served in live.server.models.values():
                assert served.optimized is optimize, served.optimize_note
    assert answers[True]["clf"] == answers[False]["clf"]
    assert answers[True]["reg"] == pytest.approx(answers[False]["reg"], rel=1e-4, abs=1e-4)


def test_optimize_keeps_flavors_without_a_converter_and_names_the_ones_it_has(
    tmp_path: Path,
) -> None:
    from modelyard.serving import optimize
    from modelyard.workspace import init_workspace

    workspace = init_workspace(tmp_path)
    add_fragile(workspace)
    outcome = optimize(ModelClient(workspace).load("models:/fragile/1"))
    assert outcome.predict is None
    assert "no ONNX converter for the python flavor" in outcome.reason
    assert "sklearn, xgboost, lightgbm" in outcome.reason
