"""Knowledge articles per product model, fed by structured root causes of repairs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class KnowledgeArticle(UUIDv7Base):
    __tablename__ = "knowledge_articles"

    product_model_id: Mapped[UUID] = mapped_column(ForeignKey("product_models.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    root_cause_category: Mapped[str] = mapped_column(String(64), default="")
    source_report_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("work_reports.id"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC)
