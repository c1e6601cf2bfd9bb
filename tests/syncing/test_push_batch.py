"""A push batch is applied in one pass, and gives exactly what applying it op by op gives.

``server.syncing.handlers.PushBatch`` checks every operation against state read once for the
batch and writes the whole batch in one flush; only a refused flush makes the engine apply the
batch again, one savepoint per operation (``sync/push.py``). These tests hold the two passes to
the same outcomes for a batch whose operations depend on each other and mix every kind of
rejection, and hold the one pass to a number of statements that does not grow with the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.feedback.models import Feedback
from server.inventory.ledger import verify_ledger
from server.inventory.models import StockLevel
from server.reports.models import Signature, WorkReport
from server.syncing.handlers import PushBatch
from sync.canonical import report_hash
from sync.client import DeviceClient
from sync.errors import Rejected
from sync.operations import (
    FeedbackSubmit,
    JobNote,
    JobStatus,
    PartConsume,
    PartRequest,
    ReportSubmit,
    SignatureCapture,
)
from tests.syncing.test_sync_api import REPORT_TEXT, device, sync_until
from tests.world import World

Client = AsyncTestClient[Litestar]
Sessions = async_sessionmaker[AsyncSession]


async def _queue_dependent_batch(d: DeviceClient, world: World) -> None:
    """Operations that read what earlier ones of the same batch wrote, and every rejection."""
    job, other_job = str(world.jobs["e1_a"]), str(world.jobs["e2_a"])
    van, other_van = str(world.locations["VAN-1"]), str(world.locations["VAN-2"])
    part = str(world.parts[0])
    report_id, feedback_id = uuid4(), uuid4()
    form = {
        "report_id": report_id,
        "job_id": job,
        "diagnosis": "noise",
        "root_cause_category": "wear",
        "root_cause": "bearing",
        "prevention": "oil",
        "actions": "replaced",
        "labour_minutes": 45,
        "parts": [{"part_id": part, "qty": 1}],
    }
    await d.queue(JobStatus, job_id=job, to="en_route", base_status="assigned")
    await d.queue(PartConsume, job_id=job, part_id=part, location_id=van, qty=2)  # level 1
    await d.queue(PartConsume, job_id=job, part_id=part, location_id=van, qty=2)  # -1: overdraw
    await d.queue(PartConsume, job_id=job, part_id=part, location_id=other_van, qty=1)
    await d.queue(ReportSubmit, **form)  # version 1
    second = await d.queue(ReportSubmit, **{**form, "diagnosis": "noise, louder"})  # version 2
    await d.queue(
        SignatureCapture,
        signature_id=uuid4(),
        report_id=report_id,
        report_version=1,  # superseded by version 2 in this same batch
        signer_name="张先生",
        image_sha256="a" * 64,
        report_sha256=report_hash(second.report_fields()),
    )
    await d.queue(
        SignatureCapture,
        signature_id=uuid4(),
        report_id=report_id,
        report_version=2,
        signer_name="张先生",
        image_sha256="a" * 64,
        report_sha256=report_hash(second.report_fields()),
    )
    await d.queue(ReportSubmit, **{**form, "diagnosis": "after signing"})  # version 2 is signed
    await d.queue(
        FeedbackSubmit, feedback_id=feedback_id, job_id=job, attitude=5, efficiency=4, quality=5
    )
    await d.queue(
        FeedbackSubmit, feedback_id=feedback_id, job_id=job, attitude=1, efficiency=1, quality=1
    )
    await d.queue(PartRequest, request_id=uuid4(), job_id=job, part_id=str(uuid4()), qty=1)
    await d.queue(JobNote, job_id=other_job, text="not mine", base_version=1)
    await d.queue(JobNote, job_id=job, text="call first", base_version=2)  # after en_route
    await d.queue(JobNote, job_id=job, text="call first!", base_version=2)  # overwrites v3


EXPECTED = [
    ("applied", None, [], {"status": "en_route", "changed": True}),
    ("applied", None, [], {"level": 1}),
    ("applied", None, ["overdraw"], {"level": -1}),
    ("rejected", "forbidden", [], None),
    ("applied", None, [], {"version": 1}),
    ("applied", None, [], {"version": 2}),
    ("rejected", "report_superseded", [], None),
    ("applied", None, ["pending_blob"], {"report_version": 2}),
    ("rejected", "report_signed", [], None),
    ("applied", None, [], None),
    ("rejected", "duplicate_id", [], None),
    ("rejected", "not_found", [], None),
    ("rejected", "not_assigned", [], {"status": "assigned"}),
    ("applied", None, [], {"version": 3, "overwrote_version": 2}),
    ("applied", None, ["overwrite"], {"version": 4, "overwrote_version": 3}),
]


def _shape(result: Any) -> tuple[str, str | None, list[str], Any]:
    kept = result.result
    if isinstance(kept, dict):  # ids and hashes differ from run to run
        kept = {k: v for k, v in kept.items() if k not in {"feedback_id", "report_sha256"}} or None
    return (result.status, result.code, list(result.flags), kept)


@pytest.fixture(params=["one_pass", "op_by_op"])
def pass_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``op_by_op``: the first (whole-batch) flush is refused, as a constraint would refuse it,
    so the engine falls back to a savepoint per operation."""
    if request.param == "op_by_op":
        flush = PushBatch.flush
        refused: list[bool] = []

        async def refuse_once(self: PushBatch, tx: Any) -> None:
            if not refused:
                refused.append(True)
                raise Rejected("data_conflict", "refused for the test")
            await flush(self, tx)

        monkeypatch.setattr(PushBatch, "flush", refuse_once)
    return str(request.param)


async def test_both_passes_give_the_same_outcomes_and_data(
    client: Client, world: World, sessions: Sessions, pass_kind: str
) -> None:
    d = await device(client)
    await d.sync()
    await _queue_dependent_batch(d, world)
    results = await d.push()
    assert [_shape(r) for r in results] == EXPECTED
    async with sessions() as db:
        assert await verify_ledger(db) == []
        level = await db.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.location_id == world.locations["VAN-1"],
                StockLevel.part_id == world.parts[0],
            )
        )
        other_van = await db.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.location_id == world.locations["VAN-2"],
                StockLevel.part_id == world.parts[0],
            )
        )
        versions = (
            await db.execute(
                select(WorkReport.version, WorkReport.signed)
                .where(WorkReport.job_id == world.jobs["e1_a"])
                .order_by(WorkReport.version)
            )
        ).all()
        signatures = await db.scalar(select(func.count()).select_from(Signature))
        feedback = (
            (
                await db.execute(
                    select(Feedback.attitude).where(Feedback.job_id == world.jobs["e1_a"])
                )
            )
            .scalars()
            .all()
        )
    assert level == -1 and other_van == 1  # the refused consumption moved nothing
    assert [tuple(v) for v in versions] == [(1, False), (2, True)]
    assert signatures == 1 and list(feedback) == [5]


async def test_a_version_signed_right_after_it_is_submitted_is_stored_signed(
    client: Client, world: World, sessions: Sessions, pass_kind: str
) -> None:
    """Op by op, the version is written by its own operation's flush before the signature's
    operation flips ``signed``: that flip must reach the stored row too."""
    d = await device(client)
    await d.sync()
    job_id = str(world.jobs["e1_a"])
    report = await d.queue(ReportSubmit, report_id=uuid4(), job_id=job_id, **REPORT_TEXT)
    await d.queue(
        SignatureCapture,
        signature_id=uuid4(),
        report_id=report.report_id,
        report_version=1,
        signer_name="Ms Lee",
        image_sha256="b" * 64,
        report_sha256=report_hash(report.report_fields()),
    )
    results = await d.push()
    assert [r.status for r in results] == ["applied", "applied"]
    async with sessions() as db:
        stored = (
            await db.execute(
                select(WorkReport.version, WorkReport.signed).where(
                    WorkReport.report_id == report.report_id
                )
            )
        ).all()
    assert [tuple(v) for v in stored] == [(1, True)]
    await sync_until(d, lambda: (d.doc(f"report:{report.report_id}") or {}).get("signed") is True)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(Engine, "before_cursor_execute", count)
    yield seen
    event.remove(Engine, "before_cursor_execute", count)


@pytest.mark.parametrize("n", [30, 300])
async def test_one_pass_costs_the_same_statements_for_any_batch_size(
    client: Client, world: World, statements: list[str], n: int
) -> None:
    d = await device(client)
    await d.sync()
    job, van, part = str(world.jobs["e1_a"]), str(world.locations["VAN-1"]), str(world.parts[0])
    for i in range(n):
        if i % 3 == 0:
            await d.queue(
                FeedbackSubmit, feedback_id=uuid4(), job_id=job, attitude=5, efficiency=5, quality=5
            )
        elif i % 3 == 1:
            await d.queue(PartConsume, job_id=job, part_id=part, location_id=van, qty=1)
        else:
            await d.queue(JobNote, job_id=job, text=f"note {i}", base_version=1)
    statements.clear()
    results = await d.push()
    assert [r.status for r in results] == ["applied"] * n
    pushed = len(statements)
    # login-free (the token is cached), one request: auth, device, preload, one flush, replicate
    assert pushed <= 40, statements
