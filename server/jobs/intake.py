"""Intake: recording a service request and classifying it.

Rules:

- A request names a customer, one of *that customer's* sites, and optionally an asset installed
  *at that site*; any mismatch is refused naming the field, before anything is written.
- Urgency sets both SLA clocks at intake (``server/jobs/sla.py``), from the server's receive time.
- Request statuses: ``open`` (no open job), ``in_progress`` (a job is working on it),
  ``resolved`` (a job was completed). Jobs move the request along; see ``dispatch`` and ``events``.
- Numbers are ``SR-YYYYMMDD-NNNN`` on the local calendar (``numbering``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.customers.models import Asset, Customer, Site
from server.errors import Invalid, NotFound
from server.jobs.models import Job, ServiceRequest
from server.jobs.numbering import insert_numbered
from server.jobs.sla import due_times
from server.settings import Settings

Channel = Literal["phone", "email", "web"]
Category = Literal["fault", "usage", "parts"]
Urgency = Literal["critical", "high", "normal", "low"]
RequestStatus = Literal["open", "in_progress", "resolved"]
REQUEST_STATUSES: Final = ("open", "in_progress", "resolved")

# A pattern of one non-space character: blank text is refused like missing text.
Problem = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
ContactName = Annotated[str, msgspec.Meta(max_length=120)]
ContactPhone = Annotated[str, msgspec.Meta(max_length=40)]


class RequestIn(msgspec.Struct, forbid_unknown_fields=True):
    channel: Channel
    category: Category
    urgency: Urgency
    customer_id: UUID
    site_id: UUID
    problem: Problem
    asset_id: UUID | None = None
    contact_name: ContactName = ""
    contact_phone: ContactPhone = ""


class JobRef(msgspec.Struct):
    id: UUID
    number: str
    status: str
    engineer_id: UUID | None


class RequestOut(msgspec.Struct):
    id: UUID
    number: str
    channel: str
    category: str
    urgency: str
    status: str
    customer_id: UUID
    site_id: UUID
    asset_id: UUID | None
    contact_name: str
    contact_phone: str
    problem: str
    received_at: datetime
    response_due: datetime
    resolution_due: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    created_by: UUID | None
    # Filled in only where a request is shown alone (GET /requests/{id}); null elsewhere.
    jobs: list[JobRef] | None = None


def request_out(r: ServiceRequest, jobs: list[JobRef] | None = None) -> RequestOut:
    return RequestOut(
        id=r.id,
        number=r.number,
        channel=r.channel,
        category=r.category,
        urgency=r.urgency,
        status=r.status,
        customer_id=r.customer_id,
        site_id=r.site_id,
        asset_id=r.asset_id,
        contact_name=r.contact_name,
        contact_phone=r.contact_phone,
        problem=r.problem,
        received_at=r.received_at,
        response_due=r.response_due,
        resolution_due=r.resolution_due,
        responded_at=r.responded_at,
        resolved_at=r.resolved_at,
        created_by=r.created_by,
        jobs=jobs,
    )


async def check_place(
    db: AsyncSession, customer_id: UUID, site_id: UUID, asset_id: UUID | None
) -> None:
    """Refuse unless the site is the customer's and the asset (if any) is at that site."""
    if await db.get(Customer, customer_id) is None:
        raise Invalid("no such customer", field="customer_id")
    site = await db.get(Site, site_id)
    if site is None or site.customer_id != customer_id:
        raise Invalid("the site is not one of this customer's sites", field="site_id")
    if asset_id is not None:
        asset = await db.get(Asset, asset_id)
        if asset is None or asset.site_id != site_id:
            raise Invalid("the asset is not installed at this site", field="asset_id")


async def create_request(
    db: AsyncSession, data: RequestIn, *, actor_id: UUID, now: datetime, settings: Settings
) -> ServiceRequest:
    await check_place(db, data.customer_id, data.site_id, data.asset_id)
    response_due, resolution_due = due_times(now, data.urgency, settings)
    request = ServiceRequest(
        channel=data.channel,
        category=data.category,
        urgency=data.urgency,
        status="open",
        customer_id=data.customer_id,
        site_id=data.site_id,
        asset_id=data.asset_id,
        contact_name=data.contact_name.strip(),
        contact_phone=data.contact_phone.strip(),
        problem=data.problem.strip(),
        received_at=now,
        response_due=response_due,
        resolution_due=resolution_due,
        created_by=actor_id,
    )
    await insert_numbered(db, request, "SR", now, settings.timezone)
    return request


async def list_requests(
    db: AsyncSession, status: str | None, urgency: str | None, limit: int, offset: int
) -> list[RequestOut]:
    """Newest first; filters combine."""
    query = (
        select(ServiceRequest)
        .order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if status:
        query = query.where(ServiceRequest.status == status)
    if urgency:
        query = query.where(ServiceRequest.urgency == urgency)
    return [request_out(r) for r in (await db.execute(query)).scalars()]


async def get_request(db: AsyncSession, request_id: UUID) -> RequestOut:
    """One request with its jobs (oldest first)."""
    request = await db.get(ServiceRequest, request_id)
    if request is None:
        raise NotFound("no such service request")
    rows = await db.execute(
        select(Job.id, Job.number, Job.status, Job.engineer_id)
        .where(Job.request_id == request_id)
        .order_by(Job.created_at, Job.number)
    )
    return request_out(request, [JobRef(*row) for row in rows.tuples()])
