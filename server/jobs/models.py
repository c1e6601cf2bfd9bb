"""Service requests (intake) and the jobs (work orders) that resolve them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class ServiceRequest(UUIDv7Base):
    __tablename__ = "service_requests"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[UUID] = mapped_column(ForeignKey("sites.id"))
    asset_id: Mapped[UUID | None] = mapped_column(ForeignKey("assets.id"), nullable=True)
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    problem: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    response_due: Mapped[datetime] = mapped_column(DateTimeUTC)
    resolution_due: Mapped[datetime] = mapped_column(DateTimeUTC)
    responded_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Job(UUIDv7Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_engineer_schedule", "engineer_id", "scheduled_start"),)

    number: Mapped[str] = mapped_column(String(24), unique=True)
    request_id: Mapped[UUID] = mapped_column(ForeignKey("service_requests.id"), index=True)
    engineer_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    asset_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("assets.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    required_skill: Mapped[str] = mapped_column(String(40), default="")
    summary: Mapped[str] = mapped_column(String(300))
    scheduled_start: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    scheduled_end: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    note_version: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_repeat_visit: Mapped[bool] = mapped_column(Boolean, default=False)
    free_of_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)


class JobEvent(UUIDv7Base):
    """Append-only status history: who moved the job where, when (device and server time)."""

    __tablename__ = "job_events"

    job_id: Mapped[UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    actor_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    event_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    note: Mapped[str] = mapped_column(Text, default="")
