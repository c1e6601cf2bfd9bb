"""Parts, stock locations (warehouses and vans) and the append-only stock ledger.

Stock levels are kept consistent with the ledger: every movement updates its level row in the
same transaction (see ``server/inventory/ledger.py``), and a test checks sum(movements) == on hand.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import BigIntBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

MOVEMENT_KINDS = ("receipt", "transfer_out", "transfer_in", "consumption", "adjustment", "return")


class Part(UUIDv7Base):
    __tablename__ = "parts"

    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    name_en: Mapped[str] = mapped_column(String(160), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(10), default="pc")
    unit_price_cents: Mapped[int] = mapped_column(Integer, default=0)
    # Product model codes this part fits; a JSON list keeps the catalogue one row per part.
    compatible_models: Mapped[list[str]] = mapped_column(JsonB, default=list)


class StockLocation(UUIDv7Base):
    __tablename__ = "stock_locations"
    __table_args__ = (Index("ix_stock_locations_lat_lon", "lat", "lon"),)

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(10))  # warehouse | van
    engineer_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("users.id"), nullable=True, unique=True
    )
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")


class StockLevel(UUIDv7Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        Index("ux_stock_levels_part_location", "part_id", "location_id", unique=True),
    )

    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("stock_locations.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    reorder_point: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class StockMovement(BigIntBase):
    """One ledger line. Never updated or deleted; corrections are new ``adjustment`` lines."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_part_location", "part_id", "location_id"),
        Index("ix_stock_movements_location_at", "location_id", "at"),
    )

    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("stock_locations.id"))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    qty_delta: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTimeUTC, index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    actor_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    job_id: Mapped[UUID | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    shipment_id: Mapped[UUID | None] = mapped_column(ForeignKey("shipments.id"), nullable=True)
    transfer_ref: Mapped[str] = mapped_column(String(40), default="")
    overdraw: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")


class PartRequest(UUIDv7Base):
    __tablename__ = "part_requests"

    job_id: Mapped[UUID | None] = mapped_column(ForeignKey("jobs.id"), nullable=True, index=True)
    engineer_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    qty: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    note: Mapped[str] = mapped_column(String(2000), default="")  # PROTOCOL.md: comments ≤ 2,000
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    shipment_id: Mapped[UUID | None] = mapped_column(ForeignKey("shipments.id"), nullable=True)
