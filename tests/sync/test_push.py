"""The push engine: ordering, idempotency, replays, gaps, poison operations, atomicity."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest

from sync.changes import encode_put
from sync.errors import (
    BadRequest,
    DeviceMismatch,
    IdConflict,
    OutOfOrder,
    PayloadTooLarge,
    Rejected,
    UpgradeRequired,
)
from sync.memory import MemoryStore, MemoryTx
from sync.messages import MAX_BATCH, OP_RESULT_DECODER, PUSH_RESPONSE_DECODER, OpResult
from sync.operations import JobNote, Operation
from sync.outcome import OpOutcome
from sync.push import Apply, Replay, Stop, decide, push
from sync.store import START, OpRecord
from tests.sync.devices import T0

DEVICE = uuid.UUID(int=0xD1)
ALICE, BOB = "alice", "bob"


def note(
    seq: int, text: str = "ok", *, id: uuid.UUID | None = None, **extra: Any
) -> dict[str, Any]:
    op = {"op": "job.note", "seq": seq, "id": str(id or uuid.UUID(int=seq)), "at": T0.isoformat()}
    return op | {"job_id": "j1", "text": text, "base_version": 1} | extra


def body(*ops: dict[str, Any], device: uuid.UUID = DEVICE, **envelope: Any) -> bytes:
    message = {"protocol": 1, "schema": 1, "device_id": str(device), "ops": list(ops)}
    return msgspec.json.encode(message | envelope)


async def handler(tx: MemoryTx, user: str, op: Operation) -> OpOutcome:
    """Writes a change and a row, then behaves as the note text says."""
    assert isinstance(op, JobNote)
    tx.set_row("applied", op.id, (tx.row("applied", op.id) or 0) + 1)
    await tx.write_change(user, f"job:{op.seq}", "put", encode_put("job", str(op.seq), 1, {}))
    match op.text:
        case "reject":
            raise Rejected("nope", "refused by a rule", flags=["conflict"], result={"why": 1})
        case "reject-outcome":
            return OpOutcome.rejected("nope", "refused by outcome")
        case "bug":
            raise ZeroDivisionError("a bug")
        case "flagged":
            return OpOutcome.applied({"n": 1}, ["pending_blob"])
    return OpOutcome.applied({"text": op.text})


class Engine:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.now = T0 + timedelta(minutes=5)

    async def push(self, data: bytes, user: str = ALICE) -> bytes:
        return await push(self.store, user, data, handler, now=self.now)

    async def results(self, data: bytes, user: str = ALICE) -> tuple[list[OpResult], Any]:
        reply = PUSH_RESPONSE_DECODER.decode(await self.push(data, user))
        return [OP_RESULT_DECODER.decode(r) for r in reply.results], reply

    async def applied(self) -> dict[Any, int]:
        async with self.store.transaction(write=False) as tx:
            return dict(tx.rows("applied"))

    async def keys(self, user: str = ALICE) -> list[bytes]:
        async with self.store.transaction(write=False) as tx:
            return [c for _, c in await tx.read_changes(user, START, START, 100)]


@pytest.fixture
def engine() -> Engine:
    return Engine()


# -- the decision table --------------------------------------------------------------------------
def _record(seq: int, op_id: uuid.UUID, digest: str = "d") -> OpRecord:
    return OpRecord(DEVICE, seq, op_id, digest, b"{}", T0)


@pytest.mark.parametrize(
    ("last_seq", "record", "seq", "expected"),
    [
        (3, _record(2, uuid.UUID(int=2)), 2, Replay),
        (3, _record(2, uuid.UUID(int=9)), 2, Stop),
        (3, _record(2, uuid.UUID(int=2), "other"), 2, Stop),
        (3, None, 4, Apply),
        (3, None, 6, Stop),
        (3, None, 2, Stop),
        (0, None, 1, Apply),
    ],
)
def test_decision_table(last_seq: int, record: OpRecord | None, seq: int, expected: type) -> None:
    decision = decide(last_seq, record, seq, uuid.UUID(int=seq), "d")
    assert type(decision) is expected


def test_decision_errors_name_the_problem() -> None:
    gap = decide(3, None, 6, uuid.uuid4(), "d")
    assert isinstance(gap, Stop) and isinstance(gap.error, OutOfOrder)
    assert gap.error.extra == {"seq": 6, "expected_seq": 4}
    forgotten = decide(3, None, 2, uuid.uuid4(), "d")
    assert isinstance(forgotten, Stop) and isinstance(forgotten.error, IdConflict)


# -- applying in order -----------------------------------------------------------------------------
async def test_applies_operations_in_order(engine: Engine) -> None:
    results, reply = await engine.results(body(note(1, "a"), note(2, "b")))
    assert [(r.seq, r.status, r.result) for r in results] == [
        (1, "applied", {"text": "a"}),
        (2, "applied", {"text": "b"}),
    ]
    assert reply.last_seq == 2 and reply.stopped is None
    assert all(r.received_at == engine.now for r in results)
    results, reply = await engine.results(body(note(3)))
    assert [r.seq for r in results] == [3] and reply.last_seq == 3


async def test_empty_batch_binds_the_device(engine: Engine) -> None:
    results, reply = await engine.results(body())
    assert results == [] and reply.last_seq == 0
    with pytest.raises(DeviceMismatch):
        await engine.push(body(), BOB)


async def test_replay_returns_the_stored_results_byte_for_byte(engine: Engine) -> None:
    first = await engine.push(body(note(1, "a"), note(2, "flagged")))
    engine.now += timedelta(hours=1)  # a later retry: received_at must not change
    again = await engine.push(body(note(1, "a"), note(2, "flagged")))
    assert again == first
    assert set((await engine.applied()).values()) == {1}


async def test_replay_ignores_member_order_and_whitespace(engine: Engine) -> None:
    op = note(1, "a")
    await engine.push(body(op))
    shuffled = dict(reversed(list(op.items())))
    data = body(shuffled).replace(b",", b" ,\n ")
    results, _ = await engine.results(data)
    assert results[0].status == "applied"
    assert list((await engine.applied()).values()) == [1]


async def test_a_batch_may_mix_replays_and_new_operations(engine: Engine) -> None:
    await engine.push(body(note(1), note(2)))
    results, reply = await engine.results(body(note(1), note(2), note(3)))
    assert [r.seq for r in results] == [1, 2, 3] and reply.last_seq == 3
    assert len(await engine.applied()) == 3


async def test_duplicate_seq_inside_a_batch_is_a_replay(engine: Engine) -> None:
    results, reply = await engine.results(body(note(1), note(1)))
    assert [r.seq for r in results] == [1, 1] and reply.last_seq == 1
    assert list((await engine.applied()).values()) == [1]


async def test_gap_stops_the_batch_and_keeps_earlier_operations(engine: Engine) -> None:
    results, reply = await engine.results(body(note(1), note(2), note(4), note(5)))
    assert [r.seq for r in results] == [1, 2]
    assert reply.last_seq == 2
    assert reply.stopped.code == "out_of_order" and reply.stopped.status == 409
    assert (reply.stopped.seq, reply.stopped.expected_seq) == (4, 3)
    assert len(await engine.applied()) == 2


async def test_gap_at_the_start_processes_nothing(engine: Engine) -> None:
    results, reply = await engine.results(body(note(2)))
    assert results == [] and reply.last_seq == 0 and reply.stopped.expected_seq == 1


async def test_reused_seq_with_another_id_is_an_id_conflict(engine: Engine) -> None:
    await engine.push(body(note(1), note(2)))
    results, reply = await engine.results(body(note(2, id=uuid.uuid4()), note(3)))
    assert results == []
    assert reply.stopped.code == "id_conflict" and reply.stopped.seq == 2
    assert reply.last_seq == 2 and len(await engine.applied()) == 2


async def test_reused_seq_and_id_with_other_content_is_an_id_conflict(engine: Engine) -> None:
    await engine.push(body(note(1, "original")))
    _, reply = await engine.results(body(note(1, "edited")))
    assert reply.stopped.code == "id_conflict"


# -- poison operations ---------------------------------------------------------------------------
async def test_rejection_rolls_back_its_effects_and_does_not_block(engine: Engine) -> None:
    results, reply = await engine.results(
        body(note(1, "reject"), note(2, "reject-outcome"), note(3))
    )
    assert [(r.status, r.code) for r in results] == [
        ("rejected", "nope"),
        ("rejected", "nope"),
        ("applied", None),
    ]
    assert results[0].flags == ["conflict"] and results[0].result == {"why": 1}
    assert results[0].message == "refused by a rule"
    assert reply.last_seq == 3
    assert list((await engine.applied()).values()) == [1]  # only seq 3's row survived
    assert await engine.keys() == [encode_put("job", "3", 1, {})]


async def test_rejections_replay_identically(engine: Engine) -> None:
    first = await engine.push(body(note(1, "reject")))
    assert await engine.push(body(note(1, "reject"))) == first


async def test_a_bug_rolls_back_the_whole_batch(engine: Engine) -> None:
    with pytest.raises(ZeroDivisionError):
        await engine.push(body(note(1), note(2, "bug")))
    assert await engine.applied() == {} and await engine.keys() == []
    _, reply = await engine.results(body())
    assert reply.last_seq == 0  # nothing recorded: the device re-sends later


async def test_invalid_operation_is_recorded_as_rejected(engine: Engine) -> None:
    bad = [
        note(1, base_version=-1),
        note(2) | {"unknown_member": 1},
        note(3) | {"op": "job.teleport"},
        note(4) | {"at": "2025-11-23T09:00:00"},  # no offset
        note(5, "x" * 10_001),
    ]
    results, reply = await engine.results(body(*bad, note(6)))
    assert [r.code for r in results] == ["invalid_operation"] * 5 + [None]
    assert "base_version" in (results[0].message or "")
    assert reply.last_seq == 6 and len(await engine.applied()) == 1
    assert await engine.push(body(*bad, note(6))) == await engine.push(body(*bad, note(6)))


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (timedelta(hours=24), True),
        (timedelta(hours=24, seconds=1), False),
        (-timedelta(days=90), True),
        (-timedelta(days=90, seconds=1), False),
    ],
)
async def test_event_time_sanity(engine: Engine, offset: timedelta, ok: bool) -> None:
    at = (engine.now + offset).isoformat()
    results, reply = await engine.results(body(note(1) | {"at": at}, note(2)))
    assert results[0].code == (None if ok else "bad_event_time")
    assert results[1].status == "applied" and reply.last_seq == 2


# -- refusals before the queue ---------------------------------------------------------------------
async def test_unreadable_seq_or_id_refuses_the_whole_request(engine: Engine) -> None:
    for broken in ({"seq": 0}, {"seq": "one"}, {"id": "not-a-uuid"}):
        with pytest.raises(BadRequest):
            await engine.push(body(note(1), note(2) | broken))
    assert await engine.applied() == {}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b'{"protocol":1,"schema":1}',
        b'{"protocol":1,"schema":1,"device_id":"x","ops":[]}',
        b'{"protocol":1,"schema":1,"device_id":"' + str(DEVICE).encode() + b'","ops":[],"x":1}',
        b'{"protocol":"1","schema":1,"device_id":"' + str(DEVICE).encode() + b'","ops":[]}',
    ],
)
async def test_malformed_requests(engine: Engine, data: bytes) -> None:
    with pytest.raises(BadRequest):
        await engine.push(data)


@pytest.mark.parametrize("envelope", [{"protocol": 0}, {"protocol": 2}, {"schema": 9}, {}])
async def test_upgrade_required_before_anything_touches_the_queue(
    engine: Engine, envelope: dict[str, int]
) -> None:
    message: dict[str, Any] = {"device_id": "garbage", "ops": [{"op": "from.the.future"}]}
    message |= envelope
    if envelope:
        message = {"protocol": 1, "schema": 1} | message
    with pytest.raises(UpgradeRequired) as caught:
        await engine.push(msgspec.json.encode(message))
    assert caught.value.extra["protocol_max"] == 1
    async with engine.store.transaction(write=False) as tx:
        assert await tx.device(DEVICE) is None


async def test_device_bound_to_another_user_is_refused(engine: Engine) -> None:
    await engine.push(body(note(1)))
    with pytest.raises(DeviceMismatch) as caught:
        await engine.push(body(note(2)), BOB)
    assert caught.value.status == 403
    assert len(await engine.applied()) == 1


async def test_size_limits(engine: Engine) -> None:
    with pytest.raises(PayloadTooLarge):
        await engine.push(body(*(note(i) for i in range(1, MAX_BATCH + 2))))
    with pytest.raises(PayloadTooLarge):
        await engine.push(b" " * (16 * 1024 * 1024 + 1))


async def test_concurrent_pushes_of_one_device_apply_once(engine: Engine) -> None:
    data = body(*(note(i) for i in range(1, 21)))
    answers = await asyncio.gather(*(engine.push(data) for _ in range(3)))
    assert answers[0] == answers[1] == answers[2]
    assert set((await engine.applied()).values()) == {1} and len(await engine.applied()) == 20


async def test_at_keeps_the_device_offset(engine: Engine) -> None:
    """The event time is the device's; only its instant is checked against the server's."""
    seen: list[datetime] = []

    async def spy(tx: MemoryTx, user: str, op: Operation) -> OpOutcome:
        seen.append(op.at)
        return OpOutcome.applied()

    at = "2025-11-23T17:00:00+08:00"
    await push(engine.store, ALICE, body(note(1) | {"at": at}), spy, now=engine.now)
    assert seen[0].isoformat() == at
