"""/api/v1/blobs/{digest}: content-addressed bytes, streamed both ways.

An upload is spooled to a private temporary file while it is hashed; only bytes that hash
to the digest in the URL reach the blob store. A download is verified by the blob store and
then streamed from a temporary file. Blocking blob-store calls run in worker threads, never
on the event loop.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from modelyard.blobs.hashing import format_digest, new_hasher
from modelyard.domain.users import Role
from modelyard.errors import BlobNotFound, InvalidValue
from modelyard.server._context import Ctx, context

router = APIRouter(prefix="/blobs", tags=["blobs"])
_DIGEST_RE = re.compile(r"blake3:[0-9a-f]{64}")


def _check(digest: str) -> str:
    if not _DIGEST_RE.fullmatch(digest):
        raise InvalidValue(
            f"{digest[:80]!r} is not a blob digest; expected 'blake3:' and 64 hex digits",
            field="digest",
        )
    return digest


@router.head("/{digest}")
def blob_exists(digest: str, ctx: Ctx = Depends(context)) -> Response:
    ctx.require_somewhere(Role.VIEWER)
    if not ctx.state.blobs.exists(_check(digest)):
        raise BlobNotFound(f"blob {digest} is not on this server")
    return Response(status_code=200)


@router.get("/{digest}", response_class=FileResponse)
def get_blob(digest: str, ctx: Ctx = Depends(context)) -> FileResponse:
    ctx.require_somewhere(Role.VIEWER)
    _check(digest)
    folder = tempfile.mkdtemp(prefix="yard-download-")
    path = Path(folder) / "blob"
    try:
        ctx.state.blobs.get_file(digest, path)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        path,
        media_type="application/octet-stream",
        headers={"X-Yard-Digest": digest},
        background=BackgroundTask(_remove, folder),
    )


@router.put("/{digest}", status_code=201)
async def put_blob(digest: str, request: Request, ctx: Ctx = Depends(context)) -> dict[str, object]:
    """Upload bytes whose blake3 digest is ``digest`` (a mismatch stores nothing: 400)."""
    ctx.require_somewhere(Role.CONTRIBUTOR)
    _check(digest)
    blobs = ctx.state.blobs
    if await run_in_threadpool(blobs.exists, digest):
        async for _ in request.stream():  # drain, so the client sees a clean answer
            pass
        return {"digest": digest, "created": False}
    folder = tempfile.mkdtemp(prefix="yard-upload-")
    try:
        path = Path(folder) / "blob"
        hasher = new_hasher()
        size = 0
        with open(path, "wb") as out:
            async for chunk in request.stream():
                hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
        actual = format_digest(hasher)
        if actual != digest:
            raise InvalidValue(
                f"uploaded bytes hash to {actual}, not {digest}; nothing was stored. "
                "Upload the file again",
                field="digest",
            )
        stored, _ = await run_in_threadpool(blobs.put_file, path)
    finally:
        _remove(folder)
    return {"digest": stored, "size": size, "created": True}


def _remove(folder: str) -> None:
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        Path(folder, name).unlink(missing_ok=True)
    if os.path.isdir(folder):
        os.rmdir(folder)
