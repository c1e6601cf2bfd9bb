"""Customer satisfaction: three 1-5 ratings and a comment per job."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class Feedback(UUIDv7Base):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("attitude BETWEEN 1 AND 5", name="ck_feedback_attitude"),
        CheckConstraint("efficiency BETWEEN 1 AND 5", name="ck_feedback_efficiency"),
        CheckConstraint("quality BETWEEN 1 AND 5", name="ck_feedback_quality"),
    )

    job_id: Mapped[UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    attitude: Mapped[int] = mapped_column(Integer)
    efficiency: Mapped[int] = mapped_column(Integer)
    quality: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10), default="device")
    submitted_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC)
