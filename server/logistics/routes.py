"""HTTP: shipments with their lines and carrier status history, and recording status events.

Logistics, managers and admins read and write; dispatchers read; engineers read only shipments
to their own van (others answer 404). The rules live in :mod:`server.logistics.shipments`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.auth import Principal, requires
from server.database import Db
from server.inventory.stock import checked_time
from server.logistics import shipments
from server.logistics.models import SHIPMENT_STATUSES, Shipment
from server.queries import Limit, Offset
from server.syncing.replication import commit

READERS = requires("engineer", "dispatcher", "logistics", "manager", "admin")
WRITERS = requires("logistics", "manager", "admin")

Status = Literal["picked", "in_transit", "delayed", "damaged", "delivered"]
assert set(get_args(Status)) == set(SHIPMENT_STATUSES)
Tracking = Annotated[str, PathParameter(min_length=1, max_length=60)]


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Status
    at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    place: Annotated[str, msgspec.Meta(max_length=160)] = ""
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


class ShipmentOut(msgspec.Struct):
    id: UUID
    carrier: str
    tracking_number: str
    status: str
    from_location_id: UUID
    to_location_id: UUID
    created_at: datetime
    eta: datetime | None
    delivered_at: datetime | None


class LineOut(msgspec.Struct):
    part_id: UUID
    sku: str
    part_name: str
    qty: int


class EventOut(msgspec.Struct):
    status: str
    at: datetime
    place: str
    note: str


class ShipmentDetailOut(msgspec.Struct):
    shipment: ShipmentOut
    lines: list[LineOut]
    events: list[EventOut]


def shipment_out(s: Shipment) -> ShipmentOut:
    return ShipmentOut(
        s.id,
        s.carrier,
        s.tracking_number,
        s.status,
        s.from_location_id,
        s.to_location_id,
        s.created_at,
        s.eta,
        s.delivered_at,
    )


async def _detail(db: AsyncSession, s: Shipment) -> ShipmentDetailOut:
    lines = [
        LineOut(line.part_id, sku, name, line.qty)
        for line, sku, name in await shipments.lines_of(db, s.id)
    ]
    events = [
        EventOut(e.status, e.at, e.place, e.note) for e in await shipments.events_of(db, s.id)
    ]
    return ShipmentDetailOut(shipment_out(s), lines, events)


@get("/shipments", guards=[READERS], summary="Shipments, newest first (engineers: to their van)")
async def list_shipments(
    request: Request[Principal, Any, Any],
    db_session: Db,
    status: Annotated[Status | None, QueryParameter()] = None,
    to_location_id: Annotated[UUID | None, QueryParameter()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[ShipmentOut]:
    rows = await shipments.list_shipments(
        db_session,
        request.user,
        status=status,
        to_location_id=to_location_id,
        limit=limit,
        offset=offset,
    )
    return [shipment_out(s) for s in rows]


@get("/shipments/{shipment_id:uuid}", guards=[READERS], summary="A shipment with lines and history")
async def get_shipment(
    request: Request[Principal, Any, Any], db_session: Db, shipment_id: FromPath[UUID]
) -> ShipmentDetailOut:
    found = await shipments.get_shipment(db_session, request.user, shipment_id=shipment_id)
    return await _detail(db_session, found)


@get(
    "/shipments/by-tracking/{tracking_number:str}",
    guards=[READERS],
    summary="A shipment found by its carrier tracking number",
)
async def get_by_tracking(
    request: Request[Principal, Any, Any], db_session: Db, tracking_number: Tracking
) -> ShipmentDetailOut:
    found = await shipments.get_shipment(db_session, request.user, tracking_number=tracking_number)
    return await _detail(db_session, found)


@post(
    "/shipments/{shipment_id:uuid}/events",
    guards=[WRITERS],
    summary="Record a carrier status event; delivery receives the stock at the destination",
)
async def add_event(
    request: Request[Principal, Any, Any],
    db_session: Db,
    shipment_id: FromPath[UUID],
    data: JSONBody[EventIn],
) -> ShipmentDetailOut:
    at = checked_time(data.at, "at")
    moved = await shipments.add_event(
        db_session,
        shipment_id=shipment_id,
        status=data.status,
        at=at,
        place=data.place,
        note=data.note,
        actor_id=request.user.id,
    )
    # Commit here (replicas first), so a failed commit is an error, never a lost 2xx.
    await commit(db_session)
    return await _detail(db_session, moved)


HANDLERS: list[ControllerRouterHandler] = [list_shipments, get_shipment, get_by_tracking, add_event]
