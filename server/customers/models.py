"""Customers, their sites (with coordinates) and the assets installed there."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class ProductModel(UUIDv7Base):
    __tablename__ = "product_models"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(60))
    warranty_months: Mapped[int] = mapped_column(default=24)


class Customer(UUIDv7Base):
    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(160), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(160), default="")
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class Site(UUIDv7Base):
    __tablename__ = "sites"
    # A bounding-box filter on (lat, lon) uses this index instead of scanning every site.
    __table_args__ = (Index("ix_sites_lat_lon", "lat", "lon"),)

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class Asset(UUIDv7Base):
    __tablename__ = "assets"

    serial: Mapped[str] = mapped_column(String(80), unique=True)
    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    product_model_id: Mapped[UUID] = mapped_column(ForeignKey("product_models.id"), index=True)
    install_date: Mapped[date] = mapped_column(Date)
    warranty_end: Mapped[date] = mapped_column(Date)
