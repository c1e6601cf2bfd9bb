"""Repair reports (versioned, append-only), part usage, signatures and customer sign-off links."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import Boolean, ForeignKey, Integer, Select, String, Text, UniqueConstraint, func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from server.database import in_list


class WorkReport(UUIDv7Base):
    """One version of a job's repair report. A new submission is a new row, never an update.

    ``report_id`` is the logical report (the UUID the device chose), shared by its versions;
    ``id`` names one version. ``parts`` keeps the parts list exactly as submitted (order
    included), because it is part of the content a customer's signature is bound to
    (``sync.canonical.report_hash``); stock moves through ``part.consume``, not through reports.
    """

    __tablename__ = "work_reports"
    __table_args__ = (
        UniqueConstraint("job_id", "version"),
        UniqueConstraint("report_id", "version"),
    )

    report_id: Mapped[UUID] = mapped_column(GUID, index=True)
    job_id: Mapped[UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    diagnosis: Mapped[str] = mapped_column(Text)
    root_cause_category: Mapped[str] = mapped_column(String(64))  # protocol codes ≤ 64
    root_cause: Mapped[str] = mapped_column(Text)
    prevention: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text)
    labour_minutes: Mapped[int] = mapped_column(Integer)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    content_sha256: Mapped[str] = mapped_column(String(64))
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC)


def _latest_versions(by: Literal["report_id", "job_id"]) -> Select[tuple[WorkReport]]:
    older = aliased(WorkReport)
    column, same = getattr(WorkReport, by), getattr(older, by)
    newest = sql_select(func.max(older.version)).where(same == column).scalar_subquery()
    return sql_select(WorkReport).where(column.in_(in_list()), WorkReport.version == newest)


LATEST_VERSIONS = {by: _latest_versions(by) for by in ("report_id", "job_id")}
"""``LATEST_VERSIONS[by]`` with ``{"ids": [...]}``: the latest version of each of these reports
(``by="report_id"``) or of these jobs' reports (``by="job_id"``; a job has one logical report).
Reads one row per report whatever the number of versions (a unique ``(…, version)`` index
answers the ``max``)."""


class PartUsage(UUIDv7Base):
    __tablename__ = "part_usages"

    job_id: Mapped[UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    report_id: Mapped[UUID | None] = mapped_column(ForeignKey("work_reports.id"), nullable=True)
    part_id: Mapped[UUID] = mapped_column(ForeignKey("parts.id"))
    location_id: Mapped[UUID] = mapped_column(ForeignKey("stock_locations.id"))
    qty: Mapped[int] = mapped_column(Integer)
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movements.id"), nullable=True)
    used_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class Signature(UUIDv7Base):
    """A customer's signature, bound to the SHA-256 of the exact report content it signed."""

    __tablename__ = "signatures"

    report_id: Mapped[UUID] = mapped_column(ForeignKey("work_reports.id"), unique=True)
    signer_name: Mapped[str] = mapped_column(String(200))  # protocol names ≤ 200
    image_sha256: Mapped[str] = mapped_column(String(64))
    report_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    channel: Mapped[str] = mapped_column(String(10), default="device")
    # Never loaded (code sets ``report_id``): it tells the unit of work to insert a report
    # version before a signature of it when one push adds both.
    report: Mapped[WorkReport] = relationship(lazy="raise")


class SignoffLink(UUIDv7Base):
    """A one-time customer link: stored as a hash, single use, expiring, for one report version."""

    __tablename__ = "signoff_links"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    report_id: Mapped[UUID] = mapped_column(ForeignKey("work_reports.id"), index=True)
    created_by: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
