"""Running the business handler over the operations a push applies (``sync.push`` decides which).

A plain ``ApplyHandler`` gets a savepoint per operation, rolled back on ``Rejected``. A
``BatchHandler`` (``sync.outcome``) gets the whole batch in one pass inside one savepoint:
``prepare``, every ``apply`` (its rejections come before any write), one ``flush``. Only if that
flush is refused is the pass rolled back and run again with a savepoint and a flush per
operation, so the refusal lands on the operation that caused it and the rest still apply. Both
passes give the same results; the first costs a few statements per batch, not several per op.
Before the handler sees an operation, the engine's own checks run: an operation that failed
validation is ``invalid_operation``, an event time too far ahead or behind ``bad_event_time``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final, Protocol

from sync.errors import Rejected
from sync.operations import Operation
from sync.outcome import ApplyHandler, BatchHandler, OpOutcome, TxT

MAX_EVENT_LEAD: Final = timedelta(hours=24)
MAX_EVENT_AGE: Final = timedelta(days=90)
INVALID_OPERATION: Final = "invalid_operation"
BAD_EVENT_TIME: Final = "bad_event_time"


class Item(Protocol):
    """What applying needs of a push item (``sync.push.PushItem``)."""

    @property
    def op(self) -> Operation | None: ...

    @property
    def error(self) -> str | None: ...


class _RolledBack(Exception):
    def __init__(self, outcome: OpOutcome) -> None:
        self.outcome = outcome


class _BatchRefused(Exception):
    """The one pass's flush was refused: roll it back, apply the batch op by op."""


async def apply_all(
    tx: TxT,
    handler: ApplyHandler[TxT] | BatchHandler[TxT],
    user_id: str,
    items: Sequence[Item],
    now: datetime,
) -> list[OpOutcome]:
    """Outcomes of ``items``, in order (the module docstring tells the two passes apart)."""
    if not items:
        return []
    batch = handler if isinstance(handler, BatchHandler) else None
    if batch is not None:
        await batch.prepare(tx, user_id, [i.op for i in items if i.op is not None])
        try:
            async with tx.savepoint():
                outcomes = [await _in_pass(tx, batch, user_id, i, now) for i in items]
                try:
                    await batch.flush(tx)
                except Rejected as refusal:
                    raise _BatchRefused from refusal
            return outcomes
        except _BatchRefused:
            batch.reset()
    return [await _alone(tx, handler, batch, user_id, i, now) for i in items]


def _refused_by_engine(item: Item, now: datetime) -> OpOutcome | None:
    """The engine's own checks, before any handler sees the operation."""
    if item.op is None:
        return OpOutcome.rejected(INVALID_OPERATION, item.error or "invalid operation")
    if not now - MAX_EVENT_AGE <= item.op.at <= now + MAX_EVENT_LEAD:
        return OpOutcome.rejected(
            BAD_EVENT_TIME,
            f"event time {item.op.at.isoformat()} is more than 24 h ahead of or 90 days "
            f"behind the server ({now.isoformat()})",
        )
    return None


def _rejected(rejection: Rejected) -> OpOutcome:
    return OpOutcome.rejected(rejection.code, rejection.message, rejection.flags, rejection.result)


async def _in_pass(
    tx: TxT, batch: BatchHandler[TxT], user_id: str, item: Item, now: datetime
) -> OpOutcome:
    """One operation of the one pass: nothing to roll back, its rejections precede its writes."""
    if (refused := _refused_by_engine(item, now)) is not None:
        return refused
    assert item.op is not None  # a missing operation is refused above
    try:
        return await batch.apply(tx, user_id, item.op)
    except Rejected as rejection:
        return _rejected(rejection)


async def _alone(
    tx: TxT,
    handler: ApplyHandler[TxT] | BatchHandler[TxT],
    batch: BatchHandler[TxT] | None,
    user_id: str,
    item: Item,
    now: datetime,
) -> OpOutcome:
    """One operation in its own savepoint (a batch handler's writes flushed inside it)."""
    if (refused := _refused_by_engine(item, now)) is not None:
        return refused
    assert item.op is not None  # a missing operation is refused above
    try:
        async with tx.savepoint():
            if batch is None:
                outcome = await handler(tx, user_id, item.op)  # type: ignore[operator]
            else:
                outcome = await batch.apply(tx, user_id, item.op)
                await batch.flush(tx)
            if outcome.status != "applied":
                raise _RolledBack(outcome)
        return outcome
    except Rejected as rejection:
        outcome = _rejected(rejection)
    except _RolledBack as rolled_back:
        outcome = rolled_back.outcome
    if batch is not None:
        batch.reset()  # its savepoint rolled back: what the handler had read is stale
    return outcome
