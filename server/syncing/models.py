"""Devices known to the sync protocol (the change log and operation log come with the sync core)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column


class Device(UUIDBase):
    """A client install; ``id`` is the UUID the device generated for itself."""

    __tablename__ = "devices"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
