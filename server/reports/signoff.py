"""One-time customer sign-off links: issue, show, sign.

What must stay true (DESIGN §7):

- A token is ``secrets.token_urlsafe(32)`` (256 bits); only its SHA-256 is stored, so the
  database never holds a usable link. The token travels in the URL fragment
  (``/signoff.html#<token>``) and in POST bodies, never in a path or query string that logs keep.
- A link is scoped to one report *version* (``SignoffLink.report_id`` is the version row). When a
  newer version exists, or the version was signed meanwhile (on the device or by another link),
  the link answers ``report_changed``: a customer only ever signs exactly what they were shown.
- Single use: the sign step claims the link with ``UPDATE … WHERE used_at IS NULL`` in the same
  transaction as the signature; a second use (or a concurrent one) gets ``link_used``.
- Links expire (``LINK_HOURS``); an expired link answers ``link_expired``.
- The signature image is a PNG checked like any sync blob (``sync.blobs.validate_blob``: size,
  magic number, hash) and stored content-addressed beside them; the signature is bound to the
  hash of the stored version's canonical form (``server.reports.form``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Final
from uuid import UUID

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.auth import Principal
from server.accounts.models import User
from server.customers.models import Customer, Site
from server.errors import Conflict, DomainError, Invalid, NotFound
from server.feedback.models import Feedback
from server.inventory.models import Part
from server.jobs.access import STAFF
from server.jobs.models import Job
from server.reports.form import report_form, stored_report_hash
from server.reports.models import Signature, SignoffLink, WorkReport
from server.syncing.store import SqlTx
from sync.blobs import validate_blob
from sync.errors import SyncError

LINK_HOURS: Final = 72
MAX_SIGNATURE_BYTES: Final = 512 * 1024
_MAX_BASE64: Final = (MAX_SIGNATURE_BYTES + 2) // 3 * 4
PAGE: Final = "/signoff.html#"
ISSUERS: Final = frozenset({"engineer", "dispatcher", "admin"})

Token = Annotated[str, msgspec.Meta(min_length=16, max_length=128, pattern="^[A-Za-z0-9_-]+$")]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]


class LinkInvalid(DomainError):
    status = 404
    code = "link_invalid"


class LinkUsed(DomainError):
    status = 410
    code = "link_used"


class LinkExpired(DomainError):
    status = 410
    code = "link_expired"


class ReportChanged(DomainError):
    status = 409
    code = "report_changed"


class ReportSigned(Conflict):
    code = "report_signed"


class LinkIn(msgspec.Struct, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None  # the version the issuer saw


class LinkOut(msgspec.Struct):
    path: str
    token: str
    report_id: UUID
    report_version: int
    expires_at: datetime


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Token


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Token
    signer_name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    signature_png: Annotated[str, msgspec.Meta(min_length=1, max_length=_MAX_BASE64)]
    attitude: Rating
    efficiency: Rating
    quality: Rating
    comment: Annotated[str, msgspec.Meta(max_length=2_000)] = ""


class PartLine(msgspec.Struct):
    part_id: str
    qty: int
    sku: str
    name: str
    name_en: str


class SignoffSummary(msgspec.Struct):
    report_id: UUID
    report_version: int
    report_sha256: str
    job_number: str
    job_summary: str
    customer_name: str
    site_name: str
    site_address: str
    engineer_name: str
    diagnosis: str
    root_cause_category: str
    root_cause: str
    prevention: str
    actions: str
    labour_minutes: int
    parts: list[PartLine]
    expires_at: datetime


class SignOut(msgspec.Struct):
    report_id: UUID
    report_version: int
    report_sha256: str
    signed_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


async def _latest_version(db: AsyncSession, report_id: UUID) -> WorkReport | None:
    return (
        await db.execute(
            select(WorkReport)
            .where(WorkReport.report_id == report_id)
            .order_by(WorkReport.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def issue(
    db: AsyncSession, report_id: UUID, data: LinkIn, user: Principal, now: datetime
) -> LinkOut:
    """A new link for the latest version of a report; the engineer only for their own job."""
    latest = await _latest_version(db, report_id)
    job = await db.get(Job, latest.job_id) if latest else None
    mine = job is not None and (
        user.role in STAFF or (user.role == "engineer" and job.engineer_id == user.id)
    )
    if latest is None or not mine or user.role not in ISSUERS:
        raise NotFound("no such report")
    if latest.signed:
        raise ReportSigned(f"version {latest.version} is already signed")
    if data.version is not None and data.version != latest.version:
        raise ReportChanged(
            f"version {data.version} is not the latest; version {latest.version} is",
            latest_version=latest.version,
        )
    token = secrets.token_urlsafe(32)
    link = SignoffLink(
        token_hash=hash_token(token),
        report_id=latest.id,
        created_by=user.id,
        created_at=now,
        expires_at=now + timedelta(hours=LINK_HOURS),
    )
    db.add(link)
    await db.flush()
    return LinkOut(PAGE + token, token, report_id, latest.version, link.expires_at)


@dataclass
class Open:
    link: SignoffLink
    version: WorkReport


async def open_link(db: AsyncSession, token: str, now: datetime, *, lock: bool = False) -> Open:
    """The link and the version it covers, if it can still be signed; else a clear refusal."""
    query = select(SignoffLink).where(SignoffLink.token_hash == hash_token(token))
    link = (await db.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if link is None:
        raise LinkInvalid("this sign-off link is not valid")
    if link.used_at is not None:
        raise LinkUsed("this sign-off link has already been used")
    if link.expires_at <= now:
        raise LinkExpired("this sign-off link has expired")
    version = await db.get(WorkReport, link.report_id)
    if version is None:
        raise LinkInvalid("this sign-off link is not valid")
    latest = await _latest_version(db, version.report_id)
    if version.signed or (latest is not None and latest.version != version.version):
        raise ReportChanged("the report changed or was signed after this link was sent")
    return Open(link, version)


async def summary(db: AsyncSession, opened: Open) -> SignoffSummary:
    version = opened.version
    job = await db.get_one(Job, version.job_id)
    customer = await db.get(Customer, job.customer_id)
    site = await db.get(Site, job.site_id)
    engineer = await db.get(User, job.engineer_id) if job.engineer_id else None
    form: dict[str, Any] = report_form(version)
    ids = [UUID(p["part_id"]) for p in form["parts"]]
    parts = {
        str(p.id): p for p in (await db.execute(select(Part).where(Part.id.in_(ids)))).scalars()
    }
    lines = []
    for item in form["parts"]:
        part = parts.get(item["part_id"])
        lines.append(
            PartLine(
                item["part_id"],
                item["qty"],
                part.sku if part else "",
                part.name if part else "",
                part.name_en if part else "",
            )
        )
    return SignoffSummary(
        report_id=version.report_id,
        report_version=version.version,
        report_sha256=stored_report_hash(version),
        job_number=job.number,
        job_summary=job.summary,
        customer_name=customer.name if customer else "",
        site_name=site.name if site else "",
        site_address=site.address if site else "",
        engineer_name=engineer.display_name if engineer else "",
        diagnosis=version.diagnosis,
        root_cause_category=version.root_cause_category,
        root_cause=version.root_cause,
        prevention=version.prevention,
        actions=version.actions,
        labour_minutes=version.labour_minutes,
        parts=lines,
        expires_at=opened.link.expires_at,
    )


def _png(encoded: str) -> bytes:
    try:
        data = base64.b64decode(encoded.removeprefix("data:image/png;base64,"), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("the signature is not base64", field="signature_png") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise Invalid("the signature image is too large", field="signature_png")
    return data


async def sign(db: AsyncSession, data: SignIn, now: datetime) -> SignOut:
    """Claim the link (single use), store the image, sign the version, record the ratings —
    all in the caller's write transaction."""
    png = _png(data.signature_png)
    try:
        blob = validate_blob(hashlib.sha256(png).hexdigest(), "image/png", png)
    except SyncError as exc:
        raise Invalid(f"the signature is not a PNG image: {exc}", field="signature_png") from None
    opened = await open_link(db, data.token, now, lock=True)
    claimed = await db.execute(
        update(SignoffLink)
        .where(SignoffLink.id == opened.link.id, SignoffLink.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkUsed("this sign-off link has already been used")
    version = opened.version
    digest = stored_report_hash(version)
    await SqlTx(db).put_blob(blob)
    version.signed = True
    job = await db.get_one(Job, version.job_id)
    db.add(
        Signature(
            report_id=version.id,
            signer_name=data.signer_name.strip(),
            image_sha256=blob.sha256,
            report_sha256=digest,
            signed_at=now,
            received_at=now,
            channel="link",
        )
    )
    db.add(
        Feedback(
            job_id=job.id,
            attitude=data.attitude,
            efficiency=data.efficiency,
            quality=data.quality,
            comment=data.comment,
            channel="link",
            submitted_at=now,
            received_at=now,
        )
    )
    await db.flush()
    return SignOut(version.report_id, version.version, digest, now)
