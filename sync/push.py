"""POST /sync/push: apply a device's queued operations exactly once, in order.

What to do with each operation of a batch depends only on the device's last processed seq and
the stored record for the operation's seq (``decide``):

    stored record for seq     seq                  decision
    ------------------------  -------------------  ---------------------------------------------
    same op id and body hash  any                  replay: the stored result, byte for byte
    other op id or body       any                  stop the batch: id_conflict
    none                      == last_seq + 1      apply
    none                      >  last_seq + 1      stop the batch: out_of_order (expected_seq)
    none                      <= last_seq          stop the batch: id_conflict (record missing)

Applying one operation: an operation that failed validation is rejected ``invalid_operation``;
an event time more than 24 h ahead of the server or 90 days behind is rejected
``bad_event_time``; otherwise the business handler runs. A ``Rejected`` undoes whatever the
operation did. Either way the result is recorded and ``last_seq`` advances: a poison operation
never blocks the queue. Any other exception aborts the whole batch (nothing of it commits) and
propagates.

How the handler runs (``_apply_all``): a plain ``ApplyHandler`` gets a savepoint per operation.
A ``BatchHandler`` (``sync.outcome``) gets the whole batch in one pass inside one savepoint:
``prepare``, every ``apply`` (rejections come before any write), one ``flush``. Only if that
flush is refused is the pass rolled back and run again with a savepoint and a flush per
operation, so the refusal lands on the operation that caused it and the rest still apply. Both
passes give the same results; the first costs a few statements per batch, not several per op.

The batch is one transaction, committed before the response is sent: every result a client
receives is durable, and a lost response is answered again, identically, by the replay rule.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import msgspec

from sync.errors import (
    BadRequest,
    DeviceMismatch,
    IdConflict,
    OutOfOrder,
    PayloadTooLarge,
    Rejected,
    SyncError,
)
from sync.messages import (
    MAX_BATCH,
    MAX_PUSH_BYTES,
    OP_HEADER_DECODER,
    PUSH_REQUEST_DECODER,
    OpResult,
    PushRequest,
    PushResponse,
    Stopped,
)
from sync.operations import OPERATION_DECODER, Operation
from sync.outcome import ApplyHandler, BatchHandler, OpOutcome, TxT
from sync.store import DeviceState, OpRecord, Store
from sync.versions import check_versions

MAX_EVENT_LEAD: Final = timedelta(hours=24)
MAX_EVENT_AGE: Final = timedelta(days=90)
INVALID_OPERATION: Final = "invalid_operation"
BAD_EVENT_TIME: Final = "bad_event_time"

_CANONICAL = msgspec.json.Encoder(order="deterministic")
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True)
class Replay:
    record: OpRecord


@dataclass(frozen=True)
class Apply:
    pass


@dataclass(frozen=True)
class Stop:
    error: SyncError


Decision = Replay | Apply | Stop


def decide(
    last_seq: int, record: OpRecord | None, seq: int, op_id: uuid.UUID, digest: str
) -> Decision:
    """The table in the module docstring."""
    match record:
        case OpRecord(op_id=stored_id, body_sha256=stored_digest) if (
            stored_id == op_id and stored_digest == digest
        ):
            return Replay(record)
        case OpRecord(op_id=stored_id):
            return Stop(IdConflict(f"seq {seq} is already used by operation {stored_id}", seq=seq))
        case None if seq == last_seq + 1:
            return Apply()
        case None if seq > last_seq + 1:
            return Stop(
                OutOfOrder(
                    f"seq {seq} leaves a gap: the next seq must be {last_seq + 1}",
                    seq=seq,
                    expected_seq=last_seq + 1,
                )
            )
        case _:
            return Stop(IdConflict(f"seq {seq} was processed but no record is kept", seq=seq))


@dataclass(frozen=True)
class PushItem:
    """One operation of a batch: its ordering header, digest and, if valid, its typed form."""

    seq: int
    op_id: uuid.UUID
    digest: str
    op: Operation | None
    error: str | None = None
    raw: bytes = b""


def decode_push(body: bytes) -> tuple[PushRequest, list[PushItem]]:
    """Validate a push body: size, versions (first), envelope, then each operation on its own."""
    if len(body) > MAX_PUSH_BYTES:
        raise PayloadTooLarge(f"push body is over {MAX_PUSH_BYTES} bytes")
    check_versions(body)
    try:
        request = PUSH_REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(str(exc)) from None
    if len(request.ops) > MAX_BATCH:
        raise PayloadTooLarge(f"a batch holds at most {MAX_BATCH} operations")
    items = []
    for i, raw in enumerate(request.ops):
        try:
            header = OP_HEADER_DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            raise BadRequest(f"ops[{i}]: {exc}") from None
        try:
            op: Operation = OPERATION_DECODER.decode(raw)
        except msgspec.ValidationError as exc:
            digest = hashlib.sha256(raw).hexdigest()
            items.append(
                PushItem(header.seq, header.id, digest, None, f"ops[{i}]: {exc}", bytes(raw))
            )
            continue
        digest = hashlib.sha256(_CANONICAL.encode(op)).hexdigest()
        items.append(PushItem(header.seq, header.id, digest, op, raw=bytes(raw)))
    return request, items


async def push(
    store: Store[TxT],
    user_id: str,
    body: bytes,
    handler: ApplyHandler[TxT] | BatchHandler[TxT],
    *,
    now: datetime,
) -> bytes:
    """Process one push request of ``user_id``; returns the response body after commit."""
    request, items = decode_push(body)
    async with store.transaction() as tx:
        device = await tx.claim_device(request.device_id, user_id)
        if device.user_id != user_id:
            raise DeviceMismatch("this device is bound to another user")
        response = await _process(tx, device, items, handler, user_id, now)
    return _ENCODER.encode(response)


async def _process(
    tx: TxT,
    device: DeviceState,
    items: list[PushItem],
    handler: ApplyHandler[TxT] | BatchHandler[TxT],
    user_id: str,
    now: datetime,
) -> PushResponse:
    last_seq = device.last_seq
    records: dict[int, OpRecord] = {}
    if items and (first := min(i.seq for i in items)) <= last_seq:
        last = min(max(i.seq for i in items), last_seq)
        stored = await tx.op_records(device.device_id, first, last)
        records = {r.seq: r for r in stored}
    # Decide all first (decisions depend on seqs and records, not outcomes): ``plan`` holds
    # items to apply and records whose results are replayed.
    plan: list[PushItem | OpRecord] = []
    stopped = None
    for item in items:
        match decide(last_seq, records.get(item.seq), item.seq, item.op_id, item.digest):
            case Replay(record):
                plan.append(record)
            case Stop(error):
                stopped = Stopped(
                    code=error.code,
                    status=error.status,
                    detail=error.detail,
                    seq=item.seq,
                    expected_seq=error.extra.get("expected_seq"),
                )
                break
            case Apply():
                plan.append(item)
                # an exact duplicate later in this batch replays this item's result
                records[item.seq] = OpRecord(
                    device.device_id, item.seq, item.op_id, item.digest, b"", now
                )
                last_seq = item.seq
    applied = [p for p in plan if isinstance(p, PushItem)]
    outcomes = await _apply_all(tx, handler, user_id, applied, now)
    new = {
        item.seq: _record(device.device_id, item, outcome, now)
        for item, outcome in zip(applied, outcomes, strict=True)
    }
    if new:
        await tx.save_ops(device.device_id, list(new.values()), last_seq)
    results = [msgspec.Raw(new.get(p.seq, p).result) for p in plan]  # type: ignore[union-attr]
    return PushResponse(results=results, last_seq=last_seq, stopped=stopped)


def _record(device_id: uuid.UUID, item: PushItem, outcome: OpOutcome, now: datetime) -> OpRecord:
    result = _ENCODER.encode(
        OpResult(
            seq=item.seq,
            id=item.op_id,
            status=outcome.status,
            code=outcome.code,
            message=outcome.message,
            flags=list(outcome.flags),
            result=outcome.result,
            received_at=now,
        )
    )
    # A rejected operation keeps its payload for review: a report refused because the job
    # moved to someone else is then still on the server, not lost.
    kept = item.raw if outcome.status == "rejected" else b""
    return OpRecord(device_id, item.seq, item.op_id, item.digest, result, now, kept)


class _RolledBack(Exception):
    def __init__(self, outcome: OpOutcome) -> None:
        self.outcome = outcome


class _BatchRefused(Exception):
    """The one pass's flush was refused: roll it back, apply the batch op by op."""


async def _apply_all(
    tx: TxT,
    handler: ApplyHandler[TxT] | BatchHandler[TxT],
    user_id: str,
    items: list[PushItem],
    now: datetime,
) -> list[OpOutcome]:
    """Outcomes of ``items``, in order (the module docstring tells the two passes apart)."""
    if not items:
        return []
    if isinstance(handler, BatchHandler):
        await handler.prepare(tx, user_id, [i.op for i in items if i.op is not None])
        try:
            async with tx.savepoint():
                outcomes = [
                    await _apply(tx, handler, user_id, i, now, batch=handler) for i in items
                ]
                try:
                    await handler.flush(tx)
                except Rejected as refusal:
                    raise _BatchRefused from refusal
            return outcomes
        except _BatchRefused:
            handler.reset()
    return [await _apply(tx, handler, user_id, i, now) for i in items]


async def _apply(
    tx: TxT,
    handler: ApplyHandler[TxT] | BatchHandler[TxT],
    user_id: str,
    item: PushItem,
    now: datetime,
    *,
    batch: BatchHandler[TxT] | None = None,
) -> OpOutcome:
    """One operation: in ``batch``'s one pass, or alone in a savepoint (flushed inside it)."""
    if item.op is None:
        return OpOutcome.rejected(INVALID_OPERATION, item.error or "invalid operation")
    if not now - MAX_EVENT_AGE <= item.op.at <= now + MAX_EVENT_LEAD:
        return OpOutcome.rejected(
            BAD_EVENT_TIME,
            f"event time {item.op.at.isoformat()} is more than 24 h ahead of or 90 days "
            f"behind the server ({now.isoformat()})",
        )
    alone = batch is None
    batch = batch or (handler if isinstance(handler, BatchHandler) else None)
    try:
        if not alone:
            outcome = await batch.apply(tx, user_id, item.op)  # type: ignore[union-attr]
        else:
            async with tx.savepoint():
                if batch is None:
                    outcome = await handler(tx, user_id, item.op)  # type: ignore[operator]
                else:
                    outcome = await batch.apply(tx, user_id, item.op)
                    await batch.flush(tx)
                if outcome.status != "applied":
                    raise _RolledBack(outcome)
    except Rejected as rejection:
        outcome = OpOutcome.rejected(
            rejection.code, rejection.message, rejection.flags, rejection.result
        )
    except _RolledBack as rolled_back:
        outcome = rolled_back.outcome
    if alone and batch is not None and outcome.status != "applied":
        batch.reset()  # its savepoint rolled back: what the handler had read is stale
    return outcome
