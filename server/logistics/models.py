"""Shipments of parts between locations, with their carrier status history."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

SHIPMENT_STATUSES = ("picked", "in_transit", "delayed", "damaged", "delivered")


class Shipment(UUIDv7Base):
    __tablename__ = "shipments"

    carrier: Mapped[str] = mapped_column(String(60))
    tracking_number: Mapped[str] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    from_location_id: Mapped[UUID] = mapped_column(ForeignKey("stock_locations.id"))
    to_location_id: Mapped[UUID] = mapped_column(ForeignKey("stock_locations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC, index=True)
    eta: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)


class ShipmentLine(UUIDv7Base):
    __tablename__ = "shipment_lines"

    shipment_id: Mapped[UUID] = mapped_column(ForeignKey("shipments.id"), index=True)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    qty: Mapped[int] = mapped_column(Integer)


class ShipmentEvent(UUIDv7Base):
    __tablename__ = "shipment_events"

    shipment_id: Mapped[UUID] = mapped_column(ForeignKey("shipments.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTimeUTC)
    place: Mapped[str] = mapped_column(String(160), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
