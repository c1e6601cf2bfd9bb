"""HTTP: the parts catalogue, part availability, stock levels, the ledger and transfers.

Who may do what: everyone signed in reads the catalogue; engineers look up availability and
their own van; logistics, managers and admins change stock (dispatchers read it). Every change
goes through :mod:`server.inventory.ledger`, and write handlers commit (with replication)
themselves so a failed commit can never hide behind a 2xx already sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from server.accounts.auth import Principal, requires
from server.database import Db, begin_write
from server.errors import Invalid
from server.inventory import availability as avail
from server.inventory import catalogue, ledger, stock
from server.inventory.models import MOVEMENT_KINDS
from server.inventory.wire import (
    AvailabilityOut,
    LevelOut,
    LocationOut,
    MovementIn,
    MovementOut,
    PartOut,
    TransferIn,
    TransferOut,
    VanOut,
    location_out,
    movement_out,
    part_out,
)
from server.queries import Limit, Offset
from server.syncing.replication import commit

STOCK_READERS = requires("dispatcher", "logistics", "manager", "admin")
STOCK_WRITERS = requires("logistics", "manager", "admin")
ENGINEERS = requires("engineer")

SearchText = Annotated[str | None, QueryParameter(min_length=1, max_length=80)]
ModelCode = Annotated[str | None, QueryParameter(min_length=1, max_length=40)]
OptionalLat = Annotated[float | None, QueryParameter(ge=-90, le=90)]
OptionalLon = Annotated[float | None, QueryParameter(ge=-180, le=180)]
Radius = Annotated[float | None, QueryParameter(gt=0, le=20_000, description="km")]
Kind = Annotated[str | None, QueryParameter(pattern="^(" + "|".join(MOVEMENT_KINDS) + ")$")]
LocationKind = Annotated[Literal["warehouse", "van"] | None, QueryParameter()]
OptionalId = Annotated[UUID | None, QueryParameter()]
Since = Annotated[datetime | None, QueryParameter(description="inclusive, with time zone")]
Until = Annotated[datetime | None, QueryParameter(description="exclusive, with time zone")]


@get("/parts", summary="Search the parts catalogue (name in zh/en, SKU prefix, product model)")
async def search_parts(
    db_session: Db,
    q: SearchText = None,
    model: ModelCode = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[PartOut]:
    parts = await catalogue.search_parts(db_session, q=q, model=model, limit=limit, offset=offset)
    return [part_out(p) for p in parts]


@get("/parts/{part_id:uuid}", summary="One catalogue part")
async def get_part(db_session: Db, part_id: FromPath[UUID]) -> PartOut:
    return part_out(await catalogue.get_part(db_session, part_id))


@get(
    "/parts/{part_id:uuid}/availability",
    guards=[ENGINEERS],
    summary="Where to get a part: own van first, then nearest locations with stock",
)
async def part_availability(
    request: Request[Principal, Any, Any],
    db_session: Db,
    part_id: FromPath[UUID],
    lat: OptionalLat = None,
    lon: OptionalLon = None,
    radius_km: Radius = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
) -> AvailabilityOut:
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon, or neither", field="lon" if lon is None else "lat")
    point = (lat, lon) if lat is not None and lon is not None else None
    return await avail.availability(
        db_session,
        part_id=part_id,
        engineer_id=request.user.id,
        point=point,
        radius_km=radius_km,
        limit=limit,
    )


@get("/me/van", guards=[ENGINEERS], summary="The calling engineer's van and its stock")
async def my_van(
    request: Request[Principal, Any, Any],
    db_session: Db,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 500,
    offset: Offset = 0,
) -> VanOut:
    van = await avail.own_van(db_session, request.user.id)
    if van is None:
        return VanOut(None, [])
    levels = await stock.van_levels(db_session, van.id, limit=limit, offset=offset)
    return VanOut(location_out(van), levels)


@get("/stock/levels", guards=[STOCK_READERS], summary="Stock levels, optionally only below reorder")
async def stock_levels(
    db_session: Db,
    location_id: OptionalId = None,
    part_id: OptionalId = None,
    below_reorder: Annotated[bool, QueryParameter()] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[LevelOut]:
    return await stock.list_levels(
        db_session,
        location_id=location_id,
        part_id=part_id,
        below_reorder=below_reorder,
        limit=limit,
        offset=offset,
    )


@get("/stock/movements", guards=[STOCK_READERS], summary="The stock ledger, newest first")
async def stock_movements(
    db_session: Db,
    part_id: OptionalId = None,
    location_id: OptionalId = None,
    kind: Kind = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[MovementOut]:
    rows = await stock.list_movements(
        db_session,
        part_id=part_id,
        location_id=location_id,
        kind=kind,
        since=stock.aware(since, "since"),
        until=stock.aware(until, "until"),
        limit=limit,
        offset=offset,
    )
    return [movement_out(m) for m in rows]


@post(
    "/stock/movements",
    guards=[STOCK_WRITERS],
    summary="Record a receipt, adjustment or return (consumption comes only from jobs)",
)
async def record_movement(
    request: Request[Principal, Any, Any], db_session: Db, data: JSONBody[MovementIn]
) -> MovementOut:
    at = stock.checked_time(data.at, "at")
    await begin_write(db_session)
    movement = await ledger.record_movement(
        db_session,
        part_id=data.part_id,
        location_id=data.location_id,
        kind=data.kind,
        qty_delta=data.qty_delta,
        at=at,
        actor_id=request.user.id,
        note=data.note,
    )
    # Commit here, not in the after-response autocommit, so a failed commit is an error
    # response rather than a lost 2xx; commit() brings engineers' replicas along first.
    await commit(db_session)
    return movement_out(movement)


@post(
    "/stock/transfers",
    guards=[STOCK_WRITERS],
    summary="Move stock between locations (refused if the source lacks it)",
)
async def transfer_stock(
    request: Request[Principal, Any, Any], db_session: Db, data: JSONBody[TransferIn]
) -> TransferOut:
    at = stock.checked_time(data.at, "at")
    await begin_write(db_session)
    out, into = await ledger.transfer(
        db_session,
        part_id=data.part_id,
        from_location_id=data.from_location_id,
        to_location_id=data.to_location_id,
        qty=data.qty,
        at=at,
        actor_id=request.user.id,
        note=data.note,
    )
    await commit(db_session)
    return TransferOut(out.transfer_ref, movement_out(out), movement_out(into))


@get("/locations", guards=[STOCK_READERS], summary="Warehouses and vans, with coordinates")
async def locations(
    db_session: Db, kind: LocationKind = None, limit: Limit = 500, offset: Offset = 0
) -> list[LocationOut]:
    rows = await stock.list_locations(db_session, kind=kind, limit=limit, offset=offset)
    return [location_out(loc) for loc in rows]


@get(
    "/stock/ledger-check",
    guards=[requires("admin")],
    summary="Levels that differ from the sum of their movements (empty when sound)",
)
async def ledger_check(db_session: Db) -> list[ledger.LedgerMismatch]:
    return await ledger.verify_ledger(db_session)


HANDLERS: list[ControllerRouterHandler] = [
    search_parts,
    get_part,
    part_availability,
    my_van,
    stock_levels,
    stock_movements,
    record_movement,
    transfer_stock,
    locations,
    ledger_check,
]
