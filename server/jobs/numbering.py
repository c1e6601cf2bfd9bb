"""Human-readable numbers for requests and jobs: ``SR-YYYYMMDD-NNNN``, ``JOB-YYYYMMDD-NNNN``.

The date is the local date (``settings.timezone``) the row was created, and NNNN counts up per
prefix and day from 0001 (it grows a digit past 9999 rather than wrapping). The next number is
the highest one plus one, so two writers must not read the highest at the same time:

- SQLite: writers are already serialised by ``BEGIN IMMEDIATE`` (``server.database``).
- PostgreSQL: a transaction-scoped advisory lock per prefix and day; the second writer waits
  for the first to commit, then (READ COMMITTED) sees its number.

A lock rather than insert-and-retry: a retry needs a savepoint, and numbering must not fail a
request or disturb the caller's unit of work. The unique index on ``number`` stays the backstop.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.database import advisory_lock
from server.jobs.models import Job, ServiceRequest


async def insert_numbered(
    db: AsyncSession, row: Job | ServiceRequest, prefix: str, at: datetime, timezone: str
) -> None:
    """Give ``row`` the next free number for ``prefix`` on ``at``'s local day, and insert it."""
    column = type(row).number
    stem = f"{prefix}-{at.astimezone(ZoneInfo(timezone)):%Y%m%d}-"
    await advisory_lock(db, stem)
    # Zero-padded numbers sort as text within one width; longer means bigger.
    last = await db.scalar(
        select(column)
        .where(column.like(stem + "%"))
        .order_by(func.length(column).desc(), column.desc())
        .limit(1)
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    row.number = f"{stem}{seq:04d}"
    db.add(row)
    await db.flush()
