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

How the handler runs — a savepoint per operation, or a whole batch in one pass — is
``sync.apply``.

The batch is one transaction, committed before the response is sent: every result a client
receives is durable, and a lost response is answered again, identically, by the replay rule.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec

from sync.apply import apply_all
from sync.errors import (
    BadRequest,
    DeviceMismatch,
    IdConflict,
    OutOfOrder,
    PayloadTooLarge,
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
    outcomes = await apply_all(tx, handler, user_id, applied, now)
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
