"""Shipments: who may see them, how their carrier status moves, and what delivery does to stock.

Rules that must stay true:

- Status moves only along ``TRANSITIONS`` (checked in server order). Repeating a status is a new
  scan (a hub, a new delay note); ``delivered`` is final.
- Each status change is a conditional UPDATE on the status the rule was checked against, so two
  racing events cannot both pass: the loser gets a Conflict and writes nothing.
- Delivering receives every line at the destination as a ``transfer_in`` through the ledger,
  exactly once: only one event can reach ``delivered``, and lines already received for the
  shipment are never received again. The matching ``transfer_out`` at the origin belongs to
  whoever dispatches the shipment and should carry :func:`transfer_ref` so the pair lines up.
- An engineer sees only shipments to their own van; any other shipment does not exist for them
  (404, so existence never leaks). Dispatchers read; logistics, managers and admins also write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.auth import Principal
from server.database import begin_write
from server.errors import Conflict, NotFound
from server.inventory.ledger import record_movement
from server.inventory.models import Part, StockLocation, StockMovement
from server.logistics.models import Shipment, ShipmentEvent, ShipmentLine

TRANSITIONS: dict[str, frozenset[str]] = {
    "picked": frozenset({"picked", "in_transit", "delayed", "delivered"}),
    "in_transit": frozenset({"in_transit", "delayed", "damaged", "delivered"}),
    "delayed": frozenset({"delayed", "in_transit", "damaged", "delivered"}),
    "damaged": frozenset({"damaged", "in_transit", "delayed", "delivered"}),
    "delivered": frozenset(),
}
FINAL = "delivered"


def transfer_ref(shipment_id: UUID) -> str:
    """The ledger ``transfer_ref`` tying a shipment's out and in movements together."""
    return f"SHP-{shipment_id.hex}"


async def _scoped(db: AsyncSession, caller: Principal, query: Select[Any]) -> Select[Any] | None:
    """Narrow a shipment query to what the caller may see; None when they may see nothing."""
    if caller.role != "engineer":
        return query
    van_id = (
        await db.execute(select(StockLocation.id).where(StockLocation.engineer_id == caller.id))
    ).scalar_one_or_none()
    if van_id is None:
        return None
    return query.where(Shipment.to_location_id == van_id)


async def list_shipments(
    db: AsyncSession,
    caller: Principal,
    *,
    status: str | None,
    to_location_id: UUID | None,
    limit: int,
    offset: int,
) -> list[Shipment]:
    """Newest first."""
    query = await _scoped(db, caller, select(Shipment))
    if query is None:
        return []
    if status is not None:
        query = query.where(Shipment.status == status)
    if to_location_id is not None:
        query = query.where(Shipment.to_location_id == to_location_id)
    query = query.order_by(Shipment.created_at.desc(), Shipment.id.desc())
    return list((await db.execute(query.limit(limit).offset(offset))).scalars())


async def get_shipment(
    db: AsyncSession,
    caller: Principal,
    *,
    shipment_id: UUID | None = None,
    tracking_number: str | None = None,
) -> Shipment:
    query = select(Shipment)
    if shipment_id is not None:
        query = query.where(Shipment.id == shipment_id)
    if tracking_number is not None:
        query = query.where(Shipment.tracking_number == tracking_number)
    scoped = await _scoped(db, caller, query)
    found: Shipment | None = None
    if scoped is not None:
        found = (await db.execute(scoped)).scalar_one_or_none()
    if found is None:
        raise NotFound("no such shipment")
    return found


async def lines_of(db: AsyncSession, shipment_id: UUID) -> list[tuple[ShipmentLine, str, str]]:
    """(line, part SKU, part name) in line order."""
    rows = await db.execute(
        select(ShipmentLine, Part.sku, Part.name)
        .join(Part, Part.id == ShipmentLine.part_id)
        .where(ShipmentLine.shipment_id == shipment_id)
        .order_by(ShipmentLine.id)
    )
    return [(line, sku, name) for line, sku, name in rows.tuples()]


async def events_of(db: AsyncSession, shipment_id: UUID) -> list[ShipmentEvent]:
    """The status history by event time (ties in the order they were recorded)."""
    rows = await db.execute(
        select(ShipmentEvent)
        .where(ShipmentEvent.shipment_id == shipment_id)
        .order_by(ShipmentEvent.at, ShipmentEvent.id)
    )
    return list(rows.scalars())


async def add_event(
    db: AsyncSession,
    *,
    shipment_id: UUID,
    status: str,
    at: datetime,
    place: str,
    note: str,
    actor_id: UUID | None,
) -> Shipment:
    """Append a carrier status event and move the shipment's status; delivery receives stock."""
    await begin_write(db)
    shipment = await db.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound("no such shipment")
    current = shipment.status
    if status not in TRANSITIONS.get(current, frozenset()):
        why = "it is delivered already" if current == FINAL else f"it is {current}"
        raise Conflict(f"a shipment cannot become {status}: {why}", field="status")
    values: dict[str, Any] = {"status": status}
    if status == FINAL:
        values["delivered_at"] = at
    moved = await db.execute(
        update(Shipment)
        .where(Shipment.id == shipment_id, Shipment.status == current)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise Conflict("the shipment changed meanwhile; reload and retry", field="status")
    db.add(ShipmentEvent(shipment_id=shipment_id, status=status, at=at, place=place, note=note))
    if status == FINAL:
        await _receive(db, shipment, at=at, actor_id=actor_id)
    await db.flush()
    await db.refresh(shipment)
    return shipment


async def _receive(
    db: AsyncSession, shipment: Shipment, *, at: datetime, actor_id: UUID | None
) -> None:
    already = (
        await db.execute(
            select(
                exists().where(
                    StockMovement.shipment_id == shipment.id,
                    StockMovement.kind == "transfer_in",
                )
            )
        )
    ).scalar_one()
    if already:
        return
    for line, _sku, _name in await lines_of(db, shipment.id):
        await record_movement(
            db,
            part_id=line.part_id,
            location_id=shipment.to_location_id,
            kind="transfer_in",
            qty_delta=line.qty,
            at=at,
            actor_id=actor_id,
            shipment_id=shipment.id,
            transfer_ref=transfer_ref(shipment.id),
            note=f"shipment {shipment.tracking_number}",
        )
