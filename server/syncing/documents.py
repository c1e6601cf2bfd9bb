"""What a replica holds: each document kind rendered from the database, many at a time.

``render(db, keys)`` answers the bytes of the change each key should have *now*: a put with the
document, or a remove when the row no longer exists. Rendering is batched per kind (one query
per kind for any number of keys) because scope builds and fan-outs render thousands at once.
Documents carry only what an engineer's device needs; secrets and other users' data never do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.customers.models import Asset, Customer, ProductModel, Site
from server.database import in_chunks, in_list
from server.inventory.models import Part, PartRequest, StockLevel, StockLocation
from server.jobs.models import Job, ServiceRequest
from server.knowledge.models import KnowledgeArticle
from server.reports.models import LATEST_VERSIONS, Signature, WorkReport
from sync.changes import encode_put, encode_remove
from sync.kinds import split_key

Doc = dict[str, Any]
Renderer = Callable[[AsyncSession, list[str]], Awaitable[dict[str, tuple[int, Doc]]]]


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ids(ids: Iterable[str]) -> dict[str, list[UUID]]:
    return {"ids": [UUID(i) for i in ids]}


# One statement per kind, built once (``in_list``: building one costs more than running it).
_JOBS = (
    select(Job, ServiceRequest)
    .join(ServiceRequest, ServiceRequest.id == Job.request_id)
    .where(Job.id.in_(in_list()))
)
_CUSTOMERS = select(Customer).where(Customer.id.in_(in_list()))
_SITES = select(Site).where(Site.id.in_(in_list()))
_ASSETS = (
    select(Asset, ProductModel)
    .join(ProductModel, ProductModel.id == Asset.product_model_id)
    .where(Asset.id.in_(in_list()))
)
_HISTORY = (
    select(Job, User.display_name)
    .outerjoin(User, User.id == Job.engineer_id)
    .where(Job.id.in_(in_list()))
)
# The two kinds every scope holds thousands of are read as plain rows, not ORM objects (a first
# replica build renders ~10k documents). Plain rows are also what the database holds now: levels
# move by Core upserts (the ledger), which a loaded ORM object would not show.
_PARTS = select(
    Part.id,
    Part.sku,
    Part.name,
    Part.name_en,
    Part.unit,
    Part.unit_price_cents,
    Part.compatible_models,
    Part.description,
).where(Part.id.in_(in_list()))
_STOCK = select(
    StockLevel.location_id,
    StockLevel.part_id,
    StockLevel.on_hand,
    StockLevel.reserved,
    StockLevel.reorder_point,
).where(tuple_(StockLevel.location_id, StockLevel.part_id).in_(in_list("pairs")))
_LOCATIONS = select(StockLocation).where(StockLocation.id.in_(in_list()))
_ARTICLES = (
    select(KnowledgeArticle, ProductModel.code)
    .join(ProductModel, ProductModel.id == KnowledgeArticle.product_model_id)
    .where(KnowledgeArticle.id.in_(in_list()))
)
_REPORTS = (
    LATEST_VERSIONS["report_id"]
    .add_columns(Signature)
    .outerjoin(Signature, Signature.report_id == WorkReport.id)
)
_PART_REQUESTS = select(PartRequest).where(PartRequest.id.in_(in_list()))
_USERS = select(User).where(User.id.in_(in_list()))


async def _jobs(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_JOBS, _ids(ids))
    out: dict[str, tuple[int, Doc]] = {}
    for job, req in rows.tuples():
        out[str(job.id)] = (
            job.version,
            {
                "number": job.number,
                "status": job.status,
                "summary": job.summary,
                "engineer_id": str(job.engineer_id) if job.engineer_id else None,
                "customer_id": str(job.customer_id),
                "site_id": str(job.site_id),
                "asset_id": str(job.asset_id) if job.asset_id else None,
                "required_skill": job.required_skill,
                "scheduled_start": _iso(job.scheduled_start),
                "scheduled_end": _iso(job.scheduled_end),
                "note": job.note,
                "note_version": job.note_version,
                "is_repeat_visit": job.is_repeat_visit,
                "free_of_charge": job.free_of_charge,
                "updated_at": _iso(job.updated_at),
                "completed_at": _iso(job.completed_at),
                "request": {
                    "number": req.number,
                    "channel": req.channel,
                    "category": req.category,
                    "urgency": req.urgency,
                    "problem": req.problem,
                    "contact_name": req.contact_name,
                    "contact_phone": req.contact_phone,
                    "received_at": _iso(req.received_at),
                    "response_due": _iso(req.response_due),
                    "resolution_due": _iso(req.resolution_due),
                },
            },
        )
    return out


async def _customers(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_CUSTOMERS, _ids(ids))
    return {
        str(c.id): (1, {"name": c.name, "phone": c.phone, "email": c.email}) for c in rows.scalars()
    }


async def _sites(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_SITES, _ids(ids))
    return {
        str(s.id): (
            1,
            {
                "customer_id": str(s.customer_id),
                "name": s.name,
                "address": s.address,
                "lat": s.lat,
                "lon": s.lon,
                "contact_name": s.contact_name,
                "contact_phone": s.contact_phone,
                "notes": s.notes,
            },
        )
        for s in rows.scalars()
    }


async def _assets(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_ASSETS, _ids(ids))
    return {
        str(a.id): (
            1,
            {
                "serial": a.serial,
                "customer_id": str(a.customer_id),
                "site_id": str(a.site_id),
                "model_code": m.code,
                "model_name": m.name,
                "model_category": m.category,
                "install_date": _iso(a.install_date),
                "warranty_end": _iso(a.warranty_end),
            },
        )
        for a, m in rows.tuples()
    }


async def _history(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    """A past job on an asset with the summary of its latest report (id = the job's id)."""
    rows = await db.execute(_HISTORY, _ids(ids))
    jobs = {str(j.id): (j, name) for j, name in rows.tuples()}
    reports: dict[str, WorkReport] = {}
    if jobs:
        latest = await db.execute(
            LATEST_VERSIONS["job_id"], {"ids": [j.id for j, _ in jobs.values()]}
        )
        reports = {str(r.job_id): r for r in latest.scalars()}
    out: dict[str, tuple[int, Doc]] = {}
    for key, (job, engineer_name) in jobs.items():
        rep = reports.get(key)
        out[key] = (
            job.version,
            {
                "asset_id": str(job.asset_id) if job.asset_id else None,
                "number": job.number,
                "status": job.status,
                "summary": job.summary,
                "engineer_name": engineer_name or "",
                "completed_at": _iso(job.completed_at),
                "is_repeat_visit": job.is_repeat_visit,
                "diagnosis": rep.diagnosis if rep else "",
                "root_cause_category": rep.root_cause_category if rep else "",
                "root_cause": rep.root_cause if rep else "",
                "actions": rep.actions if rep else "",
            },
        )
    return out


async def _parts(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_PARTS, _ids(ids))
    return {
        str(p.id): (
            1,
            {
                "sku": p.sku,
                "name": p.name,
                "name_en": p.name_en,
                "unit": p.unit,
                "unit_price_cents": p.unit_price_cents,
                "compatible_models": list(p.compatible_models),
                "description": p.description,
            },
        )
        for p in rows
    }


async def _stock(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    """Stock level of one part at one location; id ``<location_id>/<part_id>``."""
    wanted = {(UUID(loc), UUID(part)): (loc, part) for loc, part in (i.split("/", 1) for i in ids)}
    rows = await db.execute(_STOCK, {"pairs": list(wanted)})
    out: dict[str, tuple[int, Doc]] = {}
    for s in rows:
        location_id, part_id = wanted[(s.location_id, s.part_id)]
        out[f"{location_id}/{part_id}"] = (
            1,
            {
                "location_id": location_id,
                "part_id": part_id,
                "on_hand": s.on_hand,
                "reserved": s.reserved,
                "reorder_point": s.reorder_point,
            },
        )
    return out


async def _locations(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_LOCATIONS, _ids(ids))
    return {
        str(loc.id): (
            1,
            {
                "code": loc.code,
                "name": loc.name,
                "kind": loc.kind,
                "lat": loc.lat,
                "lon": loc.lon,
                "address": loc.address,
                "engineer_id": str(loc.engineer_id) if loc.engineer_id else None,
            },
        )
        for loc in rows.scalars()
    }


async def _articles(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_ARTICLES, _ids(ids))
    return {
        str(a.id): (
            1,
            {
                "model_code": code,
                "title": a.title,
                "body": a.body,
                "root_cause_category": a.root_cause_category,
                "updated_at": _iso(a.updated_at),
            },
        )
        for a, code in rows.tuples()
    }


async def _reports(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    """A report (id = the logical report id the device chose), as its latest version."""
    rows = await db.execute(_REPORTS, _ids(ids))
    latest = {str(r.report_id): (r, sig) for r, sig in rows.tuples()}
    return {
        key: (
            r.version,
            {
                "job_id": str(r.job_id),
                "version": r.version,
                "diagnosis": r.diagnosis,
                "root_cause_category": r.root_cause_category,
                "root_cause": r.root_cause,
                "prevention": r.prevention,
                "actions": r.actions,
                "labour_minutes": r.labour_minutes,
                "parts": list(r.parts),
                "content_sha256": r.content_sha256,
                "signed": r.signed,
                "signer_name": sig.signer_name if sig else None,
                "submitted_at": _iso(r.submitted_at),
            },
        )
        for key, (r, sig) in latest.items()
    }


async def _part_requests(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_PART_REQUESTS, _ids(ids))
    return {
        str(p.id): (
            1,
            {
                "job_id": str(p.job_id) if p.job_id else None,
                "part_id": str(p.part_id),
                "qty": p.qty,
                "status": p.status,
                "note": p.note,
                "created_at": _iso(p.created_at),
            },
        )
        for p in rows.scalars()
    }


async def _users(db: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Doc]]:
    rows = await db.execute(_USERS, _ids(ids))
    return {
        str(u.id): (
            1,
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "phone": u.phone,
                "team": u.team,
                "skills": list(u.skills),
                "locale": u.locale,
                "home_lat": u.home_lat,
                "home_lon": u.home_lon,
            },
        )
        for u in rows.scalars()
    }


RENDERERS: dict[str, Renderer] = {
    "job": _jobs,
    "customer": _customers,
    "site": _sites,
    "asset": _assets,
    "service_history": _history,
    "part": _parts,
    "stock": _stock,
    "location": _locations,
    "article": _articles,
    "report": _reports,
    "part_request": _part_requests,
    "user": _users,
}


async def render(db: AsyncSession, keys: Iterable[str]) -> dict[str, bytes]:
    """The change each document key should carry now: its put, or a remove if it is gone."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        kind, id_ = split_key(key)
        by_kind[kind].append(id_)
    out: dict[str, bytes] = {}
    for kind, ids in by_kind.items():
        for chunk in in_chunks(ids):
            found = await RENDERERS[kind](db, list(chunk))
            for id_ in chunk:
                hit = found.get(id_)
                out[f"{kind}:{id_}"] = (
                    encode_put(kind, id_, hit[0], hit[1]) if hit else encode_remove(kind, id_)
                )
    return out
