"""Applying a status move to a job: the one place a job's status changes.

Every move goes through :func:`server.jobs.status.transition` and leaves an append-only
:class:`JobEvent` (who, from, to, device time and server time). It also keeps the job's
``version`` (bumped on every change, for the sync core's stale-write checks), ``updated_at`` and
``completed_at``, and the SLA clock stamps of the service request:

- ``responded_at`` — the first move an engineer makes on any job of the request (they are on
  their way or already there): the moment the customer is being served.
- ``resolved_at`` / request status ``resolved`` — a job of the request is completed.

Times are the event time the caller vouches for (device time, already sanity-checked by the
sync core, or the server clock for dispatcher actions).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.jobs.models import Job, JobEvent, ServiceRequest
from server.jobs.status import transition


async def move(
    db: AsyncSession,
    job: Job,
    target: str,
    *,
    actor_id: UUID | None,
    actor_role: str,
    event_at: datetime,
    received_at: datetime,
    note: str = "",
) -> JobEvent:
    """Move ``job`` to ``target`` if the state machine allows it; record and return the event."""
    if actor_role == "engineer" and job.engineer_id != actor_id:
        raise NotFound("no such job")
    transition(job.status, target, actor_role)
    event = JobEvent(
        job_id=job.id,
        actor_id=actor_id,
        from_status=job.status,
        to_status=target,
        event_at=event_at,
        received_at=received_at,
        note=note,
    )
    db.add(event)
    job.status = target
    job.version += 1
    job.updated_at = received_at
    if target == "completed":
        job.completed_at = event_at
    request = await db.get_one(ServiceRequest, job.request_id)
    if actor_role == "engineer" and request.responded_at is None:
        request.responded_at = event_at
    if target == "completed":
        request.status = "resolved"
        request.resolved_at = request.resolved_at or event_at
    return event
