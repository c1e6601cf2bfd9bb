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
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.customers.models import Asset
from server.database import in_chunks, in_list
from server.inventory.models import Part, PartRequest, StockLevel, StockLocation
from server.jobs.models import Job
from server.knowledge.models import KnowledgeArticle
from server.reports.models import WorkReport
from sync.kinds import split_key

CLOSED_DAYS = 14
HISTORY_PER_ASSET = 10
CLOSED = ("completed", "cancelled")


# The rules' queries, built once (``in_list``); ``since`` is the start of the closed-jobs window.
_IN_WINDOW = or_(Job.status.not_in(CLOSED), Job.updated_at >= bindparam("since"))
_LOCATIONS = select(StockLocation.id, StockLocation.kind, StockLocation.engineer_id).where(
    StockLocation.id.in_(in_list())
)
_REPORT_JOBS = (
    select(WorkReport.report_id, WorkReport.job_id)
    .where(WorkReport.report_id.in_(in_list()))
    .distinct()
)
_JOB_ENGINEERS = select(Job.id, Job.engineer_id).where(Job.id.in_(in_list()), _IN_WINDOW)
_REQUESTERS = select(PartRequest.id, PartRequest.engineer_id).where(PartRequest.id.in_(in_list()))
_ACTIVE = select(User.id).where(
    User.id.in_(in_list()), User.role == "engineer", User.is_active.is_(True)
)
_COMPLETED_ON_ASSETS = select(
    Job.id, Job.asset_id, Job.engineer_id, _IN_WINDOW.label("in_window")
).where(Job.id.in_(in_list()), Job.status == "completed", Job.asset_id.is_not(None))
_ASSET_ENGINEERS = (
    select(Job.asset_id, Job.engineer_id)
    .where(Job.asset_id.in_(in_list()), Job.engineer_id.is_not(None), _IN_WINDOW)
    .distinct()
)
_ENGINEERS = select(User.id).where(User.role == "engineer", User.is_active.is_(True))


async def engineers(db: AsyncSession) -> list[str]:
    return [str(u) for u in (await db.execute(_ENGINEERS)).scalars()]


async def scope_keys(db: AsyncSession, user_id: str, now: datetime | None = None) -> set[str]:
    """Every document key in the engineer's scope right now."""
    now = now or datetime.now(UTC)
    uid = UUID(user_id)
    keys = {f"user:{user_id}"}
    jobs = (
        await db.execute(
            select(Job.id, Job.customer_id, Job.site_id, Job.asset_id).where(
                Job.engineer_id == uid, _IN_WINDOW
            ),
            {"since": now - timedelta(days=CLOSED_DAYS)},
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
    from jobs (then its current holders keep it, and scope recomputation adds or removes it).
    One query per kind of document, whatever the number of keys."""
    now = now or datetime.now(UTC)
    ids: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        kind, id_ = split_key(key)
        ids[kind].append(id_)
    location_of = {i: UUID(i.split("/", 1)[0]) for i in ids["location"] + ids["stock"]}
    since = now - timedelta(days=CLOSED_DAYS)
    locations = {r.id: r for r in await _rows(db, _LOCATIONS, set(location_of.values()))}
    reports = await _rows(db, _REPORT_JOBS, {UUID(i) for i in ids["report"]})
    job_of_report = {str(r.report_id): r.job_id for r in reports}
    engineer_of_job = {
        r.id: {str(r.engineer_id)} if r.engineer_id else set()
        for r in await _rows(
            db,
            _JOB_ENGINEERS,
            {UUID(i) for i in ids["job"]} | set(job_of_report.values()),
            since=since,
        )
    }
    requests = await _rows(db, _REQUESTERS, {UUID(i) for i in ids["part_request"]})
    requester = {str(r.id): {str(r.engineer_id)} for r in requests}
    active = {str(r.id) for r in await _rows(db, _ACTIVE, {UUID(i) for i in ids["user"]})}
    warehouses = any(loc.kind == "warehouse" for loc in locations.values())
    everyone = set(await engineers(db)) if ids["part"] or warehouses else set()

    def of_location(id_: str) -> set[str]:
        loc = locations.get(location_of[id_])
        if loc is None:
            return set()
        if loc.kind == "warehouse":
            return set(everyone)
        return {str(loc.engineer_id)} if loc.engineer_id else set()

    out: dict[str, set[str] | None] = {}
    for key in keys:
        kind, id_ = split_key(key)
        match kind:
            case "part":
                out[key] = set(everyone)
            case "location" | "stock":
                out[key] = of_location(id_)
            case "job":
                out[key] = set(engineer_of_job.get(UUID(id_), ()))
            case "report":
                job_id = job_of_report.get(id_)
                out[key] = set(engineer_of_job.get(job_id, ())) if job_id else set()
            case "part_request":
                out[key] = set(requester.get(id_, ()))
            case "user":
                out[key] = {id_} if id_ in active else set()
            case _:
                out[key] = None
    return out


async def history_readers(
    db: AsyncSession, job_ids: list[UUID], now: datetime | None = None
) -> dict[UUID, set[str]]:
    """For each *completed* job among ``job_ids``, the engineers whose scope may hold its
    service history: those with an open or recent job on the same asset, except the job's own
    engineer while the job itself is in their scope (it is their ``job:`` document then).
    Whether it is among an engineer's newest ``HISTORY_PER_ASSET`` is for :func:`scope_keys`
    to say: callers reconcile these engineers rather than fan the document out by rule."""
    since = (now or datetime.now(UTC)) - timedelta(days=CLOSED_DAYS)
    jobs = await _rows(db, _COMPLETED_ON_ASSETS, set(job_ids), since=since)
    peers: dict[UUID, set[str]] = defaultdict(set)
    for r in await _rows(db, _ASSET_ENGINEERS, {j.asset_id for j in jobs}, since=since):
        peers[r.asset_id].add(str(r.engineer_id))
    return {
        j.id: peers[j.asset_id] - ({str(j.engineer_id)} if j.in_window else set()) for j in jobs
    }


async def _rows(
    db: AsyncSession, query: Select[Any], ids: set[UUID], **params: Any
) -> list[Row[Any]]:
    """``query`` (a statement with an ``ids`` list parameter) over ``ids`` in chunks (bound
    parameter limits), rows joined; ``params`` are its other parameters."""
    out: list[Row[Any]] = []
    for chunk in in_chunks(sorted(ids)):
        out += (await db.execute(query, {"ids": list(chunk), **params})).all()
    return out
