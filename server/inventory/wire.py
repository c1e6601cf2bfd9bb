"""What the inventory endpoints accept and return (msgspec Structs).

Inputs forbid unknown fields and carry their bounds, so a bad request is a 400 naming the field
before any rule runs. New fields get defaults; a field's type never changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from server.inventory.models import Part, StockLocation, StockMovement

Qty = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Delta = Annotated[int, msgspec.Meta(ge=-100_000, le=100_000)]
Note = Annotated[str, msgspec.Meta(max_length=300)]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


class MovementIn(msgspec.Struct, forbid_unknown_fields=True):
    """A movement logistics records by hand. Consumption only ever comes from jobs."""

    part_id: UUID
    location_id: UUID
    kind: Literal["receipt", "adjustment", "return"]
    qty_delta: Delta
    at: AwareTime | None = None
    note: Note = ""


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    part_id: UUID
    from_location_id: UUID
    to_location_id: UUID
    qty: Qty
    at: AwareTime | None = None
    note: Note = ""


class PartOut(msgspec.Struct):
    id: UUID
    sku: str
    name: str
    name_en: str
    description: str
    unit: str
    unit_price_cents: int
    compatible_models: list[str]


class LocationOut(msgspec.Struct):
    id: UUID
    code: str
    name: str
    kind: str
    engineer_id: UUID | None
    lat: float
    lon: float
    address: str


class LevelOut(msgspec.Struct):
    part_id: UUID
    sku: str
    part_name: str
    part_name_en: str
    location_id: UUID
    location_code: str
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    below_reorder_point: bool
    updated_at: datetime


class VanOut(msgspec.Struct):
    """The caller's van and its stock; ``van`` is null for an engineer without one."""

    van: LocationOut | None
    levels: list[LevelOut]


class MovementOut(msgspec.Struct):
    id: int
    part_id: UUID
    location_id: UUID
    kind: str
    qty_delta: int
    at: datetime
    recorded_at: datetime
    actor_id: UUID | None
    job_id: UUID | None
    shipment_id: UUID | None
    transfer_ref: str
    overdraw: bool
    note: str


class TransferOut(msgspec.Struct):
    transfer_ref: str
    out: MovementOut
    into: MovementOut


class StockAtOut(msgspec.Struct):
    """One location's stock of a part, as the engineer looking for it sees it."""

    location_id: UUID
    code: str
    name: str
    kind: str
    own_van: bool
    lat: float
    lon: float
    distance_km: float
    on_hand: int
    reserved: int
    available: int


class AvailabilityOut(msgspec.Struct):
    part_id: UUID
    origin_lat: float
    origin_lon: float
    locations: list[StockAtOut]


def part_out(part: Part) -> PartOut:
    return PartOut(
        part.id,
        part.sku,
        part.name,
        part.name_en,
        part.description,
        part.unit,
        part.unit_price_cents,
        list(part.compatible_models),
    )


def location_out(loc: StockLocation) -> LocationOut:
    return LocationOut(
        loc.id, loc.code, loc.name, loc.kind, loc.engineer_id, loc.lat, loc.lon, loc.address
    )


def movement_out(m: StockMovement) -> MovementOut:
    return MovementOut(
        m.id,
        m.part_id,
        m.location_id,
        m.kind,
        m.qty_delta,
        m.at,
        m.recorded_at,
        m.actor_id,
        m.job_id,
        m.shipment_id,
        m.transfer_ref,
        m.overdraw,
        m.note,
    )
