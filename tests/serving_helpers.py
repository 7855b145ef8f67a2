"""Shared by the serving tests: a workspace with registered models, and a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from modelyard.models import ModelClient
from modelyard.serving import ServeConfig, create_app
from modelyard.workspace import Workspace, init_workspace

FEATURES = [f"f{i}" for i in range(5)]


def numeric_frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)


def churn_frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.integers(1, 60, rows).astype("int64"),
            "charges": rng.normal(50, 10, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
        }
    )


def build_workspace(folder: Path) -> Workspace:
    """``rf`` (5 numeric features, versions 1 and 2, alias champion -> 1) and ``churn``
    (a pipeline with a one-hot encoded ``plan``)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    workspace = init_workspace(folder)
    client = ModelClient(workspace)
    x = numeric_frame()
    y = (x["f0"] + x["f1"] > 0).astype(int)
    for seed in (0, 1):
        rf = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=seed).fit(x, y)
        client.log_model(rf, name="rf", input_example=x.head(20))
    client.set_alias("rf", "champion", 1)
    frame = churn_frame()
    target = (frame["plan"] == "pro").astype(int)
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough"),
            ),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    ).fit(frame, target)
    client.log_model(pipe, name="churn", input_example=frame.head(10))
    return workspace


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, app: object, port: int) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{port}"

    @property
    def server(self):  # type: ignore[no-untyped-def]
        return self.app.state.server  # type: ignore[attr-defined]


@contextmanager
def live_server(
    workspace: Workspace, config: ServeConfig, *, wait: str = "ready"
) -> Iterator[LiveServer]:
    """A real uvicorn server on a free loopback port, in a thread, until the block ends."""
    import uvicorn

    app = create_app(workspace, config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    live = LiveServer(app, port)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{live.url}/v2/health/{wait}", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the model server did not become ready in 30 s")
        time.sleep(0.05)
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(30)


from modelyard.models import PythonModel  # noqa: E402 - the class must be importable by path


class Fragile(PythonModel):
    """Doubles ``x``; raises for negative ``x``; sleeps ``delay`` seconds per call."""

    def __init__(self, delay: float = 0.0, offset: float = 0.0) -> None:
        self.delay = delay
        self.offset = offset

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.delay:
            time.sleep(self.delay)
        if (frame["x"] < 0).any():
            raise ValueError("x must not be negative")
        return frame["x"].to_numpy() * 2 + self.offset


def add_fragile(workspace: Workspace, name: str = "fragile", **options: float) -> int:
    client = ModelClient(workspace)
    logged = client.log_model(
        Fragile(**options), name=name, input_example=pd.DataFrame({"x": [1.0, 2.0]})
    )
    assert logged.version is not None
    return logged.version.number


class Gated(PythonModel):
    """Doubles ``x``; while the file ``gate`` exists every ``predict`` waits for it to go, so
    a test can hold requests in flight for as long as it needs."""

    def __init__(self, gate: str) -> None:
        self.gate = gate

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        deadline = time.monotonic() + 60
        while os.path.exists(self.gate) and time.monotonic() < deadline:
            time.sleep(0.005)
        return frame["x"].to_numpy() * 2


def add_gated(workspace: Workspace, gate: Path, name: str = "gated") -> int:
    client = ModelClient(workspace)
    logged = client.log_model(
        Gated(str(gate)), name=name, input_example=pd.DataFrame({"x": [1.0, 2.0]})
    )
    assert logged.version is not None
    return logged.version.number


class ServeProcess:
    """A ``yard serve`` child process and where it listens."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, stderr: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.stderr = stderr

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        """Resident memory of the server process (VmRSS in /proc/<pid>/status), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    def metric(self, name: str) -> float:
        """The sum of one metric's samples on /metrics."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name) and line[len(name)] in " {"
        )


@contextmanager
def yard_serve(folder: Path, *args: str, timeout: float = 60) -> Iterator[ServeProcess]:
    """``yard serve ARGS --port <free>`` in ``folder`` as a real child process, ready; killed
    at the end if it is still running."""
    port = free_port()
    stderr = folder / f"yard-serve-{port}.stderr"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}  # pickled test models
    yard = Path(sys.executable).parent / "yard"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(yard), "serve", *args, "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    served = ServeProcess(process, port, stderr)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"yard serve exited: {stderr.read_text()[-2000:]}")
            try:
                if httpx.get(f"{served.url}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"yard serve was not ready in {timeout:g} s")
            time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
