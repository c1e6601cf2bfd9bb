"""Liveness and readiness probes for load balancers and orchestration."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.exceptions import HTTPException
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.database import Db


class Health(msgspec.Struct):
    status: str


@get("/health", summary="Liveness: the process answers")
async def health() -> Health:
    return Health("ok")


@get("/ready", summary="Readiness: the database answers")
async def ready(db_session: Db) -> Health:
    try:
        await db_session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise HTTPException(status_code=503, detail="database unavailable") from exc
    return Health("ready")
