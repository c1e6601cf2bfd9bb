"""Complaints: owner, answer deadline and an escalation ladder."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class Complaint(UUIDv7Base):
    __tablename__ = "complaints"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    job_id: Mapped[UUID | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    owner_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    deadline: Mapped[datetime] = mapped_column(DateTimeUTC)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    cause: Mapped[str] = mapped_column(Text, default="")
    responsibility: Mapped[str] = mapped_column(String(40), default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
