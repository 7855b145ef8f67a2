"""The ASGI app of ``yard serve`` (Starlette: measured ~15 us per request against FastAPI's
~38 us on this machine, and we need none of FastAPI's schema machinery on the hot path).

Routes:

- ``POST /predict`` (default model) and ``POST /predict/{name}``: JSON ``{"records": [...]}``
  or ``{"columns": [...], "data": [[...]]}``, or a CSV body (``text/csv``) or upload
  (``multipart/form-data``, field ``file``). Answers ``{"predictions": [...], "model": ...,
  "version": ...}`` with an ``X-Request-ID`` header.
- Open Inference Protocol v2: ``GET /v2/health/live``, ``GET /v2/health/ready``,
  ``GET /v2/models/{name}``, ``GET /v2/models/{name}/ready``, ``POST /v2/models/{name}/infer``.
- ``GET /metrics`` (Prometheus text), ``POST /admin/reload``.

Errors are JSON ``{"error": {"code", "message", "problems"?}, "request_id"}``: 400 malformed
body, 404 unknown model, 413 body too large, 415 content type, 422 input that does not fit
the signature (every problem by field), 500 only when the model itself raises, 503 not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modelyard.models import ModelClient
from modelyard.serving._access import SCOPE_KEY, AccessLog
from modelyard.serving._config import ServeConfig
from modelyard.serving._metrics import ServingMetrics
from modelyard.serving._predlog import LogEntry, PredictionLog
from modelyard.serving._served import ModelSpec, ServedModel, current_version, load_served
from modelyard.serving._validation import Columns, Problem, RequestInvalid
from modelyard.workspace import Workspace

log = logging.getLogger("modelyard.serving")
_OIP_TYPES = {"f": "FP64", "i": "INT64", "u": "UINT64", "b": "BOOL"}


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.problems = problems


class ModelServer:
    """The state behind the app: served models (swapped on reload), metrics, prediction log."""

    def __init__(self, workspace: Workspace, config: ServeConfig) -> None:
        if not config.models:
            raise ValueError("serve at least one model")
        self.workspace = workspace
        self.config = config
        self.client = ModelClient(workspace)
        self.specs = [ModelSpec.parse(m) for m in config.models]
        self.default = self.specs[0].name
        self.metrics = ServingMetrics.create()
        self.log = (
            PredictionLog(workspace.blobs, workspace.store.lineage, config.log, self.metrics)
            if config.log.enabled
            else None
        )
        self.models: dict[str, ServedModel] = {}
        self.ready = asyncio.Event()
        self.load_error: str | None = None
        self._reload_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[Any]] = []

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(self._load_all()))
        if self.config.follow_alias_seconds:
            self._tasks.append(asyncio.get_running_loop().create_task(self._follow()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for served in list(self.models.values()):
            await served.batcher.close()
        if self.log is not None:
            await asyncio.to_thread(self.log.close)

    async def _load_all(self) -> None:
        try:
            for spec in self.specs:
                self.models[spec.name] = await asyncio.to_thread(self._load, spec)
                log.info(
                    "serving %s as %r (%s)",
                    self.models[spec.name].source,
                    spec.name,
                    self.models[spec.name].optimize_note or "original model",
                )
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("could not load the models: %s", self.load_error)
            return
        self.ready.set()

    def _load(self, spec: ModelSpec) -> ServedModel:
        return load_served(
            self.client,
            spec,
            batch=self.config.batch,
            metrics=self.metrics,
            optimize_onnx=self.config.optimize,
            unknown_category=self.config.unknown_category,
        )

    async def reload(self) -> list[dict[str, Any]]:
        """Re-resolve aliases; load and swap in the versions that moved. In-flight requests
        finish on the version that accepted them."""
        async with self._reload_lock:
            report = []
            for spec in self.specs:
                served = self.models.get(spec.name)
                now = await asyncio.to_thread(current_version, self.client, spec)
                if served is None or now is None or now == served.version:
                    report.append(
                        {
                            "model": spec.name,
                            "version": served.version if served else None,
                            "changed": False,
                        }
                    )
                    continue
                fresh = await asyncio.to_thread(self._load, spec)
                self.models[spec.name] = fresh
                report.append(
                    {
                        "model": spec.name,
                        "version": fresh.version,
                        "previous": served.version,
                        "changed": True,
                    }
                )
                log.info("reloaded %r: version %s -> %s", spec.name, served.version, fresh.version)
                asyncio.get_running_loop().create_task(served.batcher.close())
            return report

    async def _follow(self) -> None:
        await self.ready.wait()
        while True:
            await asyncio.sleep(self.config.follow_alias_seconds or 30)
            try:
                await self.reload()
            except Exception as exc:  # a store hiccup must not stop polling
                log.warning("follow-alias: could not check the aliases: %s", exc)

    # -- helpers ------------------------------------------------------------------------------

    def served(self, name: str | None) -> ServedModel:
        if not self.ready.is_set():
            raise HttpError(503, "not_ready", self.load_error or "the models are still loading")
        key = name or self.default
        found = self.models.get(key)
        if found is None:
            raise HttpError(
                404,
                "model_not_found",
                f"no model {key!r} is served here; served: {', '.join(self.models)}",
            )
        return found

    async def body(self, request: Request) -> bytes:
        limit = self.config.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise HttpError(400, "bad_request", "Content-Length is not a number")
            if int(length) > limit:
                raise HttpError(
                    413,
                    "body_too_large",
                    f"the body is {int(length):,} bytes; the limit is {limit:,} "
                    "(yard serve --max-body-mb); send fewer rows per request",
                )
            return await request.body()
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HttpError(
                    413,
                    "body_too_large",
                    f"the body exceeds the limit of {limit:,} bytes; send fewer rows",
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def score(
        self, served: ServedModel, columns: Columns, request_id: str, started: float
    ) -> Any:
        try:
            outputs = await served.batcher.submit(columns)
        except Exception as exc:
            log.warning(
                "model %r failed on request %s: %s: %s",
                served.name,
                request_id,
                type(exc).__name__,
                exc,
            )
            raise HttpError(
                500, "model_error", f"the model raised {type(exc).__name__}: {exc}"
            ) from exc
        latency = time.perf_counter() - started
        self.metrics.request_duration.labels(served.name).observe(latency)
        self.metrics.observe_outputs(served.name, served.version, outputs)
        if self.log is not None:
            self.log.record(
                LogEntry(
                    request_id,
                    served.name,
                    served.version,
                    served.source,
                    int(time.time() * 1000),
                    latency * 1000,
                    columns.values,
                    outputs,
                )
            )
        return outputs


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    if given and len(given) <= 200 and given.isprintable():
        return given
    return uuid.uuid4().hex


def _json(data: Any, status: int, request_id: str) -> Response:
    return Response(
        json.dumps(data, allow_nan=False, default=_default, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={"x-request-id": request_id},
    )


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _error(exc: HttpError, request_id: str) -> Response:
    error: dict[str, Any] = {"code": exc.code, "message": str(exc)}
    if exc.problems is not None:
        error["problems"] = [p.to_dict() for p in exc.problems]
    return _json({"error": error, "request_id": request_id}, exc.status, request_id)


def _plain(values: Any) -> list[Any]:
    """Outputs as JSON-safe Python values (NaN/inf become null)."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    if items and isinstance(items[0], float):
        return [v if math.isfinite(v) else None for v in items]
    return items


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise HttpError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc


async def _columns(server: ModelServer, served: ServedModel, request: Request) -> Columns:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > server.config.max_body_bytes:
            raise HttpError(
                413,
                "body_too_large",
                f"uploads must state a Content-Length of at most "
                f"{server.config.max_body_bytes:,} bytes",
            )
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception as exc:
            raise HttpError(400, "malformed_upload", f"could not read the upload: {exc}") from exc
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise HttpError(400, "malformed_upload", "upload the CSV as the form field 'file'")
            return _csv(served, await upload.read())
        finally:
            await form.close()
    raw = await server.body(request)
    if kind in ("text/csv", "application/csv"):
        return _csv(served, raw)
    if kind not in ("application/json", "", "text/json"):
        raise HttpError(
            415,
            "unsupported_media_type",
            f"content type {kind!r} is not accepted; send application/json, "
            "text/csv or a multipart upload",
        )
    return served.validator.from_json(_parse_json(raw))


def _csv(served: ServedModel, raw: bytes) -> Columns:
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(raw))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise HttpError(400, "malformed_csv", f"the CSV could not be parsed: {exc}") from exc
    if frame.empty:
        raise HttpError(400, "malformed_csv", "the CSV has no rows")
    return served.validator.from_frame(frame)


def create_app(workspace: Workspace, config: ServeConfig) -> Starlette:
    """The ASGI app serving ``config.models`` from ``workspace``."""
    server = ModelServer(workspace, config)

    async def handle(request: Request, name: str | None, oip: bool) -> Response:
        started = time.perf_counter()
        request_id = _request_id(request)
        served: ServedModel | None = None
        code = 500
        try:
            served = server.served(name)
            server.metrics.in_flight.labels(served.name).inc()
            access = request.scope.get(SCOPE_KEY)
            if access is not None:
                access.update(model=served.name, version=served.version)
            served.batcher.expect()
            try:
                if oip:
                    body = _parse_json(await server.body(request))
                    columns = _oip_columns(served, body)
                else:
                    columns = await _columns(server, served, request)
            finally:
                served.batcher.arrived()
            if access is not None:
                access["rows"] = columns.rows
            outputs = await server.score(served, columns, request_id, started)
            if oip:
                payload = _oip_response(served, outputs, body, request_id)
            else:
                payload = {
                    "predictions": _plain(outputs),
                    "model": served.name,
                    "version": served.version,
                    "request_id": request_id,
                }
            code = 200
            return _json(payload, 200, request_id)
        except RequestInvalid as exc:
            code = 422
            if served is not None:
                for field in {p.field for p in exc.problems}:
                    label = field if field in served.validator.names else "_request"
                    server.metrics.validation_failures.labels(served.name, label).inc()
            return _error(HttpError(422, "invalid_input", str(exc), exc.problems), request_id)
        except HttpError as exc:
            code = exc.status
            return _error(exc, request_id)
        finally:
            if served is not None:
                server.metrics.in_flight.labels(served.name).dec()
                server.metrics.requests.labels(served.name, served.version, str(code)).inc()

    async def predict(request: Request) -> Response:
        return await handle(request, request.path_params.get("name"), oip=False)

    async def infer(request: Request) -> Response:
        return await handle(request, request.path_params["name"], oip=True)

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(request: Request) -> Response:
        ok = server.ready.is_set()
        body: dict[str, Any] = {"ready": ok}
        if server.load_error:
            body["error"] = server.load_error
        return JSONResponse(body, status_code=200 if ok else 503)

    async def metadata(request: Request) -> Response:
        request_id = _request_id(request)
        try:
            served = server.served(request.path_params["name"])
        except HttpError as exc:
            return _error(exc, request_id)
        return _json(_oip_metadata(served), 200, request_id)

    async def model_ready(request: Request) -> Response:
        name = request.path_params["name"]
        ok = server.ready.is_set() and name in server.models
        return JSONResponse({"name": name, "ready": ok}, status_code=200 if ok else 503)

    async def metrics(request: Request) -> Response:
        data, content_type = server.metrics.render()
        return Response(
            data, media_type=content_type.split(";")[0], headers={"content-type": content_type}
        )

    async def reload(request: Request) -> Response:
        request_id = _request_id(request)
        if not _admin_allowed(request, config.admin_token):
            return _error(
                HttpError(
                    403,
                    "forbidden",
                    "admin endpoints need the admin token "
                    "(Authorization: Bearer ...) or a loopback client",
                ),
                request_id,
            )
        try:
            await server.ready.wait()
            changes = await server.reload()
        except Exception as exc:
            return _error(
                HttpError(503, "reload_failed", f"{type(exc).__name__}: {exc}"), request_id
            )
        return _json({"models": changes}, 200, request_id)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app = Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/predict/{name}", predict, methods=["POST"]),
            Route("/v2/health/live", live, methods=["GET"]),
            Route("/v2/health/ready", ready, methods=["GET"]),
            Route("/v2/models/{name}", metadata, methods=["GET"]),
            Route("/v2/models/{name}/ready", model_ready, methods=["GET"]),
            Route("/v2/models/{name}/infer", infer, methods=["POST"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/admin/reload", reload, methods=["POST"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(AccessLog)] if config.access_log else [],
    )
    app.state.server = server
    return app


def _admin_allowed(request: Request, token: str | None) -> bool:
    if token is not None:
        return request.headers.get("authorization", "") == f"Bearer {token}"
    host = request.client.host if request.client else ""
    return host in ("127.0.0.1", "::1", "localhost", "testclient")


# -- Open Inference Protocol v2 ------------------------------------------------------------------


def _oip_type(spec_type: str) -> str:
    if spec_type.startswith("float"):
        return "FP64" if spec_type == "float64" else "FP32"
    if spec_type.startswith("int"):
        return "INT64"
    if spec_type.startswith("uint"):
        return "UINT64"
    return {"bool": "BOOL"}.get(spec_type, "BYTES")


def _oip_metadata(served: ServedModel) -> dict[str, Any]:
    signature = served.signature
    return {
        "name": served.name,
        "versions": [served.version] if served.version else [],
        "platform": f"modelyard-{served.model.flavor}",
        "inputs": [
            {"name": s.name, "datatype": _oip_type(s.type), "shape": [-1, *(s.shape or ())]}
            for s in (signature.inputs if signature else ())
        ],
        "outputs": [
            {"name": s.name, "datatype": _oip_type(s.type), "shape": [-1, *(s.shape or ())]}
            for s in (signature.outputs if signature else ())
        ],
    }


def _oip_columns(served: ServedModel, body: Any) -> Columns:
    """One tensor per column (``{"name": "tenure", "shape": [n], "data": [...]}``), or one
    ``[n, k]`` tensor whose k columns are the signature's inputs in order."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs or not all(isinstance(t, dict) for t in inputs):
        raise RequestInvalid(
            [
                Problem(
                    "inputs",
                    "malformed",
                    'give "inputs": [{"name", "shape", "datatype", "data"}, ...]',
                )
            ]
        )
    names = served.validator.names
    problems: list[Problem] = []
    for i, tensor in enumerate(inputs):
        shape, data = tensor.get("shape"), tensor.get("data")
        if (
            not isinstance(shape, list)
            or not all(type(s) is int and s >= 0 for s in shape)
            or not isinstance(data, list)
        ):
            problems.append(
                Problem(
                    f"inputs[{i}]",
                    "malformed",
                    "each input needs a shape (list of sizes) and data (list)",
                )
            )
    if problems:
        raise RequestInvalid(problems)
    if (
        len(inputs) == 1
        and len(inputs[0]["shape"]) == 2
        and names
        and inputs[0].get("name") not in names
    ):
        rows, width = inputs[0]["shape"]
        flat = _flatten(inputs[0]["data"])
        if width != len(names) or len(flat) != rows * width:
            raise RequestInvalid(
                [
                    Problem(
                        "inputs[0]",
                        "malformed",
                        f"a [rows, {len(names)}] tensor with "
                        f"{len(names)} columns ({', '.join(names)}) is expected",
                    )
                ]
            )
        split = [flat[r * width : (r + 1) * width] for r in range(rows)]
        return served.validator.from_split(names, split)
    columns: dict[str, list[Any]] = {}
    rows = None
    for i, tensor in enumerate(inputs):
        name = tensor.get("name")
        flat = _flatten(tensor["data"])
        if not isinstance(name, str) or len(flat) != math.prod(tensor["shape"]):
            problems.append(
                Problem(
                    f"inputs[{i}]",
                    "malformed",
                    "each input needs a name and as many data values as its shape",
                )
            )
            continue
        columns[name] = flat
        rows = len(flat) if rows is None else rows
        if len(flat) != rows:
            problems.append(Problem(name, "malformed", "every input must have the same rows"))
    if problems or rows is None:
        raise RequestInvalid(problems or [Problem("inputs", "malformed", "no inputs")])
    order = list(columns)
    return served.validator.from_split(order, [[columns[n][r] for n in order] for r in range(rows)])


def _flatten(data: list[Any]) -> list[Any]:
    if data and isinstance(data[0], list):
        out: list[Any] = []
        for item in data:
            out.extend(_flatten(item) if isinstance(item, list) else [item])
        return out
    return data


def _oip_response(served: ServedModel, outputs: Any, body: Any, request_id: str) -> dict[str, Any]:
    import numpy as np

    array = np.asarray(outputs)
    datatype = _OIP_TYPES.get(array.dtype.kind, "BYTES")
    response: dict[str, Any] = {
        "model_name": served.name,
        "model_version": served.version,
        "id": body.get("id") if isinstance(body.get("id"), str) else request_id,
        "outputs": [
            {
                "name": "predict",
                "shape": list(array.shape),
                "datatype": datatype,
                "data": _plain(array.ravel()),
            }
        ],
    }
    return response
