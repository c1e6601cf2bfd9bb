"""The dispatcher's decisions: open a job for a request, assign or reassign it, cancel it.

Rules:

- Everything is checked before anything is written, so a refused request changes nothing.
- A job copies customer, site and asset from its request; a resolved request takes no new job.
- Scheduled windows are timezone-aware, end after they start, and last at most ``MAX_WINDOW``;
  a new job has both ends or neither.
- Only an active user with the engineer role can be assigned. Assigning and reassigning are the
  same move (``assigned``); which statuses allow it is the state machine's call (``status``), so
  a closed job, or one the engineer is travelling to or working on, answers 409.
- Cancelling returns the request to ``open`` when no other open job works on it, so the
  dispatcher sees it needs a new job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.auth import Principal
from server.accounts.models import User
from server.errors import Conflict, Invalid
from server.jobs.events import move
from server.jobs.models import Job, JobEvent, ServiceRequest
from server.jobs.numbering import insert_numbered
from server.jobs.status import OPEN
from server.settings import Settings

MAX_WINDOW = timedelta(days=14)

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=r"\S")]
Skill = Annotated[str, msgspec.Meta(max_length=40)]
Note = Annotated[str, msgspec.Meta(max_length=500)]


class JobIn(msgspec.Struct, forbid_unknown_fields=True):
    request_id: UUID
    summary: Summary
    required_skill: Skill = ""
    scheduled_start: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    engineer_id: UUID
    scheduled_start: AwareDatetime
    scheduled_end: AwareDatetime
    note: Note = ""


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Note = ""


class JobOut(msgspec.Struct):
    id: UUID
    number: str
    status: str
    request_id: UUID
    engineer_id: UUID | None
    customer_id: UUID
    site_id: UUID
    asset_id: UUID | None
    required_skill: str
    summary: str
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


def job_out(j: Job) -> JobOut:
    return JobOut(
        id=j.id,
        number=j.number,
        status=j.status,
        request_id=j.request_id,
        engineer_id=j.engineer_id,
        customer_id=j.customer_id,
        site_id=j.site_id,
        asset_id=j.asset_id,
        required_skill=j.required_skill,
        summary=j.summary,
        scheduled_start=j.scheduled_start,
        scheduled_end=j.scheduled_end,
        version=j.version,
        created_at=j.created_at,
        updated_at=j.updated_at,
        completed_at=j.completed_at,
    )


def check_window(start: datetime | None, end: datetime | None) -> None:
    if start is None and end is None:
        return
    if start is None:
        raise Invalid("scheduled_end needs a scheduled_start", field="scheduled_start")
    if end is None:
        raise Invalid("scheduled_start needs a scheduled_end", field="scheduled_end")
    if end <= start:
        raise Invalid("the window must end after it starts", field="scheduled_end")
    if end - start > MAX_WINDOW:
        raise Invalid(f"a window lasts at most {MAX_WINDOW.days} days", field="scheduled_end")


async def _request_for_update(db: AsyncSession, request_id: UUID) -> ServiceRequest | None:
    query = select(ServiceRequest).where(ServiceRequest.id == request_id).with_for_update()
    return (await db.execute(query)).scalar_one_or_none()


async def create_job(db: AsyncSession, data: JobIn, *, now: datetime, settings: Settings) -> Job:
    check_window(data.scheduled_start, data.scheduled_end)
    request = await _request_for_update(db, data.request_id)
    if request is None:
        raise Invalid("no such service request", field="request_id")
    if request.status == "resolved":
        raise Conflict("the request is already resolved", field="request_id")
    job = Job(
        request_id=request.id,
        engineer_id=None,
        customer_id=request.customer_id,
        site_id=request.site_id,
        asset_id=request.asset_id,
        status="new",
        required_skill=data.required_skill.strip(),
        summary=data.summary.strip(),
        scheduled_start=data.scheduled_start,
        scheduled_end=data.scheduled_end,
        version=1,
        created_at=now,
        updated_at=now,
    )
    await insert_numbered(db, job, "JOB", now, settings.timezone)
    if request.status == "open":
        request.status = "in_progress"
    return job


async def assign(
    db: AsyncSession, job: Job, data: AssignIn, *, actor: Principal, now: datetime
) -> JobEvent:
    """Assign, reassign or reschedule ``job``; the event note says who had it and who has it."""
    check_window(data.scheduled_start, data.scheduled_end)
    engineer = await db.get(User, data.engineer_id)
    if engineer is None or engineer.role != "engineer" or not engineer.is_active:
        raise Invalid("not an active engineer", field="engineer_id")
    previous = await db.get(User, job.engineer_id) if job.engineer_id else None
    if previous is None:
        note = f"assigned to {engineer.username}"
    elif previous.id == engineer.id:
        note = f"rescheduled for {engineer.username}"
    else:
        note = f"reassigned from {previous.username} to {engineer.username}"
    if data.note.strip():
        note += ": " + data.note.strip()
    event = await move(
        db,
        job,
        "assigned",
        actor_id=actor.id,
        actor_role=actor.role,
        event_at=now,
        received_at=now,
        note=note,
    )
    job.engineer_id = engineer.id
    job.scheduled_start = data.scheduled_start
    job.scheduled_end = data.scheduled_end
    return event


async def cancel(
    db: AsyncSession, job: Job, reason: str, *, actor: Principal, now: datetime
) -> JobEvent:
    event = await move(
        db,
        job,
        "cancelled",
        actor_id=actor.id,
        actor_role=actor.role,
        event_at=now,
        received_at=now,
        note=reason.strip(),
    )
    request = await _request_for_update(db, job.request_id)
    if request is not None and request.status == "in_progress":
        others = await db.scalar(
            select(Job.id)
            .where(Job.request_id == request.id, Job.id != job.id, Job.status.in_(OPEN))
            .limit(1)
        )
        if others is None:
            request.status = "open"
    return event
