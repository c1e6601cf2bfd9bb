"""The device side of the state machine (``sync_machine.SyncSystem``): work queued offline.

``DeviceWork`` is a mixin of rules; the machine provides ``devs``, ``run``, ``world``,
``jid``, ``holder`` (who holds each job now) and ``audit``. Operations mostly concern the
engineer's own jobs (as the dispatcher last assigned them) and sometimes anyone's, so both
applied and rejected operations (not_assigned, stale or invalid moves, forbidden vans, report
rules) flow through every property.
"""

from __future__ import annotations

from typing import Any, get_args
from uuid import uuid4

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from sync.canonical import report_hash
from sync.jobstatus import TRANSITIONS
from sync.operations import (
    FeedbackSubmit,
    JobNote,
    JobStatus,
    JobTarget,
    Operation,
    PartConsume,
    ReportSubmit,
    SignatureCapture,
)
from sync.operations import PartRequest as PartRequestOp
from tests.images import png
from tests.syncing.sync_audit import DEVICES, JOBS, VANS
from tests.syncing.sync_harness import Dev

devices = st.integers(0, len(DEVICES) - 1)
jobs = st.sampled_from(JOBS)
owns = st.integers(0, 3)  # 0: any job (often someone else's); else one of the engineer's own
# U+0000 included: PostgreSQL cannot store it, and that operation alone must be rejected
# (``invalid_data``) without blocking the queue.
notes = st.text(max_size=6)


class DeviceWork:
    """Rules that queue operations on a device, online or not (only ``sync`` sends them)."""

    devs: list[Dev]
    images = 0  # signature images made so far (each one distinct)

    def _job(self, dev: Dev, job: str, own: int) -> str:
        held = [j for j in JOBS if self.holder[self.jid(j)] == self.audit.uid(dev.user)]
        return self.jid(held[JOBS.index(job) % len(held)] if own and held else job)

    def _queue(self, dev: Dev, op_type: type[Operation], **fields: Any) -> Any:
        op = self.run(dev.client.queue(op_type, **fields))
        dev.queued[str(op.id)] = op
        return op

    def _view(self, dev: Dev, job_id: str) -> str:
        """The status the device believes current: its last queued move, else its replica."""
        for op in reversed(dev.client.outbox):
            if isinstance(op, JobStatus) and op.job_id == job_id:
                return op.to
        doc = dev.client.doc(f"job:{job_id}")
        return doc["status"] if doc else "assigned"

    @rule(d=devices, job=jobs, own=owns, pick=st.integers(0, 5), sensible=owns)
    def move_job(self, d: int, job: str, own: int, pick: int, sensible: int) -> None:
        dev = self.devs[d]
        job_id = self._job(dev, job, own)
        view = self._view(dev, job_id)
        moves = sorted(TRANSITIONS.get(view, ())) if sensible else list(get_args(JobTarget))
        to = (moves or ["en_route"])[pick % max(1, len(moves))]
        self._queue(dev, JobStatus, job_id=job_id, to=to, base_status=view)

    @rule(d=devices, job=jobs, own=owns, text=notes)
    def write_note(self, d: int, job: str, own: int, text: str) -> None:
        dev = self.devs[d]
        job_id = self._job(dev, job, own)
        held = dev.client.replica.get(f"job:{job_id}")
        self._queue(dev, JobNote, job_id=job_id, text=text, base_version=held.v if held else 0)

    @rule(d=devices, job=jobs, own=owns, again=st.booleans(), part=st.booleans())
    def submit_report(self, d: int, job: str, own: int, again: bool, part: bool) -> None:
        """A new report, or (again) the next version of one this device wrote for the job."""
        dev = self.devs[d]
        job_id = self._job(dev, job, own)
        prior = [r for r, subs in dev.reports.items() if subs[0].job_id == job_id]
        report_id = prior[-1] if again and prior else uuid4()
        texts = {k: f"{k} {len(dev.queued)}" for k in ("diagnosis", "root_cause", "prevention")}
        op = self._queue(
            dev,
            ReportSubmit,
            report_id=report_id,
            job_id=job_id,
            root_cause_category="wear",
            actions="replaced",
            labour_minutes=len(dev.queued),
            parts=[{"part_id": str(self.world.parts[0]), "qty": 1}] if part else [],
            **texts,
        )
        dev.reports.setdefault(report_id, []).append(op)

    @rule(d=devices, qty=st.integers(1, 3), job=jobs, own=owns, foreign=st.integers(0, 4))
    def consume_part(self, d: int, qty: int, job: str, own: int, foreign: int) -> None:
        """From the engineer's own van (often overdrawn), for one of their jobs or for none
        (own == 0); or (foreign == 0) from a colleague's van: forbidden."""
        dev = self.devs[d]
        colleague = "engineer2" if dev.user == "engineer1" else "engineer1"
        van = VANS[colleague] if foreign == 0 else VANS[dev.user]
        self._queue(
            dev,
            PartConsume,
            job_id=self._job(dev, job, own) if own else None,
            part_id=str(self.world.parts[0]),
            location_id=str(self.world.locations[van]),
            qty=qty,
        )

    @rule(d=devices, job=jobs, own=owns, qty=st.integers(1, 3))
    def request_part(self, d: int, job: str, own: int, qty: int) -> None:
        dev, request_id = self.devs[d], uuid4()
        self.audit.requesters[str(request_id)] = dev.user
        job_id, part = self._job(dev, job, own), str(self.world.parts[1])
        self._queue(dev, PartRequestOp, request_id=request_id, job_id=job_id, part_id=part, qty=qty)

    @precondition(lambda self: any(dev.reports for dev in self.devs))
    @rule(d=devices, which=st.integers(0, 9), tamper=st.booleans())
    def capture_signature(self, d: int, which: int, tamper: bool) -> None:
        """The customer signs the latest version this device wrote (the version it predicts)
        — or (tamper) the hash is of other content: report_hash_mismatch, nothing signed."""
        signers = [dev for dev in self.devs if dev.reports]
        dev = signers[d % len(signers)]
        report_id = list(dev.reports)[which % len(dev.reports)]
        submits = dev.reports[report_id]
        form = submits[-1].report_fields()
        if tamper:
            form["diagnosis"] += " (edited)"
        self.images += 1
        image = self.run(dev.client.attach_blob(png(shade=self.images), "image/png"))
        self._queue(
            dev,
            SignatureCapture,
            signature_id=uuid4(),
            report_id=report_id,
            report_version=len(submits),
            signer_name="张先生",
            image_sha256=image,
            report_sha256=report_hash(form),
        )

    @rule(d=devices, job=jobs, own=owns, score=st.integers(1, 5))
    def give_feedback(self, d: int, job: str, own: int, score: int) -> None:
        dev = self.devs[d]
        marks = {"attitude": score, "efficiency": 6 - score, "quality": score, "comment": "好"}
        job_id = self._job(dev, job, own)
        self._queue(dev, FeedbackSubmit, feedback_id=uuid4(), job_id=job_id, **marks)
