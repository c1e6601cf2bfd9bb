"""Which documents each engineer's replica holds — computed on the server, never by the client.

An engineer's scope:
- their jobs that are open, or closed (completed/cancelled) within the last ``CLOSED_DAYS``;
- those jobs' customers, sites, assets and reports;
- the service history of those assets (other completed jobs on them, newest ``HISTORY_PER_ASSET``);
- knowledge articles for the assets' product models;
- the parts catalogue, all warehouses and their own van, and stock levels at those locations;
- their own part requests and their own profile.

Nothing else is ever sent. Other roles work online and hold no replica. Membership of a document
either follows a rule (:func:`audience`, for documents that change often and whose readers are
known) or is derived from the jobs (customers, sites, assets, history, articles), which
:func:`scope_keys` recomputes when a job enters or leaves an engineer's scope.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.customers.models import Asset
from server.inventory.models import Part, PartRequest, StockLevel, StockLocation
from server.jobs.models import Job
from server.knowledge.models import KnowledgeArticle
from server.reports.models import WorkReport
from sync.kinds import split_key

CLOSED_DAYS = 14
HISTORY_PER_ASSET = 10
CLOSED = ("completed", "cancelled")


def _job_in_window(now: datetime) -> ColumnElement[bool]:
    return or_(Job.status.not_in(CLOSED), Job.updated_at >= now - timedelta(days=CLOSED_DAYS))


async def engineers(db: AsyncSession) -> list[str]:
    rows = await db.execute(
        select(User.id).where(User.role == "engineer", User.is_active.is_(True))
    )
    return [str(u) for u in rows.scalars()]


async def scope_keys(db: AsyncSession, user_id: str, now: datetime | None = None) -> set[str]:
    """Every document key in the engineer's scope right now."""
    now = now or datetime.now(UTC)
    uid = UUID(user_id)
    keys = {f"user:{user_id}"}
    jobs = (
        await db.execute(
            select(Job.id, Job.customer_id, Job.site_id, Job.asset_id).where(
                Job.engineer_id == uid, _job_in_window(now)
            )
        )
    ).all()
    job_ids = [j.id for j in jobs]
    asset_ids = {j.asset_id for j in jobs if j.asset_id}
    for j in jobs:
        keys |= {f"job:{j.id}", f"customer:{j.customer_id}", f"site:{j.site_id}"}
    keys |= {f"asset:{a}" for a in asset_ids}
    if job_ids:
        reports = await db.execute(
            select(WorkReport.report_id).where(WorkReport.job_id.in_(job_ids)).distinct()
        )
        keys |= {f"report:{r}" for r in reports.scalars()}
    if asset_ids:
        history = await db.execute(
            select(Job.id, Job.asset_id)
            .where(Job.asset_id.in_(asset_ids), Job.status == "completed", Job.id.not_in(job_ids))
            .order_by(Job.asset_id, Job.completed_at.desc())
        )
        per_asset: dict[UUID, int] = defaultdict(int)
        for h in history:
            per_asset[h.asset_id] += 1
            if per_asset[h.asset_id] <= HISTORY_PER_ASSET:
                keys.add(f"service_history:{h.id}")
        models = select(Asset.product_model_id).where(Asset.id.in_(asset_ids))
        articles = await db.execute(
            select(KnowledgeArticle.id).where(KnowledgeArticle.product_model_id.in_(models))
        )
        keys |= {f"article:{a}" for a in articles.scalars()}
    keys |= {f"part:{p}" for p in (await db.execute(select(Part.id))).scalars()}
    locations = [
        loc
        for loc in (
            await db.execute(
                select(StockLocation.id).where(
                    or_(StockLocation.kind == "warehouse", StockLocation.engineer_id == uid)
                )
            )
        ).scalars()
    ]
    keys |= {f"location:{loc}" for loc in locations}
    stock = await db.execute(
        select(StockLevel.location_id, StockLevel.part_id).where(
            StockLevel.location_id.in_(locations)
        )
    )
    keys |= {f"stock:{s.location_id}/{s.part_id}" for s in stock}
    requests = await db.execute(select(PartRequest.id).where(PartRequest.engineer_id == uid))
    keys |= {f"part_request:{r}" for r in requests.scalars()}
    return keys


async def audience(
    db: AsyncSession, keys: list[str], now: datetime | None = None
) -> dict[str, set[str] | None]:
    """For each key, the engineers who must hold it now, or None where membership is derived
    from jobs (then its current holders keep it, and scope recomputation adds or removes it)."""
    now = now or datetime.now(UTC)
    everyone: list[str] | None = None
    out: dict[str, set[str] | None] = {}
    for key in keys:
        kind, id_ = split_key(key)
        match kind:
            case "part":
                everyone = everyone if everyone is not None else await engineers(db)
                out[key] = set(everyone)
            case "location" | "stock":
                loc = await db.get(StockLocation, UUID(id_.split("/", 1)[0]))
                if loc is None:
                    out[key] = set()
                elif loc.kind == "warehouse":
                    everyone = everyone if everyone is not None else await engineers(db)
                    out[key] = set(everyone)
                else:
                    out[key] = {str(loc.engineer_id)} if loc.engineer_id else set()
            case "job":
                out[key] = await _job_audience(db, UUID(id_), now)
            case "report":
                job_id = await db.scalar(
                    select(WorkReport.job_id).where(WorkReport.report_id == UUID(id_)).limit(1)
                )
                out[key] = await _job_audience(db, job_id, now) if job_id else set()
            case "part_request":
                request = await db.get(PartRequest, UUID(id_))
                out[key] = {str(request.engineer_id)} if request else set()
            case "user":
                user = await db.get(User, UUID(id_))
                active = user is not None and user.role == "engineer" and user.is_active
                out[key] = {id_} if active else set()
            case _:
                out[key] = None
    return out


async def _job_audience(db: AsyncSession, job_id: UUID, now: datetime) -> set[str]:
    row = (
        await db.execute(select(Job.engineer_id).where(Job.id == job_id, _job_in_window(now)))
    ).first()
    return {str(row.engineer_id)} if row and row.engineer_id else set()
