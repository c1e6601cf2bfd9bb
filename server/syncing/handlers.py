"""The business side of a push: what each operation v1 does to the database.

The rules and rejection codes are PROTOCOL.md §4; this module implements them with the server's
own rule modules (job state machine and events, stock ledger, report form), so a change through
sync and through the HTTP APIs behaves the same. Every operation first checks that the engineer
holds the job it concerns (``not_assigned``).

One :class:`PushBatch` serves one push request; it is the engine's ``BatchHandler``
(``sync/outcome.py``), which is what makes a batch of 1,000 operations a handful of statements
instead of thousands:

- ``prepare`` reads, in one query per table, everything the batch's operations will look at:
  their jobs and stock levels (locked: ``FOR UPDATE`` on PostgreSQL, SQLite's single writer
  otherwise), parts, locations, the latest version of each report, and which feedback, part
  request and signature ids are taken. Anything not prepared is loaded when first asked for.
- ``apply`` checks one operation against that state, which includes the batch's own earlier
  operations, then queues its new rows (plain dicts, inserted with Core: a push adds hundreds,
  and an ORM object costs more to build and flush than its insert) and its ledger lines in the
  batch's :class:`~server.inventory.ledger.Book`; a job it changes is an ORM update. **Every**
  ``Rejected`` is raised before the operation's first write, so a rejected operation leaves
  nothing behind and needs no savepoint.
- ``flush`` writes it all: the level deltas in one statement, the rows in one ``INSERT`` per
  table. When the database refuses (a constraint, a value it cannot store) ``flush`` raises
  ``Rejected``; the engine then rolls the batch back and applies it again one operation per
  savepoint, flushing after each, so the refusal lands on the operation that caused it
  (``data_conflict``, ``invalid_data``) and the others apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, cast
from uuid import UUID

from sqlalchemy import Table, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from server.database import RowInserter, in_chunks, in_list
from server.errors import DomainError
from server.feedback.models import Feedback
from server.inventory.ledger import Book, Line
from server.inventory.models import Part, PartRequest, StockLocation
from server.jobs.events import move
from server.jobs.models import Job
from server.reports.form import stored_report_hash
from server.reports.models import LATEST_VERSIONS, PartUsage, Signature, WorkReport
from server.syncing.replication import touch
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

# Rows whose ids a device chooses (a taken id is ``duplicate_id``), with the name it is told.
_CHOSEN_IDS: dict[type[Feedback | PartRequest | Signature], str] = {
    Feedback: "feedback",
    PartRequest: "request",
    Signature: "signature",
}


def _uuid(value: str | UUID, what: str) -> UUID:
    parsed = _maybe_uuid(value)
    if parsed is None:
        raise Rejected("not_found", f"no such {what}")
    return parsed


def _maybe_uuid(value: str | UUID | None) -> UUID | None:
    return value if value is None or isinstance(value, UUID) else _parse_uuid(value)


@lru_cache(maxsize=1 << 16)
def _parse_uuid(value: str) -> UUID | None:
    """Parsing is pure Python (~2 µs) and a batch names the same jobs, parts and van hundreds of
    times, in ``prepare`` and again in ``apply``: parsed ids are remembered (they are immutable)."""
    try:
        return UUID(value)
    except ValueError:
        return None


def _user(user_id: str) -> UUID:
    """The pushing user's id (from their verified token, so always well formed)."""
    parsed = _parse_uuid(user_id)
    assert parsed is not None
    return parsed


def _uuids(values: Iterable[str | UUID | None]) -> list[UUID]:
    """The well-formed ids among ``values`` (a malformed one is rejected when its op applies)."""
    return sorted({u for u in map(_maybe_uuid, values) if u is not None})


TakenId = type[Feedback | PartRequest | Signature]
"""Models whose ids a device chooses: an id already stored means the operation was done."""


# A batch's reads, built once (building a statement costs more than a small batch's SQL).
_LOCKED_JOBS = select(Job).where(Job.id.in_(in_list())).order_by(Job.id).with_for_update()
_PARTS = select(Part.id).where(Part.id.in_(in_list()))
_LOCATIONS = select(StockLocation).where(StockLocation.id.in_(in_list()))
_TAKEN: dict[TakenId, Any] = {
    model: select(model.id).where(model.id.in_(in_list()))
    for model in (Feedback, PartRequest, Signature)
}
_INSERT: dict[type, RowInserter] = {
    model: RowInserter(model.__table__)
    for model in (PartUsage, WorkReport, PartRequest, Feedback, Signature)
}


@dataclass(slots=True)
class NewVersion:
    """A report version this batch adds: what later operations of the batch check of it, and
    the rest of its ``work_reports`` row (inserted in ``flush``). A signature may flip
    ``signed``; its content hashes to ``content_sha256`` by construction."""

    id: UUID
    report_id: UUID
    job_id: UUID
    version: int
    content_sha256: str
    columns: dict[str, Any]  # the row's other columns
    signed: bool = False
    inserted: bool = False  # its row is written: signing it now takes an UPDATE

    def row(self) -> dict[str, Any]:
        return self.columns | {
            "id": self.id,
            "report_id": self.report_id,
            "job_id": self.job_id,
            "version": self.version,
            "content_sha256": self.content_sha256,
            "signed": self.signed,
        }


_SIGN_VERSIONS = (
    update(cast(Table, WorkReport.__table__))
    .where(WorkReport.id.in_(in_list()))
    .values(signed=True)
)
Version = WorkReport | NewVersion


class PushBatch:
    """The ``BatchHandler`` of one push request (see the module docstring)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget what was read: the engine rolled back, so none of it can be trusted."""
        self._jobs: dict[UUID, Job | None] = {}
        self._parts: dict[UUID, bool] = {}
        self._locations: dict[UUID, StockLocation | None] = {}
        # the latest version of each report, by report id and by job id (every check needs only
        # the latest: versions run 1, 2, … and all versions of a report share its job)
        self._versions: dict[UUID, dict[UUID, Version]] = defaultdict(dict)
        self._versions_of: set[UUID] = set()  # report ids and job ids whose versions are loaded
        self._taken: dict[tuple[type, UUID], bool] = {}
        self._book: Book | None = None
        self._usages: list[tuple[dict[str, Any], Line]] = []  # part usages and their ledger lines
        self._new_versions: list[NewVersion] = []
        self._signed: list[NewVersion] = []  # inserted by an earlier flush, signed since
        self._rows: dict[TakenId, list[dict[str, Any]]] = {
            PartRequest: [],
            Feedback: [],
            Signature: [],  # after the report versions they sign
        }

    def _ledger(self, db: AsyncSession) -> Book:
        if self._book is None:
            self._book = Book(db)
        return self._book

    # -- the BatchHandler protocol ---------------------------------------------------------
    async def prepare(self, tx: SqlTx, user_id: str, ops: Sequence[Operation]) -> None:
        db = tx.db
        await self._load_versions(
            db,
            report_ids=[
                op.report_id for op in ops if isinstance(op, ReportSubmit | SignatureCapture)
            ],
            job_ids=_uuids(op.job_id for op in ops if isinstance(op, ReportSubmit)),
        )
        signed_jobs = [v.job_id for latest in self._versions.values() for v in latest.values()]
        await self._load_jobs(
            db, _uuids([*(getattr(op, "job_id", None) for op in ops), *signed_jobs])
        )
        parts = [getattr(op, "part_id", None) for op in ops]
        parts += [p.part_id for op in ops if isinstance(op, ReportSubmit) for p in op.parts]
        await self._load_parts(db, _uuids(parts))
        consumed = [op for op in ops if isinstance(op, PartConsume)]
        await self._load_locations(db, _uuids(op.location_id for op in consumed))
        pairs = [(_maybe_uuid(op.part_id), _maybe_uuid(op.location_id)) for op in consumed]
        await self._ledger(db).load((p, loc) for p, loc in pairs if p and loc)
        for model, ids in (
            (Feedback, [op.feedback_id for op in ops if isinstance(op, FeedbackSubmit)]),
            (PartRequest, [op.request_id for op in ops if isinstance(op, PartRequestOp)]),
            (Signature, [op.signature_id for op in ops if isinstance(op, SignatureCapture)]),
        ):
            await self._load_taken(db, model, ids)

    async def apply(self, tx: SqlTx, user_id: str, op: Operation) -> OpOutcome:
        # Writes reach the database in flush() only: a read here must not flush an earlier
        # operation's rows, or the database's refusal of them would surface as this one's error.
        with tx.db.no_autoflush:
            return await self._apply(tx, user_id, op)

    async def _apply(self, tx: SqlTx, user_id: str, op: Operation) -> OpOutcome:
        db = tx.db
        now = datetime.now(UTC)
        match op:
            case JobStatus():
                return await self._job_status(db, user_id, op, now)
            case JobNote():
                return await self._job_note(db, user_id, op, now)
            case ReportSubmit():
                return await self._report_submit(db, user_id, op, now)
            case PartConsume():
                return await self._part_consume(db, user_id, op)
            case PartRequestOp():
                return await self._part_request(db, user_id, op, now)
            case SignatureCapture():
                return await self._signature(tx, user_id, op, now)
            case FeedbackSubmit():
                return await self._feedback(db, user_id, op, now)
        raise AssertionError(f"unhandled operation {type(op).__name__}")  # the union is exhaustive

    async def flush(self, tx: SqlTx) -> None:
        try:
            if self._book is not None:
                await self._book.flush()
            await self._write_rows(tx.db)
            await tx.db.flush()
        except IntegrityError as exc:
            raise Rejected(
                "data_conflict", "the operation conflicts with data already stored"
            ) from exc
        except DBAPIError as exc:  # e.g. U+0000 in a text, which PostgreSQL cannot store
            if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
                raise  # the database itself is failing: the whole batch retries
            raise Rejected(
                "invalid_data", "the database cannot store a value in this operation"
            ) from exc

    async def _write_rows(self, db: AsyncSession) -> None:
        """Insert the queued rows, each table in one statement, parents first. They are Core
        rows, invisible to flush tracking: replication is told of the synced ones (``touch``)."""
        if self._usages:  # after the ledger lines: a usage names its line
            usages = [usage | {"movement_id": line["id"]} for usage, line in self._usages]
            self._usages.clear()
            await _INSERT[PartUsage].execute(db, usages)
        versions, self._new_versions = self._new_versions, []
        if versions:
            await _INSERT[WorkReport].execute(db, [v.row() for v in versions])
            for v in versions:
                v.inserted = True
        signed, self._signed = self._signed, []
        if signed:
            await db.execute(_SIGN_VERSIONS, {"ids": [v.id for v in signed]})
        for v in versions + signed:
            touch(db, f"report:{v.report_id}", f"service_history:{v.job_id}")
        for model, rows in self._rows.items():  # signatures after the versions they sign
            if rows:
                await _INSERT[model].execute(db, rows)
                if model is PartRequest:
                    touch(db, *(f"part_request:{r['id']}" for r in rows))
                rows.clear()

    # -- reading, a whole batch at a time ---------------------------------------------------
    async def _load_jobs(self, db: AsyncSession, ids: list[UUID]) -> None:
        """Lock and load jobs, in id order so two batches never wait on each other in a cycle."""
        ids = [i for i in ids if i not in self._jobs]
        for chunk in in_chunks(ids):
            rows = await db.execute(_LOCKED_JOBS, {"ids": list(chunk)})
            found = {j.id: j for j in rows.scalars()}
            self._jobs.update({i: found.get(i) for i in chunk})

    async def _load_parts(self, db: AsyncSession, ids: list[UUID]) -> None:
        ids = [i for i in ids if i not in self._parts]
        for chunk in in_chunks(ids):
            found = set((await db.execute(_PARTS, {"ids": list(chunk)})).scalars())
            self._parts.update({i: i in found for i in chunk})

    async def _load_locations(self, db: AsyncSession, ids: list[UUID]) -> None:
        ids = [i for i in ids if i not in self._locations]
        for chunk in in_chunks(ids):
            rows = await db.execute(_LOCATIONS, {"ids": list(chunk)})
            found = {loc.id: loc for loc in rows.scalars()}
            self._locations.update({i: found.get(i) for i in chunk})

    async def _load_versions(
        self, db: AsyncSession, *, report_ids: list[UUID], job_ids: list[UUID]
    ) -> None:
        """The latest version of these reports and of these jobs' reports (a job has one
        logical report, and versions run 1, 2, …: the latest one answers every check)."""
        report_ids = sorted(set(report_ids) - self._versions_of)
        job_ids = sorted(set(job_ids) - self._versions_of)
        if not report_ids and not job_ids:
            return  # the common case inside a batch: building the query costs more than a lookup
        wanted: dict[Literal["report_id", "job_id"], list[UUID]] = {
            "report_id": report_ids,
            "job_id": job_ids,
        }
        for by, ids in wanted.items():
            for chunk in in_chunks(ids):
                for v in (await db.execute(LATEST_VERSIONS[by], {"ids": list(chunk)})).scalars():
                    self._add_version(v)
                self._versions_of.update(chunk)

    def _add_version(self, version: Version) -> None:
        for key in (version.report_id, version.job_id):
            latest = self._versions[key]
            known = latest.get(version.report_id)
            if known is None or known.version < version.version:
                latest[version.report_id] = version

    async def _load_taken(self, db: AsyncSession, model: TakenId, ids: list[UUID]) -> None:
        ids = sorted({i for i in ids if (model, i) not in self._taken})
        for chunk in in_chunks(ids):
            found = set((await db.execute(_TAKEN[model], {"ids": list(chunk)})).scalars())
            self._taken.update({(model, i): i in found for i in chunk})

    async def _held_job(self, db: AsyncSession, user_id: str, job_id: str | UUID) -> Job:
        """The job (locked for this transaction) if the engineer holds it."""
        key = _uuid(job_id, "job")
        if key not in self._jobs:
            await self._load_jobs(db, [key])
        job = self._jobs[key]
        if job is None:
            raise Rejected("not_found", "no such job")
        if job.engineer_id != _user(user_id):
            raise Rejected(
                "not_assigned",
                "this job is no longer assigned to you; your entry is kept on the server for "
                "review",
                result={"status": job.status},
            )
        return job

    async def _part_exists(self, db: AsyncSession, part_id: UUID) -> bool:
        if part_id not in self._parts:
            await self._load_parts(db, [part_id])
        return self._parts[part_id]

    async def _id_free(
        self, db: AsyncSession, model: type[Feedback | PartRequest | Signature], id_: UUID
    ) -> None:
        if (model, id_) not in self._taken:
            await self._load_taken(db, model, [id_])
        if self._taken[(model, id_)]:
            raise Rejected("duplicate_id", f"this {_CHOSEN_IDS[model]} id is already used")

    def _take(self, model: TakenId, row: dict[str, Any]) -> None:
        """Queue a row whose id the device chose; a later op of the batch sees it as taken."""
        self._taken[(model, row["id"])] = True
        self._rows[model].append(row)

    async def _report_versions(
        self, db: AsyncSession, *, report_id: UUID, job_id: UUID | None = None
    ) -> list[Version]:
        await self._load_versions(
            db, report_ids=[report_id], job_ids=[job_id] if job_id is not None else []
        )
        versions = list(self._versions[report_id].values())
        if job_id is not None:
            versions += [v for v in self._versions[job_id].values() if v.report_id != report_id]
        return versions

    # -- the operations ----------------------------------------------------------------------
    async def _job_status(
        self, db: AsyncSession, user_id: str, op: JobStatus, now: datetime
    ) -> OpOutcome:
        job = await self._held_job(db, user_id, op.job_id)
        if not jobstatus.transition(job.status, op.base_status, op.to):
            return OpOutcome.applied({"status": job.status, "changed": False})
        try:
            await move(
                db,
                job,
                op.to,
                actor_id=_user(user_id),
                actor_role="engineer",
                event_at=op.at,
                received_at=now,
                note=op.note,
            )
        except DomainError as exc:  # the server's rules refused what the protocol table allows
            raise Rejected("invalid_transition", exc.detail, result={"status": job.status}) from exc
        return OpOutcome.applied({"status": op.to, "changed": True})

    async def _job_note(
        self, db: AsyncSession, user_id: str, op: JobNote, now: datetime
    ) -> OpOutcome:
        job = await self._held_job(db, user_id, op.job_id)
        old = job.version
        job.note = op.text
        job.note_version += 1
        job.version += 1
        job.updated_at = now
        flags = (OVERWRITE,) if op.base_version != old else ()
        return OpOutcome.applied({"version": job.version, "overwrote_version": old}, flags)

    async def _report_submit(
        self, db: AsyncSession, user_id: str, op: ReportSubmit, now: datetime
    ) -> OpOutcome:
        job = await self._held_job(db, user_id, op.job_id)
        for p in op.parts:
            if not await self._part_exists(db, _uuid(p.part_id, "part")):
                raise Rejected("not_found", "the report lists a part that does not exist")
        versions = await self._report_versions(db, report_id=op.report_id, job_id=job.id)
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
        # the form's members other than the ids are columns of the same names
        columns = {k: v for k, v in form.items() if k not in ("report_id", "job_id")}
        columns |= {"author_id": _user(user_id), "submitted_at": op.at, "received_at": now}
        report = NewVersion(
            # the first version's row id is the report id; later ones get their own now, so a
            # signature later in this batch can point at a version not yet flushed
            id=op.report_id if version == 1 else uuid7(),
            report_id=op.report_id,
            job_id=job.id,
            version=version,
            content_sha256=digest,
            columns=columns,
        )
        self._new_versions.append(report)
        self._add_version(report)
        return OpOutcome.applied({"version": version, "report_sha256": digest})

    async def _part_consume(self, db: AsyncSession, user_id: str, op: PartConsume) -> OpOutcome:
        job = await self._held_job(db, user_id, op.job_id) if op.job_id is not None else None
        part_id, location_id = _uuid(op.part_id, "part"), _uuid(op.location_id, "location")
        if location_id not in self._locations:
            await self._load_locations(db, [location_id])
        location = self._locations[location_id]
        if location is None or not await self._part_exists(db, part_id):
            raise Rejected("not_found", "no such part or location")
        if location.kind != "van" or location.engineer_id != _user(user_id):
            raise Rejected("forbidden", "parts are consumed from your own van only")
        book = self._ledger(db)
        await book.load([(part_id, location_id)])
        line = book.record(
            part_id=part_id,
            location_id=location_id,
            kind="consumption",
            qty_delta=-op.qty,
            at=op.at,
            actor_id=_user(user_id),
            job_id=job.id if job else None,
            note=f"op {op.id}",
        )
        if job is not None:
            usage = {"job_id": job.id, "part_id": part_id, "location_id": location_id}
            self._usages.append((usage | {"qty": op.qty, "used_at": op.at}, line))
        level = book.on_hand(part_id, location_id)
        return OpOutcome.applied({"level": level}, (OVERDRAW,) if line["overdraw"] else ())

    async def _part_request(
        self, db: AsyncSession, user_id: str, op: PartRequestOp, now: datetime
    ) -> OpOutcome:
        job = await self._held_job(db, user_id, op.job_id)
        part_id = _uuid(op.part_id, "part")
        if not await self._part_exists(db, part_id):
            raise Rejected("not_found", "no such part")
        await self._id_free(db, PartRequest, op.request_id)
        self._take(
            PartRequest,
            {
                "id": op.request_id,
                "job_id": job.id,
                "engineer_id": _user(user_id),
                "part_id": part_id,
                "qty": op.qty,
                "note": op.note,
                "created_at": now,
                "status": "requested",
                "shipment_id": None,
            },
        )
        return OpOutcome.applied({"status": "requested"})

    async def _signature(
        self, tx: SqlTx, user_id: str, op: SignatureCapture, now: datetime
    ) -> OpOutcome:
        db = tx.db
        versions = await self._report_versions(db, report_id=op.report_id)
        signed = max(versions, key=lambda v: v.version, default=None)
        if signed is None or op.report_version > signed.version:
            raise Rejected("not_found", "no such report version")
        await self._held_job(db, user_id, signed.job_id)
        if op.report_version != signed.version:
            raise Rejected(
                "report_superseded", f"version {signed.version} replaced the signed version"
            )
        # a version of this batch hashes to its digest by construction; a stored one is hashed
        # again from its row (the signature binds what is stored, not what was recorded)
        if isinstance(signed, NewVersion):
            content = signed.content_sha256
        else:
            content = stored_report_hash(signed)
        if content != op.report_sha256:
            raise Rejected(
                "report_hash_mismatch", "the signed content differs from the stored report"
            )
        if signed.signed:
            raise Rejected("already_signed", "this report version already carries a signature")
        await self._id_free(db, Signature, op.signature_id)
        flags = await pending_flags(tx, [op.image_sha256])
        signed.signed = True
        if isinstance(signed, NewVersion) and signed.inserted:
            self._signed.append(signed)  # an earlier flush wrote it unsigned
        self._take(
            Signature,
            {
                "id": op.signature_id,
                "report_id": signed.id,
                "signer_name": op.signer_name,
                "image_sha256": op.image_sha256,
                "report_sha256": op.report_sha256,
                "signed_at": op.at,
                "received_at": now,
                "channel": "device",
            },
        )
        return OpOutcome.applied({"report_version": op.report_version}, flags)

    async def _feedback(
        self, db: AsyncSession, user_id: str, op: FeedbackSubmit, now: datetime
    ) -> OpOutcome:
        job = await self._held_job(db, user_id, op.job_id)
        await self._id_free(db, Feedback, op.feedback_id)
        self._take(
            Feedback,
            {
                "id": op.feedback_id,
                "job_id": job.id,
                "attitude": op.attitude,
                "efficiency": op.efficiency,
                "quality": op.quality,
                "comment": op.comment,
                "channel": "device",
                "submitted_at": op.at,
                "received_at": now,
            },
        )
        return OpOutcome.applied({"feedback_id": str(op.feedback_id)})
