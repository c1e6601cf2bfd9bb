"""A minimal but faithful business handler for ``LocalServer`` (MemoryStore only).

It implements the operation rules of PROTOCOL.md §4 over a handful of MemoryTx tables, and
publishes the documents it changes into the replica logs, so the reference client can be tested
end to end without the real server. The real rules live in ``server/``; when the two disagree,
PROTOCOL.md decides. Rows are dicts treated as immutable (replaced, never mutated), which is what
MemoryTx's rollback needs.

Tables: ``jobs`` (id -> job), ``locations`` (id -> {"owner": user, None for a depot}),
``stock`` ((location, part) -> (qty, version)), ``movements`` (id -> (location, part, delta,
job)), ``reports``, ``part_requests``, ``signatures``, ``feedback`` (id -> row).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sync import jobstatus
from sync.blobs import pending_flags
from sync.canonical import report_hash
from sync.changes import encode_put, encode_remove
from sync.errors import Rejected
from sync.memory import MemoryTx
from sync.operations import (
    FeedbackSubmit,
    JobNote,
    JobStatus,
    Operation,
    PartConsume,
    PartRequest,
    ReportSubmit,
    SignatureCapture,
)
from sync.outcome import OVERDRAW, OVERWRITE, OpOutcome


async def apply(tx: MemoryTx, user_id: str, op: Operation) -> OpOutcome:
    """The ApplyHandler: one business rule per operation type."""
    match op:
        case JobStatus():
            return await _job_status(tx, user_id, op)
        case JobNote():
            return await _job_note(tx, user_id, op)
        case ReportSubmit():
            return await _report_submit(tx, user_id, op)
        case PartConsume():
            return await _part_consume(tx, user_id, op)
        case PartRequest():
            return await _part_request(tx, user_id, op)
        case SignatureCapture():
            return await _signature_capture(tx, user_id, op)
        case FeedbackSubmit():
            return await _feedback_submit(tx, user_id, op)


# -- administrative actions (the dispatcher's and logistics' side) -----------------------------
async def create_job(tx: MemoryTx, job_id: str, engineer: str, **fields: Any) -> None:
    job = {"title": "", **fields, "id": job_id, "engineer": engineer, "status": "assigned"}
    await _save_job(tx, {**job, "note": job.get("note", ""), "version": 1})


async def update_job(tx: MemoryTx, job_id: str, **changes: Any) -> None:
    """A dispatcher edit (status, note, engineer...); reassignment moves the job's document."""
    old = _job(tx, job_id)
    new = {**old, **changes, "version": old["version"] + 1}
    if new["engineer"] != old["engineer"]:
        await tx.write_change(
            old["engineer"], f"job:{job_id}", "remove", encode_remove("job", job_id)
        )
    await _save_job(tx, new)


async def delete_job(tx: MemoryTx, job_id: str) -> None:
    job = _job(tx, job_id)
    tx.set_row("jobs", job_id, None)
    await tx.write_change(job["engineer"], f"job:{job_id}", "remove", encode_remove("job", job_id))


async def add_location(tx: MemoryTx, location_id: str, owner: str | None) -> None:
    tx.set_row("locations", location_id, {"owner": owner})


async def receive_stock(
    tx: MemoryTx, location_id: str, part_id: str, qty: int, holders: Iterable[str] = ()
) -> None:
    await _move(tx, str(uuid.uuid4()), location_id, part_id, qty, None, holders)


def stock_level(tx: MemoryTx, location_id: str, part_id: str) -> int:
    level, _version = tx.row("stock", (location_id, part_id)) or (0, 0)
    return int(level)


# -- operations ----------------------------------------------------------------------------
async def _job_status(tx: MemoryTx, user_id: str, op: JobStatus) -> OpOutcome:
    job = _held_job(tx, user_id, op.job_id)
    if not jobstatus.transition(job["status"], op.base_status, op.to):
        return OpOutcome.applied({"status": job["status"], "changed": False})
    await _save_job(tx, {**job, "status": op.to, "version": job["version"] + 1})
    return OpOutcome.applied({"status": op.to, "changed": True})


async def _job_note(tx: MemoryTx, user_id: str, op: JobNote) -> OpOutcome:
    job = _held_job(tx, user_id, op.job_id)
    flags = [OVERWRITE] if op.base_version != job["version"] else []
    version = job["version"] + 1
    await _save_job(tx, {**job, "note": op.text, "version": version})
    return OpOutcome.applied({"version": version, "overwrote_version": job["version"]}, flags)


async def _report_submit(tx: MemoryTx, user_id: str, op: ReportSubmit) -> OpOutcome:
    _held_job(tx, user_id, op.job_id)
    old = tx.row("reports", op.report_id)
    if old is not None and old["job_id"] != op.job_id:
        raise Rejected("invalid_reference", "this report belongs to another job")
    if old is not None and old["signed"]:
        raise Rejected("report_signed", "a signed report cannot change")
    fields = op.report_fields()
    report = {
        **fields,
        "version": 1 if old is None else old["version"] + 1,
        "report_sha256": report_hash(fields),
        "signed": False,
        "engineer": user_id,
    }
    await _save_report(tx, op.report_id, report)
    return OpOutcome.applied(
        {"version": report["version"], "report_sha256": report["report_sha256"]}
    )


async def _part_consume(tx: MemoryTx, user_id: str, op: PartConsume) -> OpOutcome:
    if op.job_id is not None:
        _held_job(tx, user_id, op.job_id)
    location = tx.row("locations", op.location_id)
    if location is None:
        raise Rejected("not_found", f"no location {op.location_id}")
    if location["owner"] not in (None, user_id):
        raise Rejected("forbidden", "this location is another engineer's van")
    level = await _move(tx, str(op.id), op.location_id, op.part_id, -op.qty, op.job_id, [user_id])
    return OpOutcome.applied({"level": level}, [OVERDRAW] if level < 0 else [])


async def _part_request(tx: MemoryTx, user_id: str, op: PartRequest) -> OpOutcome:
    _held_job(tx, user_id, op.job_id)
    if tx.row("part_requests", op.request_id) is not None:
        raise Rejected("duplicate_id", "this request id is already used")
    row = {"id": str(op.request_id), "job_id": op.job_id, "part_id": op.part_id, "qty": op.qty}
    row |= {"note": op.note, "status": "requested"}
    tx.set_row("part_requests", op.request_id, row)
    change = encode_put("part_request", str(op.request_id), 1, row)
    await tx.write_change(user_id, f"part_request:{op.request_id}", "put", change)
    return OpOutcome.applied({"status": "requested"})


async def _signature_capture(tx: MemoryTx, user_id: str, op: SignatureCapture) -> OpOutcome:
    report = tx.row("reports", op.report_id)
    if report is None:
        raise Rejected("not_found", "no such report")
    _held_job(tx, user_id, report["job_id"])
    if op.report_version != report["version"]:
        raise Rejected("report_superseded", f"the latest version is {report['version']}")
    if op.report_sha256 != report["report_sha256"]:
        raise Rejected("report_hash_mismatch", "the signed content differs from the report")
    if report["signed"]:
        raise Rejected("already_signed", "this report version is already signed")
    flags = await pending_flags(tx, [op.image_sha256])
    tx.set_row(
        "signatures", op.signature_id, {"report_id": str(op.report_id), "image": op.image_sha256}
    )
    await _save_report(tx, op.report_id, {**report, "signed": True, "signer": op.signer_name})
    return OpOutcome.applied({"report_version": report["version"]}, flags)


async def _feedback_submit(tx: MemoryTx, user_id: str, op: FeedbackSubmit) -> OpOutcome:
    _held_job(tx, user_id, op.job_id)
    if tx.row("feedback", op.feedback_id) is not None:
        raise Rejected("duplicate_id", "this feedback id is already used")
    scores = {"attitude": op.attitude, "efficiency": op.efficiency, "quality": op.quality}
    tx.set_row("feedback", op.feedback_id, {"job_id": op.job_id, **scores, "comment": op.comment})
    return OpOutcome.applied()


# -- rows and documents ----------------------------------------------------------------------
def _job(tx: MemoryTx, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] | None = tx.row("jobs", job_id)
    if job is None:
        raise Rejected("not_found", f"no job {job_id}")
    return job


def _held_job(tx: MemoryTx, user_id: str, job_id: str) -> dict[str, Any]:
    job = _job(tx, job_id)
    if job["engineer"] != user_id:
        raise Rejected("not_assigned", f"job {job_id} is not assigned to you")
    return job


async def _save_job(tx: MemoryTx, job: dict[str, Any]) -> None:
    tx.set_row("jobs", job["id"], job)
    change = encode_put("job", job["id"], job["version"], job)
    await tx.write_change(job["engineer"], f"job:{job['id']}", "put", change)


async def _save_report(tx: MemoryTx, report_id: uuid.UUID, report: dict[str, Any]) -> None:
    tx.set_row("reports", report_id, report)
    change = encode_put("report", str(report_id), report["version"], report)
    await tx.write_change(report["engineer"], f"report:{report_id}", "put", change)


async def _move(
    tx: MemoryTx,
    movement_id: str,
    location_id: str,
    part_id: str,
    delta: int,
    job_id: str | None,
    holders: Iterable[str],
) -> int:
    """Append to the stock ledger, update the level, publish it; returns the new level."""
    tx.set_row("movements", movement_id, (location_id, part_id, delta, job_id))
    level, version = tx.row("stock", (location_id, part_id)) or (0, 0)
    level, version = level + delta, version + 1
    tx.set_row("stock", (location_id, part_id), (level, version))
    key = f"{location_id}/{part_id}"
    doc = {"location_id": location_id, "part_id": part_id, "qty": level}
    users = set(holders) | set(await tx.holders(f"stock:{key}"))
    for user in sorted(users):
        await tx.write_change(user, f"stock:{key}", "put", encode_put("stock", key, version, doc))
    return level
