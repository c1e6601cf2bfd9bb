"""The business side of a push: what each operation v1 does to the database.

``apply(tx, user_id, op)`` runs inside the engine's per-operation savepoint (``sync.push``): a
``Rejected`` undoes everything the operation did and is recorded as its result, so one bad
operation never blocks the device's queue. The rules and rejection codes are PROTOCOL.md §4;
this module implements them with the server's own rule modules (job state machine and events,
stock ledger, report form) so a change through sync and through the HTTP APIs behaves the same.
Every operation first checks that the engineer holds the job it concerns (``not_assigned``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import DomainError
from server.feedback.models import Feedback
from server.inventory import ledger
from server.inventory.models import Part, PartRequest, StockLevel, StockLocation
from server.jobs.events import move
from server.jobs.models import Job
from server.reports.form import stored_report_hash
from server.reports.models import PartUsage, Signature, WorkReport
from server.syncing.store import SqlTx
from sync import jobstatus
from sync.blobs import pending_flags
from sync.canonical import report_hash
from sync.errors import Rejected
from sync.operations import (
    FeedbackSubmit,
    JobNote,
    JobStatus,
    Operation,
    PartConsume,
    ReportSubmit,
    SignatureCapture,
)
from sync.operations import (
    PartRequest as PartRequestOp,
)
from sync.outcome import OVERDRAW, OVERWRITE, OpOutcome

LOCKED_JOBS = "fieldsync_locked_jobs"


def _uuid(value: str | UUID, what: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(value)
    except ValueError:
        raise Rejected("not_found", f"no such {what}") from None


async def _held_job(db: AsyncSession, user_id: str, job_id: str | UUID) -> Job:
    """The job, locked for this transaction, if the engineer holds it.

    A batch often touches one job many times: after the first operation locked and loaded it,
    the session's identity map answers without another round trip (the lock lasts until
    commit, so the row cannot have changed underneath)."""
    key = _uuid(job_id, "job")
    locked: dict[UUID, Job | None] = db.info.setdefault(LOCKED_JOBS, {})
    if key in locked:
        job = locked[key]
    else:
        query = select(Job).where(Job.id == key).with_for_update()
        job = locked[key] = (await db.execute(query)).scalar_one_or_none()
    if job is None:
        raise Rejected("not_found", "no such job")
    if job.engineer_id is None or str(job.engineer_id) != user_id:
        raise Rejected(
            "not_assigned",
            "this job is no longer assigned to you; your entry is kept on the server for review",
            result={"status": job.status},
        )
    return job


async def apply(tx: SqlTx, user_id: str, op: Operation) -> OpOutcome:
    """Apply one operation. Its writes are flushed here, inside its savepoint, so a database
    constraint it breaks surfaces as this operation's rejection, not as a failed batch."""
    try:
        outcome = await _dispatch(tx, user_id, op)
        await tx.db.flush()
    except Rejected:
        # The savepoint is about to roll back, and row locks taken inside it go with it.
        tx.db.info.pop(LOCKED_JOBS, None)
        raise
    except IntegrityError as exc:
        tx.db.info.pop(LOCKED_JOBS, None)
        raise Rejected("data_conflict", "the operation conflicts with data already stored") from exc
    except DBAPIError as exc:  # e.g. U+0000 in a text, which PostgreSQL cannot store
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            raise  # the database itself is failing: the whole batch retries
        tx.db.info.pop(LOCKED_JOBS, None)
        raise Rejected(
            "invalid_data", "the database cannot store a value in this operation"
        ) from exc
    return outcome


async def _dispatch(tx: SqlTx, user_id: str, op: Operation) -> OpOutcome:
    db = tx.db
    now = datetime.now(UTC)
    match op:
        case JobStatus():
            return await _job_status(db, user_id, op, now)
        case JobNote():
            return await _job_note(db, user_id, op, now)
        case ReportSubmit():
            return await _report_submit(db, user_id, op, now)
        case PartConsume():
            return await _part_consume(db, user_id, op)
        case PartRequestOp():
            return await _part_request(db, user_id, op, now)
        case SignatureCapture():
            return await _signature(tx, user_id, op, now)
        case FeedbackSubmit():
            return await _feedback(db, user_id, op, now)
    raise AssertionError(f"unhandled operation {type(op).__name__}")  # the union is exhaustive


async def _job_status(db: AsyncSession, user_id: str, op: JobStatus, now: datetime) -> OpOutcome:
    job = await _held_job(db, user_id, op.job_id)
    if not jobstatus.transition(job.status, op.base_status, op.to):
        return OpOutcome.applied({"status": job.status, "changed": False})
    try:
        await move(
            db,
            job,
            op.to,
            actor_id=UUID(user_id),
            actor_role="engineer",
            event_at=op.at,
            received_at=now,
            note=op.note,
        )
    except DomainError as exc:  # the server's rules refused what the protocol table allows
        raise Rejected("invalid_transition", exc.detail, result={"status": job.status}) from exc
    return OpOutcome.applied({"status": op.to, "changed": True})


async def _job_note(db: AsyncSession, user_id: str, op: JobNote, now: datetime) -> OpOutcome:
    job = await _held_job(db, user_id, op.job_id)
    old = job.version
    job.note = op.text
    job.note_version += 1
    job.version += 1
    job.updated_at = now
    flags = (OVERWRITE,) if op.base_version != old else ()
    return OpOutcome.applied({"version": job.version, "overwrote_version": old}, flags)


async def _parts_exist(db: AsyncSession, ids: set[UUID]) -> None:
    if not ids:
        return
    found = await db.scalar(select(func.count()).select_from(Part).where(Part.id.in_(ids)))
    if found != len(ids):
        raise Rejected("not_found", "the report lists a part that does not exist")


async def _report_submit(
    db: AsyncSession, user_id: str, op: ReportSubmit, now: datetime
) -> OpOutcome:
    job = await _held_job(db, user_id, op.job_id)
    await _parts_exist(db, {_uuid(p.part_id, "part") for p in op.parts})
    versions = (
        (
            await db.execute(
                select(WorkReport).where(
                    (WorkReport.report_id == op.report_id) | (WorkReport.job_id == job.id)
                )
            )
        )
        .scalars()
        .all()
    )
    # One logical report per job, versioned by its report id (PROTOCOL.md, report.submit).
    if any(v.report_id == op.report_id and v.job_id != job.id for v in versions):
        raise Rejected("invalid_reference", "this report id belongs to another job")
    if any(v.report_id != op.report_id for v in versions):
        raise Rejected(
            "invalid_reference",
            "this job already has a report under another id; submit a new version of that one",
        )
    latest = max(versions, key=lambda v: v.version, default=None)
    if latest is not None and latest.signed:
        raise Rejected("report_signed", f"version {latest.version} is signed and immutable")
    version = latest.version + 1 if latest else 1
    form = op.report_fields()
    digest = report_hash(form)
    db.add(
        WorkReport(
            id=op.report_id if version == 1 else None,
            report_id=op.report_id,
            job_id=job.id,
            version=version,
            author_id=UUID(user_id),
            diagnosis=op.diagnosis,
            root_cause_category=op.root_cause_category,
            root_cause=op.root_cause,
            prevention=op.prevention,
            actions=op.actions,
            labour_minutes=op.labour_minutes,
            parts=form["parts"],
            content_sha256=digest,
            submitted_at=op.at,
            received_at=now,
        )
    )
    return OpOutcome.applied({"version": version, "report_sha256": digest})


async def _part_consume(db: AsyncSession, user_id: str, op: PartConsume) -> OpOutcome:
    job = await _held_job(db, user_id, op.job_id) if op.job_id is not None else None
    location = await db.get(StockLocation, _uuid(op.location_id, "location"))
    part_id = _uuid(op.part_id, "part")
    if location is None or await db.get(Part, part_id) is None:
        raise Rejected("not_found", "no such part or location")
    if location.kind != "van" or str(location.engineer_id) != user_id:
        raise Rejected("forbidden", "parts are consumed from your own van only")
    movement = await ledger.record_movement(
        db,
        part_id=part_id,
        location_id=location.id,
        kind="consumption",
        qty_delta=-op.qty,
        at=op.at,
        actor_id=UUID(user_id),
        job_id=job.id if job else None,
        note=f"op {op.id}",
    )
    if job is not None:
        db.add(
            PartUsage(
                job_id=job.id,
                part_id=part_id,
                location_id=location.id,
                qty=op.qty,
                movement_id=movement.id,
                used_at=op.at,
            )
        )
    level = await db.scalar(
        select(StockLevel.on_hand).where(
            StockLevel.part_id == part_id, StockLevel.location_id == location.id
        )
    )
    return OpOutcome.applied({"level": level}, (OVERDRAW,) if movement.overdraw else ())


async def _part_request(
    db: AsyncSession, user_id: str, op: PartRequestOp, now: datetime
) -> OpOutcome:
    job = await _held_job(db, user_id, op.job_id)
    part_id = _uuid(op.part_id, "part")
    if await db.get(Part, part_id) is None:
        raise Rejected("not_found", "no such part")
    if await db.get(PartRequest, op.request_id) is not None:
        raise Rejected("duplicate_id", "this request id is already used")
    db.add(
        PartRequest(
            id=op.request_id,
            job_id=job.id,
            engineer_id=UUID(user_id),
            part_id=part_id,
            qty=op.qty,
            note=op.note,
            created_at=now,
        )
    )
    return OpOutcome.applied({"status": "requested"})


async def _signature(tx: SqlTx, user_id: str, op: SignatureCapture, now: datetime) -> OpOutcome:
    db = tx.db
    versions = (
        (await db.execute(select(WorkReport).where(WorkReport.report_id == op.report_id)))
        .scalars()
        .all()
    )
    signed = next((v for v in versions if v.version == op.report_version), None)
    if signed is None:
        raise Rejected("not_found", "no such report version")
    await _held_job(db, user_id, signed.job_id)
    latest = max(v.version for v in versions)
    if op.report_version != latest:
        raise Rejected("report_superseded", f"version {latest} replaced the signed version")
    if stored_report_hash(signed) != op.report_sha256:
        raise Rejected("report_hash_mismatch", "the signed content differs from the stored report")
    if signed.signed:
        raise Rejected("already_signed", "this report version already carries a signature")
    if await db.get(Signature, op.signature_id) is not None:
        raise Rejected("duplicate_id", "this signature id is already used")
    signed.signed = True
    db.add(
        Signature(
            id=op.signature_id,
            report_id=signed.id,
            signer_name=op.signer_name,
            image_sha256=op.image_sha256,
            report_sha256=op.report_sha256,
            signed_at=op.at,
            received_at=now,
            channel="device",
        )
    )
    flags = await pending_flags(tx, [op.image_sha256])
    return OpOutcome.applied({"report_version": op.report_version}, flags)


async def _feedback(db: AsyncSession, user_id: str, op: FeedbackSubmit, now: datetime) -> OpOutcome:
    job = await _held_job(db, user_id, op.job_id)
    if await db.get(Feedback, op.feedback_id) is not None:
        raise Rejected("duplicate_id", "this feedback id is already used")
    db.add(
        Feedback(
            id=op.feedback_id,
            job_id=job.id,
            attitude=op.attitude,
            efficiency=op.efficiency,
            quality=op.quality,
            comment=op.comment,
            channel="device",
            submitted_at=op.at,
            received_at=now,
        )
    )
    return OpOutcome.applied({"feedback_id": str(op.feedback_id)})
