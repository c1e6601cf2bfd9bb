"""The Store: the sync engine's only IO seam.

One ``Store`` per server; every engine call runs inside ``Store.transaction()``, and all reads
and writes go through the ``StoreTx`` it yields. Implementations: ``sync.memory.MemoryStore``
(tests, simulator) and the server's SQL stores (SQLite, PostgreSQL). They all pass the contract
suite in ``tests/sync/contract.py``. What every implementation must keep true:

- A transaction commits when its ``async with`` block exits normally and rolls back completely
  when it exits by an exception. ``savepoint()`` nests: an exception leaving a savepoint block
  undoes exactly the writes made inside it.
- ``claim_device`` serialises work on one device: from the call until commit, no other
  transaction can claim the same device (``SELECT ... FOR UPDATE``; SQLite's single writer).
- Replica log: one row per ``(user_id, doc_key)`` holding the latest change. ``write_change``
  replaces the row and gives it a position greater than every position any reader has seen.
  ``read_changes`` only returns rows whose writers committed, never a row while an older
  position may still commit later: on PostgreSQL positions are ``(xid8, seq)`` and reads keep to
  ``txid < pg_snapshot_xmin(pg_current_snapshot())``; on SQLite ``txid`` is always 0.
- ``purge_removes`` deletes old remove rows and raises that user's ``horizon`` to the newest
  purged position, so cursors that might have missed a purged remove get ``reset_required``.
- Op records are never purged while their device is registered (replays depend on them).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Final, Literal, Protocol, TypeVar

import msgspec

Position = tuple[int, int]
"""``(txid, seq)``, compared as a tuple; opaque outside the store and the cursor."""

START: Final[Position] = (0, 0)
"""Before every change: reading after ``START`` returns the whole log."""

ChangeOp = Literal["put", "remove"]


class DeviceState(msgspec.Struct, frozen=True):
    """A device, the user it is bound to, and the last operation seq it processed."""

    device_id: uuid.UUID
    user_id: str
    last_seq: int = 0


class OpRecord(msgspec.Struct, frozen=True):
    """What the server did with one operation: enough to answer any replay byte for byte."""

    device_id: uuid.UUID
    seq: int
    op_id: uuid.UUID
    body_sha256: str  # hex digest of the operation's canonical encoding
    result: bytes  # the encoded OpResult exactly as first sent
    received_at: datetime
    body: bytes = b""  # a rejected operation's JSON, kept for review; empty when applied


class Blob(msgspec.Struct, frozen=True):
    sha256: str
    content_type: str
    data: bytes


class StoreTx(Protocol):
    """One open transaction. Methods may only be awaited until the transaction block exits."""

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A nested atomic block: an exception leaving it undoes only its own writes."""
        ...

    # -- devices and op records (push) ----------------------------------------------------
    async def device(self, device_id: uuid.UUID) -> DeviceState | None:
        """The device's state if it is registered; reads only, locks nothing (for pulls)."""
        ...

    async def claim_device(self, device_id: uuid.UUID, user_id: str) -> DeviceState:
        """The device's state, creating it bound to ``user_id`` when first seen, and locking it
        until commit. The returned ``user_id`` may differ: the caller decides what that means."""
        ...

    async def op_records(self, device_id: uuid.UUID, first: int, last: int) -> list[OpRecord]:
        """The device's records with ``first <= seq <= last``, by seq."""
        ...

    async def save_ops(
        self, device_id: uuid.UUID, records: Sequence[OpRecord], last_seq: int
    ) -> None:
        """Insert new records (seqs not yet stored) and set the device's ``last_seq``."""
        ...

    # -- replica logs (pull) --------------------------------------------------------------
    async def write_change(
        self, user_id: str, doc_key: str, op: ChangeOp, change: bytes
    ) -> Position:
        """Upsert the latest change of ``doc_key`` in ``user_id``'s log at a new position."""
        ...

    async def holders(self, doc_key: str) -> list[str]:
        """Users whose log currently holds a ``put`` of ``doc_key`` (to fan out updates)."""
        ...

    async def read_changes(
        self, user_id: str, after: Position, removes_after: Position, limit: int
    ) -> list[tuple[Position, bytes]]:
        """Up to ``limit`` committed rows of the log by position: puts after ``after``, removes
        after ``max(after, removes_after)``."""
        ...

    async def head(self, user_id: str) -> Position:
        """The newest committed position in the user's log, ``START`` when empty."""
        ...

    async def horizon(self, user_id: str) -> Position:
        """The newest position ever purged from the user's log, ``START`` if none."""
        ...

    async def purge_removes(self, older_than: datetime) -> int:
        """Delete remove rows written before ``older_than`` (all users); returns how many."""
        ...

    # -- blobs ----------------------------------------------------------------------------
    async def put_blob(self, blob: Blob) -> bool:
        """Store ``blob`` unless its hash is already stored; True when newly stored."""
        ...

    async def missing_blobs(self, hashes: Sequence[str]) -> list[str]:
        """The hashes not stored, in the given order."""
        ...

    async def get_blob(self, sha256: str) -> Blob | None: ...


TxT_co = TypeVar("TxT_co", bound=StoreTx, covariant=True)


class Store(Protocol[TxT_co]):
    """A transaction factory; the type parameter lets handlers see their store's own tx type
    (e.g. the SQL store's tx carries its session)."""

    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[TxT_co]:
        """``write=False`` promises the block only reads (pulls, blob lookups), so the store
        may run it beside the writer instead of queueing behind it."""
        ...
