"""Who may see which job: the object-level rule every job endpoint goes through.

An engineer sees only the jobs assigned to them; any other job — another engineer's, an
unassigned one, one that does not exist — is the same 404, so ids never reveal what exists.
Dispatchers, managers and admins see every job. Other roles never reach job endpoints (their
guards refuse them with 403), and this function refuses them too, as 404, in case a future
caller forgets the guard.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.auth import Principal
from server.errors import NotFound
from server.jobs.models import Job

STAFF: Final = frozenset({"dispatcher", "manager", "admin"})


def may_see(job: Job, user: Principal) -> bool:
    if user.role == "engineer":
        return job.engineer_id == user.id
    return user.role in STAFF


async def visible_job(
    db: AsyncSession, job_id: UUID, user: Principal, *, for_update: bool = False
) -> Job:
    """The job, if ``user`` may see it; ``for_update`` locks the row (PostgreSQL) for a write."""
    query = select(Job).where(Job.id == job_id)
    if for_update:
        query = query.with_for_update()
    job = (await db.execute(query)).scalar_one_or_none()
    if job is None or not may_see(job, user):
        raise NotFound("no such job")
    return job
