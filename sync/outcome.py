"""The contract between the push engine and the business handler that applies operations.

A handler is ``async def apply(tx, user_id, op) -> OpOutcome``. It runs inside a savepoint of
the batch transaction and must do all its writes through ``tx``. It either

- returns ``OpOutcome.applied(result, flags)`` — its writes are kept; or
- raises ``sync.errors.Rejected(code, message, flags=…)`` — its writes are rolled back, the
  rejection is recorded as the operation's result and the device's queue moves on.

Any other exception is a bug or an outage: the whole batch rolls back and the request fails, so
that nothing is recorded as done that was not done. Returning an outcome with status
``rejected`` is treated exactly like raising ``Rejected``.

A handler that also implements :class:`BatchHandler` lets the engine apply a whole batch without
a savepoint and a round trip per operation (``sync.push`` explains the two passes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeVar, runtime_checkable

import msgspec

from sync.messages import OpStatus
from sync.operations import Operation
from sync.store import StoreTx

# Flags v1. Clients show them; they must ignore flags they do not know.
OVERDRAW: Final = "overdraw"  # part.consume took stock below zero: accepted, to be reconciled
OVERWRITE: Final = "overwrite"  # job.note replaced text the device had not seen
CONFLICT: Final = "conflict"  # the device's view was stale (job.status)
PENDING_BLOB: Final = "pending_blob"  # a referenced file has not been uploaded yet
FLAGS: Final = (OVERDRAW, OVERWRITE, CONFLICT, PENDING_BLOB)


class OpOutcome(msgspec.Struct, frozen=True, kw_only=True):
    status: OpStatus = "applied"
    code: str | None = None
    message: str | None = None
    result: dict[str, Any] | None = None
    flags: tuple[str, ...] = ()

    @classmethod
    def applied(
        cls, result: Mapping[str, Any] | None = None, flags: Sequence[str] = ()
    ) -> OpOutcome:
        return cls(result=dict(result) if result is not None else None, flags=tuple(flags))

    @classmethod
    def rejected(
        cls,
        code: str,
        message: str,
        flags: Sequence[str] = (),
        result: Mapping[str, Any] | None = None,
    ) -> OpOutcome:
        return cls(
            status="rejected",
            code=code,
            message=message,
            result=dict(result) if result is not None else None,
            flags=tuple(flags),
        )


TxT = TypeVar("TxT", bound=StoreTx)

ApplyHandler = Callable[[TxT, str, Operation], Awaitable[OpOutcome]]
"""``apply(tx, user_id, op)``; generic in the store's transaction type."""


_TxC = TypeVar("_TxC", bound=StoreTx, contravariant=True)


@runtime_checkable
class BatchHandler(Protocol[_TxC]):
    """A handler that applies a batch as one unit of work.

    - ``prepare(tx, user_id, ops)`` once per batch, before any ``apply``: read (and lock) what
      the operations will look at, in as few round trips as it likes.
    - ``apply(tx, user_id, op)`` as for ``ApplyHandler``, with one more rule: **it raises
      ``Rejected`` only before its first write**, so a rejected operation needs no rollback. Its
      writes may stay pending in the transaction until ``flush``.
    - ``flush(tx)`` writes what is pending; raises ``Rejected`` when the database refuses it.
    - ``reset()`` forgets what was read, after the engine rolled back.
    """

    async def prepare(self, tx: _TxC, user_id: str, ops: Sequence[Operation]) -> None: ...

    async def apply(self, tx: _TxC, user_id: str, op: Operation) -> OpOutcome: ...

    async def flush(self, tx: _TxC) -> None: ...

    def reset(self) -> None: ...
