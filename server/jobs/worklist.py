"""An engineer's job list for a span of days, in schedule order or nearest first.

Rules:

- Only jobs assigned to the engineer, scheduled to start within the span: local days
  (``settings.timezone``) from ``from`` through ``to`` inclusive. A missing ``from`` is today
  (or ``to``, when that is earlier); a missing ``to`` is ``from``.
  Every status is listed, so the engineer also sees what they already finished that day.
- The span is at most ``MAX_DAYS`` days, which bounds the answer without paging.
- ``distance_km`` is the geodesic distance (geopy) from the given point to each site, present
  whenever a point is given; ordering by distance needs the point. Equal distances (and jobs at
  one site) keep schedule order.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.customers.models import Asset, Customer, ProductModel, Site
from server.errors import Invalid
from server.geo import distance_km
from server.jobs.models import Job, ServiceRequest

MAX_DAYS: Final = 31
Order = Literal["schedule", "distance"]


class SiteBrief(msgspec.Struct):
    id: UUID
    name: str
    address: str
    lat: float
    lon: float


class AssetBrief(msgspec.Struct):
    id: UUID
    serial: str
    model_code: str
    model_name: str


class JobSummary(msgspec.Struct):
    id: UUID
    number: str
    status: str
    summary: str
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    customer_name: str
    site: SiteBrief
    asset: AssetBrief | None
    urgency: str
    response_due: datetime
    resolution_due: datetime
    distance_km: float | None


def parse_day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        # strptime alone would take 2026-1-5; fromisoformat alone would take 2026-W48-1.
        if len(text) == 10:
            return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        pass
    raise Invalid("expected a date as YYYY-MM-DD", field=field)


def span(first_text: str | None, last_text: str | None, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) instants covering the local days ``from``..``to`` (``YYYY-MM-DD``)."""
    first, last = parse_day(first_text, "from"), parse_day(last_text, "to")
    tz = ZoneInfo(timezone)
    today = datetime.now(tz).date()
    first = first or (last if last and last < today else today)
    last = last or first
    if last < first:
        raise Invalid("`to` is before `from`", field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(f"the span is at most {MAX_DAYS} days", field="to")
    return (
        datetime.combine(first, time(), tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=tz),
    )


async def my_jobs(
    db: AsyncSession,
    engineer_id: UUID,
    window: tuple[datetime, datetime],
    order: Order,
    lat: float | None,
    lon: float | None,
) -> list[JobSummary]:
    if (lat is None) != (lon is None):
        raise Invalid("give lat and lon together", field="lon" if lon is None else "lat")
    point = None if lat is None or lon is None else (lat, lon)
    if order == "distance" and point is None:
        raise Invalid("ordering by distance needs lat and lon", field="lat")
    rows = await db.execute(
        select(Job, ServiceRequest, Customer.name, Site, Asset, ProductModel)
        .join(ServiceRequest, ServiceRequest.id == Job.request_id)
        .join(Customer, Customer.id == Job.customer_id)
        .join(Site, Site.id == Job.site_id)
        .outerjoin(Asset, Asset.id == Job.asset_id)
        .outerjoin(ProductModel, ProductModel.id == Asset.product_model_id)
        .where(
            Job.engineer_id == engineer_id,
            Job.scheduled_start >= window[0],
            Job.scheduled_start < window[1],
        )
        .order_by(Job.scheduled_start, Job.number)
    )
    out: list[JobSummary] = []
    for job, request, customer_name, site, asset, model in rows.tuples():
        km = None if point is None else round(distance_km(point, (site.lat, site.lon)), 3)
        out.append(
            JobSummary(
                id=job.id,
                number=job.number,
                status=job.status,
                summary=job.summary,
                scheduled_start=job.scheduled_start,
                scheduled_end=job.scheduled_end,
                customer_name=customer_name,
                site=SiteBrief(site.id, site.name, site.address, site.lat, site.lon),
                asset=None
                if asset is None or model is None
                else AssetBrief(asset.id, asset.serial, model.code, model.name),
                urgency=request.urgency,
                response_due=request.response_due,
                resolution_due=request.resolution_due,
                distance_km=km,
            )
        )
    if order == "distance":
        out.sort(key=lambda j: j.distance_km or 0.0)  # stable: ties keep schedule order
    return out
