"""Where can an engineer get a part: their own van first, then the nearest places that have it.

The own van always comes first, even empty (the engineer needs to know it is empty); other
warehouses and vans appear only with stock available (on hand minus reserved), nearest first by
geodesic distance from the given point, else from the engineer's van, else their home base.
With a radius, the indexed (lat, lon) bounding box narrows the rows before exact distances.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.errors import Invalid
from server.geo import bounding_box, distance_km
from server.inventory.catalogue import get_part
from server.inventory.models import StockLevel, StockLocation
from server.inventory.wire import AvailabilityOut, StockAtOut


async def own_van(db: AsyncSession, engineer_id: UUID) -> StockLocation | None:
    return (
        await db.execute(select(StockLocation).where(StockLocation.engineer_id == engineer_id))
    ).scalar_one_or_none()


async def availability(
    db: AsyncSession,
    *,
    part_id: UUID,
    engineer_id: UUID,
    point: tuple[float, float] | None,
    radius_km: float | None,
    limit: int,
) -> AvailabilityOut:
    part = await get_part(db, part_id)
    van = await own_van(db, engineer_id)
    origin = point or await _default_origin(db, engineer_id, van)
    found: list[StockAtOut] = []
    if van is not None:
        level = (
            await db.execute(
                select(StockLevel.on_hand, StockLevel.reserved).where(
                    StockLevel.part_id == part.id, StockLevel.location_id == van.id
                )
            )
        ).first()
        on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
        found.append(_stock_at(van, origin, on_hand, reserved, own=True))

    query = (
        select(StockLocation, StockLevel.on_hand, StockLevel.reserved)
        .join(StockLevel, StockLevel.location_id == StockLocation.id)
        .where(StockLevel.part_id == part.id, StockLevel.on_hand - StockLevel.reserved > 0)
    )
    if van is not None:
        query = query.where(StockLocation.id != van.id)
    if radius_km is not None:
        min_lat, max_lat, min_lon, max_lon = bounding_box(origin[0], origin[1], radius_km)
        query = query.where(StockLocation.lat.between(min_lat, max_lat))
        if min_lon >= -180 and max_lon <= 180:  # a box across the antimeridian: latitude only
            query = query.where(StockLocation.lon.between(min_lon, max_lon))
    others = [
        _stock_at(loc, origin, on_hand, reserved, own=False)
        for loc, on_hand, reserved in (await db.execute(query)).tuples()
    ]
    if radius_km is not None:
        others = [o for o in others if o.distance_km <= radius_km]
    others.sort(key=lambda o: (o.distance_km, o.code))
    found.extend(others[: max(limit - len(found), 0)])
    return AvailabilityOut(part.id, origin[0], origin[1], found)


async def _default_origin(
    db: AsyncSession, engineer_id: UUID, van: StockLocation | None
) -> tuple[float, float]:
    if van is not None:
        return van.lat, van.lon
    home = (
        await db.execute(select(User.home_lat, User.home_lon).where(User.id == engineer_id))
    ).first()
    if home is None or home.home_lat is None or home.home_lon is None:
        raise Invalid("give lat and lon: you have no van or home base to measure from", field="lat")
    return home.home_lat, home.home_lon


def _stock_at(
    loc: StockLocation, origin: tuple[float, float], on_hand: int, reserved: int, *, own: bool
) -> StockAtOut:
    return StockAtOut(
        location_id=loc.id,
        code=loc.code,
        name=loc.name,
        kind=loc.kind,
        own_van=own,
        lat=loc.lat,
        lon=loc.lon,
        distance_km=round(distance_km(origin, (loc.lat, loc.lon)), 3),
        on_hand=on_hand,
        reserved=reserved,
        available=on_hand - reserved,
    )
