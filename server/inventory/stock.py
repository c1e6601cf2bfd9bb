"""Reading stock: levels per location, the ledger, and the locations themselves.

Writes never happen here — they go through :mod:`server.inventory.ledger`. A level is
``below_reorder_point`` when what can still be promised (on hand minus reserved) is under its
reorder point; an overdrawn level (negative on hand) is therefore always flagged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Invalid
from server.inventory.models import Part, StockLevel, StockLocation, StockMovement
from server.inventory.wire import LevelOut

# How far ahead of the server clock a hand-entered time may be (clock drift, not typos).
MAX_FUTURE = timedelta(minutes=5)


def checked_time(at: datetime | None, field: str) -> datetime:
    """A time a person typed: now when absent; zone-aware and not in the future, or Invalid."""
    now = datetime.now(UTC)
    if at is None:
        return now
    if at.tzinfo is None:
        raise Invalid("give the time with a time zone", field=field)
    if at > now + MAX_FUTURE:
        raise Invalid("the time is in the future", field=field)
    return at


def aware(at: datetime | None, field: str) -> datetime | None:
    """A query bound: zone-aware or Invalid (a naive bound has no single meaning)."""
    if at is not None and at.tzinfo is None:
        raise Invalid("give the time with a time zone", field=field)
    return at


def _levels_query() -> Select[Any]:
    return (
        select(StockLevel, Part.sku, Part.name, Part.name_en, StockLocation.code)
        .join(Part, Part.id == StockLevel.part_id)
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .order_by(StockLocation.code, Part.sku)
    )


async def list_levels(
    db: AsyncSession,
    *,
    location_id: UUID | None,
    part_id: UUID | None,
    below_reorder: bool,
    limit: int,
    offset: int,
) -> list[LevelOut]:
    query = _levels_query()
    if location_id is not None:
        query = query.where(StockLevel.location_id == location_id)
    if part_id is not None:
        query = query.where(StockLevel.part_id == part_id)
    if below_reorder:
        query = query.where(StockLevel.on_hand - StockLevel.reserved < StockLevel.reorder_point)
    return await _levels(db, query.limit(limit).offset(offset))


async def _levels(db: AsyncSession, query: Select[Any]) -> list[LevelOut]:
    out = []
    for level, sku, name, name_en, code in (await db.execute(query)).tuples():
        available = level.on_hand - level.reserved
        out.append(
            LevelOut(
                part_id=level.part_id,
                sku=sku,
                part_name=name,
                part_name_en=name_en,
                location_id=level.location_id,
                location_code=code,
                on_hand=level.on_hand,
                reserved=level.reserved,
                available=available,
                reorder_point=level.reorder_point,
                below_reorder_point=available < level.reorder_point,
                updated_at=level.updated_at,
            )
        )
    return out


async def van_levels(db: AsyncSession, van_id: UUID, *, limit: int, offset: int) -> list[LevelOut]:
    query = _levels_query().where(StockLevel.location_id == van_id)
    return await _levels(db, query.limit(limit).offset(offset))


async def list_movements(
    db: AsyncSession,
    *,
    part_id: UUID | None,
    location_id: UUID | None,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[StockMovement]:
    """The ledger, newest first (ties by insertion order, so paging is stable)."""
    query = select(StockMovement)
    if part_id is not None:
        query = query.where(StockMovement.part_id == part_id)
    if location_id is not None:
        query = query.where(StockMovement.location_id == location_id)
    if kind is not None:
        query = query.where(StockMovement.kind == kind)
    if since is not None:
        query = query.where(StockMovement.at >= since)
    if until is not None:
        query = query.where(StockMovement.at < until)
    query = query.order_by(StockMovement.at.desc(), StockMovement.id.desc())
    return list((await db.execute(query.limit(limit).offset(offset))).scalars())


async def list_locations(
    db: AsyncSession, *, kind: str | None, limit: int, offset: int
) -> list[StockLocation]:
    query = select(StockLocation)
    if kind is not None:
        query = query.where(StockLocation.kind == kind)
    query = query.order_by(StockLocation.kind.desc(), StockLocation.code)
    return list((await db.execute(query.limit(limit).offset(offset))).scalars())
