"""Operations v1: the named intents a device queues and pushes.

Rules every operation shares (PROTOCOL.md §4 has the business rules of each):

- ``op`` names the intent; ``seq`` is the device's gap-free counter starting at 1; ``id`` is a
  UUID that never changes when the operation is retried; ``at`` is the device's event time and
  must carry a timezone.
- Quantities are deltas, never absolute values, so concurrent devices commute.
- Objects the device creates (reports, part requests, signatures, feedback) carry a UUID the
  device chose, so an operation can refer to them before the server has seen them.
- Schema evolution: new optional fields get defaults; a field's type never changes; a new
  operation type is a schema bump.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Final, Literal

import msgspec

MAX_SEQ: Final = 2**53 - 1  # exact in JavaScript numbers

Seq = Annotated[int, msgspec.Meta(ge=1, le=MAX_SEQ)]
EventTime = Annotated[datetime, msgspec.Meta(tz=True)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Comment = Annotated[str, msgspec.Meta(max_length=2_000)]
Qty = Annotated[int, msgspec.Meta(gt=0, le=100_000)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
Version = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Sha256Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
RefId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # server-issued ids

JobTarget = Literal["en_route", "on_site", "work_started", "completed", "needs_parts", "escalated"]


class OperationBase(
    msgspec.Struct, tag_field="op", frozen=True, kw_only=True, forbid_unknown_fields=True
):
    seq: Seq
    id: uuid.UUID
    at: EventTime


class JobStatus(OperationBase, tag="job.status", frozen=True, kw_only=True):
    """Move a job along the state machine in ``sync.jobstatus``."""

    job_id: RefId
    to: JobTarget
    base_status: Code  # the status the device believed current
    note: Comment = ""


class JobNote(OperationBase, tag="job.note", frozen=True, kw_only=True):
    """Replace the job's free-text note (last writer wins; overwrites are flagged)."""

    job_id: RefId
    text: Text
    base_version: Version  # the job version the device edited


class ReportPart(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    part_id: RefId
    qty: Qty


class ReportSubmit(OperationBase, tag="report.submit", frozen=True, kw_only=True):
    """Create (or, with the same report_id, supersede) the job's work report."""

    report_id: uuid.UUID
    job_id: RefId
    diagnosis: Text
    root_cause_category: Code
    root_cause: Text
    prevention: Text
    actions: Text
    labour_minutes: Minutes
    parts: Annotated[list[ReportPart], msgspec.Meta(max_length=200)] = []

    def report_fields(self) -> dict[str, Any]:
        """The report form ``sync.canonical.report_hash`` signs."""
        return {
            "report_id": str(self.report_id),
            "job_id": self.job_id,
            "diagnosis": self.diagnosis,
            "root_cause_category": self.root_cause_category,
            "root_cause": self.root_cause,
            "prevention": self.prevention,
            "actions": self.actions,
            "labour_minutes": self.labour_minutes,
            "parts": [{"part_id": p.part_id, "qty": p.qty} for p in self.parts],
        }


class PartConsume(OperationBase, tag="part.consume", frozen=True, kw_only=True):
    """Take ``qty`` of a part out of a stock location (a delta; overdraw is flagged)."""

    job_id: RefId | None = None
    part_id: RefId
    location_id: RefId
    qty: Qty


class PartRequest(OperationBase, tag="part.request", frozen=True, kw_only=True):
    """Ask logistics for parts."""

    request_id: uuid.UUID
    job_id: RefId
    part_id: RefId
    qty: Qty
    note: Comment = ""


class SignatureCapture(OperationBase, tag="signature.capture", frozen=True, kw_only=True):
    """The customer signs one exact report version; the image travels as a blob."""

    signature_id: uuid.UUID
    report_id: uuid.UUID
    report_version: Annotated[int, msgspec.Meta(ge=1, le=MAX_SEQ)]
    signer_name: Name
    image_sha256: Sha256Hex
    report_sha256: Sha256Hex


class FeedbackSubmit(OperationBase, tag="feedback.submit", frozen=True, kw_only=True):
    """The customer's ratings (1..5) and comment for a job."""

    feedback_id: uuid.UUID
    job_id: RefId
    attitude: Rating
    efficiency: Rating
    quality: Rating
    comment: Comment = ""


Operation = (
    JobStatus
    | JobNote
    | ReportSubmit
    | PartConsume
    | PartRequest
    | SignatureCapture
    | FeedbackSubmit
)

OPERATION_TYPES: Final[tuple[type[OperationBase], ...]] = (
    JobStatus,
    JobNote,
    ReportSubmit,
    PartConsume,
    PartRequest,
    SignatureCapture,
    FeedbackSubmit,
)

OPERATION_DECODER: Final = msgspec.json.Decoder(Operation)


def op_name(op_type: type[OperationBase]) -> str:
    """The wire tag (``"job.status"``, …) of an operation type."""
    tag = op_type.__struct_config__.tag
    assert isinstance(tag, str)
    return tag
