"""Everything an engineer needs to open a job: customer, site, asset with warranty and service
history, the service request with its SLA clocks, and the latest report version.

The asset's history is the other jobs on the same asset, newest first (by completion, else
schedule, else creation), at most ``HISTORY_LIMIT`` of them, each with the summary of its latest
report version. It is shown whoever did those jobs: knowing how the asset failed before is the
point, and it is summaries only — no signatures, no customer feedback.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from uuid import UUID

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.customers.assets import AssetOut, asset_out
from server.customers.models import Asset, Customer, ProductModel, Site
from server.jobs.dispatch import JobOut, job_out
from server.jobs.intake import RequestOut, request_out
from server.jobs.models import Job, ServiceRequest
from server.reports.models import WorkReport

HISTORY_LIMIT: Final = 20


class PersonOut(msgspec.Struct):
    id: UUID
    display_name: str
    phone: str


class CustomerBrief(msgspec.Struct):
    id: UUID
    name: str
    phone: str


class SiteDetail(msgspec.Struct):
    id: UUID
    name: str
    address: str
    lat: float
    lon: float
    contact_name: str
    contact_phone: str
    notes: str


class ReportOut(msgspec.Struct):
    id: UUID
    version: int
    diagnosis: str
    root_cause_category: str
    root_cause: str
    prevention: str
    actions: str
    labour_minutes: int
    signed: bool
    submitted_at: datetime


class ReportBrief(msgspec.Struct):
    version: int
    diagnosis: str
    root_cause_category: str
    root_cause: str
    actions: str
    submitted_at: datetime


class HistoryEntry(msgspec.Struct):
    job_id: UUID
    number: str
    status: str
    summary: str
    scheduled_start: datetime | None
    completed_at: datetime | None
    engineer_name: str | None
    report: ReportBrief | None


class JobDetail(msgspec.Struct):
    job: JobOut
    engineer: PersonOut | None
    customer: CustomerBrief
    site: SiteDetail
    asset: AssetOut | None
    request: RequestOut
    report: ReportOut | None
    history: list[HistoryEntry]


async def job_detail(db: AsyncSession, job: Job, today: date) -> JobDetail:
    customer = await db.get_one(Customer, job.customer_id)
    site = await db.get_one(Site, job.site_id)
    request = await db.get_one(ServiceRequest, job.request_id)
    engineer = await db.get(User, job.engineer_id) if job.engineer_id else None
    asset_view: AssetOut | None = None
    history: list[HistoryEntry] = []
    if job.asset_id is not None:
        asset = await db.get_one(Asset, job.asset_id)
        model = await db.get_one(ProductModel, asset.product_model_id)
        asset_view = asset_out(asset, model, today)
        history = await asset_history(db, job.asset_id, exclude=job.id)
    latest = (await latest_reports(db, [job.id])).get(job.id)
    return JobDetail(
        job=job_out(job),
        engineer=None
        if engineer is None
        else PersonOut(engineer.id, engineer.display_name, engineer.phone),
        customer=CustomerBrief(customer.id, customer.name, customer.phone),
        site=SiteDetail(
            site.id,
            site.name,
            site.address,
            site.lat,
            site.lon,
            site.contact_name,
            site.contact_phone,
            site.notes,
        ),
        asset=asset_view,
        request=request_out(request),
        report=None if latest is None else _report_out(latest),
        history=history,
    )


async def asset_history(db: AsyncSession, asset_id: UUID, *, exclude: UUID) -> list[HistoryEntry]:
    when = func.coalesce(Job.completed_at, Job.scheduled_start, Job.created_at)
    rows = (
        (
            await db.execute(
                select(Job, User.display_name)
                .outerjoin(User, User.id == Job.engineer_id)
                .where(Job.asset_id == asset_id, Job.id != exclude)
                .order_by(when.desc(), Job.number.desc())
                .limit(HISTORY_LIMIT)
            )
        )
        .tuples()
        .all()
    )
    reports = await latest_reports(db, [job.id for job, _ in rows])
    out = []
    for job, engineer_name in rows:
        report = reports.get(job.id)
        out.append(
            HistoryEntry(
                job_id=job.id,
                number=job.number,
                status=job.status,
                summary=job.summary,
                scheduled_start=job.scheduled_start,
                completed_at=job.completed_at,
                engineer_name=engineer_name,
                report=None
                if report is None
                else ReportBrief(
                    report.version,
                    report.diagnosis,
                    report.root_cause_category,
                    report.root_cause,
                    report.actions,
                    report.submitted_at,
                ),
            )
        )
    return out


async def latest_reports(db: AsyncSession, job_ids: list[UUID]) -> dict[UUID, WorkReport]:
    """job id -> its highest report version, for the jobs that have one."""
    if not job_ids:
        return {}
    newest = (
        select(WorkReport.job_id, func.max(WorkReport.version).label("version"))
        .where(WorkReport.job_id.in_(job_ids))
        .group_by(WorkReport.job_id)
        .subquery()
    )
    reports = await db.execute(
        select(WorkReport).join(
            newest,
            (newest.c.job_id == WorkReport.job_id) & (newest.c.version == WorkReport.version),
        )
    )
    return {r.job_id: r for r in reports.scalars()}


def _report_out(r: WorkReport) -> ReportOut:
    return ReportOut(
        r.id,
        r.version,
        r.diagnosis,
        r.root_cause_category,
        r.root_cause,
        r.prevention,
        r.actions,
        r.labour_minutes,
        r.signed,
        r.submitted_at,
    )
