"""HTTP: the sync protocol's endpoints (PROTOCOL.md) and the review of rejected operations.

Handlers are thin: authorise (engineers only sync), hand the raw body to the engine, return its
bytes. A pull response is spliced from stored change bytes, never decoded and re-encoded here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import FromPath, QueryParameter
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from server.accounts.auth import Principal, requires
from server.accounts.models import User
from server.database import Db
from server.errors import NotFound
from server.jobs.models import Job
from server.reports.models import Signature, WorkReport
from server.syncing.models import Device, OperationRecord
from server.syncing.replication import ensure_replica
from server.syncing.store import SqlStore
from sync.blobs import MAX_BLOB_BYTES, missing_blobs, put_blob
from sync.pull import pull
from sync.push import push

JSON = "application/json"
Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


def _store(request: Request[Any, Any, Any]) -> SqlStore:
    store: SqlStore = request.app.state.sync_store
    return store


def _key(request: Request[Any, Any, Any]) -> bytes:
    key: bytes = request.app.state.sync_key
    return key


@post("/sync/pull", guards=[requires("engineer")], status_code=200, summary="Pull changes")
async def sync_pull(request: Request[Principal, Any, Any]) -> Response[bytes]:
    user_id = str(request.user.id)
    await ensure_replica(request.app.state.sessions, user_id, request.app.state.built_replicas)
    body = await pull(
        _store(request), user_id, await request.body(), key=_key(request), now=datetime.now(UTC)
    )
    return Response(body, media_type=JSON)


@post("/sync/push", guards=[requires("engineer")], status_code=200, summary="Push operations")
async def sync_push(request: Request[Principal, Any, Any]) -> Response[bytes]:
    from server.syncing.handlers import PushBatch

    body = await push(
        _store(request),
        str(request.user.id),
        await request.body(),
        PushBatch(),
        now=datetime.now(UTC),
    )
    return Response(body, media_type=JSON)


@put(
    "/sync/blobs/{sha256:str}",
    guards=[requires("engineer")],
    status_code=204,
    request_max_body_size=MAX_BLOB_BYTES + 1,
    summary="Upload a file by its SHA-256 (idempotent)",
)
async def sync_put_blob(request: Request[Principal, Any, Any], sha256: FromPath[str]) -> None:
    content_type = request.headers.get("content-type", "")
    await put_blob(_store(request), sha256, content_type, await request.body())


@post(
    "/sync/blobs/missing",
    guards=[requires("engineer")],
    status_code=200,
    summary="Which of these files the server lacks",
)
async def sync_missing_blobs(request: Request[Principal, Any, Any]) -> Response[bytes]:
    return Response(await missing_blobs(_store(request), await request.body()), media_type=JSON)


@get(
    "/sync/blobs/{sha256:str}",
    guards=[requires("engineer", "dispatcher", "manager", "admin")],
    summary="Download a stored file",
)
async def sync_get_blob(
    request: Request[Principal, Any, Any], db_session: Db, sha256: FromPath[str]
) -> Response[bytes]:
    if request.user.role == "engineer" and not await _engineer_may_read(
        db_session, request.user.id, sha256.lower()
    ):
        raise NotFound("no such file")
    async with _store(request).transaction(write=False) as tx:
        blob = await tx.get_blob(sha256.lower())
    if blob is None:
        raise NotFound("no such file")
    return Response(blob.data, media_type=blob.content_type)


async def _engineer_may_read(db: Db, engineer_id: UUID, sha256: str) -> bool:
    """Engineers read only the signature images of their own jobs' reports."""
    found = await db.scalar(
        select(Signature.id)
        .join(WorkReport, WorkReport.id == Signature.report_id)
        .join(Job, Job.id == WorkReport.job_id)
        .where(Signature.image_sha256 == sha256, Job.engineer_id == engineer_id)
        .limit(1)
    )
    return found is not None


class RejectedOperation(msgspec.Struct):
    device_id: UUID
    seq: int
    username: str
    received_at: datetime
    operation: msgspec.Raw
    result: msgspec.Raw


@get(
    "/sync/rejections",
    guards=[requires("dispatcher", "manager", "admin")],
    summary="Operations devices sent that were rejected, with their payloads, for review",
)
async def sync_rejections(
    db_session: Db,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    offset: Annotated[int, QueryParameter(ge=0)] = 0,
) -> list[RejectedOperation]:
    rows = await db_session.execute(
        select(OperationRecord, User.username)
        .join(Device, Device.id == OperationRecord.device_id)
        .join(User, User.id == Device.user_id)
        .where(OperationRecord.body != b"")
        .order_by(OperationRecord.received_at.desc(), OperationRecord.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        RejectedOperation(
            r.device_id, r.seq, username, r.received_at, msgspec.Raw(r.body), msgspec.Raw(r.result)
        )
        for r, username in rows.tuples()
    ]


HANDLERS: list[ControllerRouterHandler] = [
    sync_pull,
    sync_push,
    sync_put_blob,
    sync_missing_blobs,
    sync_get_blob,
    sync_rejections,
]
