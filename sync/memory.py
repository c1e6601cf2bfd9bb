"""MemoryStore: a complete Store in process memory, for tests and the client simulator.

It is a real implementation, not a mock: transactions are serialised by one lock (like SQLite's
single writer), a ``write=False`` transaction refuses writes, and every write goes through an
undo log, so a transaction or savepoint that
exits by an exception really restores the state it started from. Positions are ``(0, seq)``.

Besides the Store protocol, ``MemoryTx`` offers small transactional tables (``row``,
``set_row``, ``rows``) so a business handler such as ``sync.toyhandler`` has somewhere to keep
its own state that rolls back with the operation. Values stored there must be treated as
immutable: replace them, never mutate them in place, or rollback cannot restore them.
"""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections.abc import AsyncIterator, Callable, Hashable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sync.store import START, Blob, ChangeOp, DeviceState, OpRecord, Position

_UNSET: Any = object()


class _Row(NamedTuple):
    position: Position
    op: ChangeOp
    change: bytes
    written_at: datetime


class _State:
    def __init__(self) -> None:
        self.devices: dict[uuid.UUID, DeviceState] = {}
        self.ops: dict[tuple[uuid.UUID, int], OpRecord] = {}
        self.logs: dict[str, dict[str, _Row]] = {}
        self.horizons: dict[str, Position] = {}
        self.counters: dict[str, int] = {"seq": 0}
        self.blobs: dict[str, Blob] = {}
        self.tables: dict[str, dict[Hashable, Any]] = {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MemoryStore:
    def __init__(self, clock: Callable[[], datetime] = _utcnow) -> None:
        self._state = _State()
        self._lock = asyncio.Lock()
        self._clock = clock

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[MemoryTx]:
        async with self._lock:
            tx = MemoryTx(self._state, self._clock, write=write)
            try:
                yield tx
            except BaseException:
                tx._rollback_to(0)
                raise
            finally:
                tx._closed = True


class MemoryTx:
    def __init__(self, state: _State, clock: Callable[[], datetime], *, write: bool) -> None:
        self._s = state
        self._clock = clock
        self._write = write
        self._undo: list[tuple[MutableMapping[Any, Any], Any, Any]] = []
        self._closed = False

    # -- undo log ---------------------------------------------------------------------------
    def _set(self, mapping: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        self._check_open()
        if not self._write:
            raise RuntimeError("write in a read-only transaction")
        self._undo.append((mapping, key, mapping.get(key, _UNSET)))
        if value is _UNSET:
            del mapping[key]
        else:
            mapping[key] = value

    def _rollback_to(self, mark: int) -> None:
        while len(self._undo) > mark:
            mapping, key, old = self._undo.pop()
            if old is _UNSET:
                mapping.pop(key, None)
            else:
                mapping[key] = old

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("transaction is closed")

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        self._check_open()
        mark = len(self._undo)
        try:
            yield
        except BaseException:
            self._rollback_to(mark)
            raise

    # -- devices and op records -------------------------------------------------------------
    async def device(self, device_id: uuid.UUID) -> DeviceState | None:
        self._check_open()
        return self._s.devices.get(device_id)

    async def claim_device(self, device_id: uuid.UUID, user_id: str) -> DeviceState:
        self._check_open()
        state = self._s.devices.get(device_id)
        if state is None:
            state = DeviceState(device_id=device_id, user_id=user_id)
            self._set(self._s.devices, device_id, state)
        return state

    async def op_records(self, device_id: uuid.UUID, first: int, last: int) -> list[OpRecord]:
        self._check_open()
        ops = self._s.ops
        found = (ops.get((device_id, seq)) for seq in range(first, last + 1))
        return [r for r in found if r is not None]

    async def save_ops(
        self, device_id: uuid.UUID, records: Sequence[OpRecord], last_seq: int
    ) -> None:
        state = self._s.devices[device_id]
        for record in records:
            if (device_id, record.seq) in self._s.ops:
                raise ValueError(f"op record {device_id}/{record.seq} already stored")
            self._set(self._s.ops, (device_id, record.seq), record)
        self._set(self._s.devices, device_id, DeviceState(device_id, state.user_id, last_seq))

    # -- replica logs -----------------------------------------------------------------------
    async def write_change(
        self, user_id: str, doc_key: str, op: ChangeOp, change: bytes
    ) -> Position:
        seq = self._s.counters["seq"] + 1
        self._set(self._s.counters, "seq", seq)
        position = (0, seq)
        log = self._s.logs.setdefault(user_id, {})
        self._set(log, doc_key, _Row(position, op, bytes(change), self._clock()))
        return position

    async def holders(self, doc_key: str) -> list[str]:
        self._check_open()
        return sorted(
            user
            for user, log in self._s.logs.items()
            if (row := log.get(doc_key)) is not None and row.op == "put"
        )

    async def read_changes(
        self, user_id: str, after: Position, removes_after: Position, limit: int
    ) -> list[tuple[Position, bytes]]:
        self._check_open()
        removes_after = max(after, removes_after)
        rows = (
            r
            for r in self._s.logs.get(user_id, {}).values()
            if r.position > after and (r.op == "put" or r.position > removes_after)
        )
        return [(r.position, r.change) for r in heapq.nsmallest(limit, rows)]

    async def head(self, user_id: str) -> Position:
        self._check_open()
        return max((r.position for r in self._s.logs.get(user_id, {}).values()), default=START)

    async def horizon(self, user_id: str) -> Position:
        self._check_open()
        return self._s.horizons.get(user_id, START)

    async def purge_removes(self, older_than: datetime) -> int:
        self._check_open()
        purged = 0
        for user_id, log in self._s.logs.items():
            old = [(k, r) for k, r in log.items() if r.op == "remove" and r.written_at < older_than]
            for key, row in old:
                self._set(log, key, _UNSET)
                if row.position > self._s.horizons.get(user_id, START):
                    self._set(self._s.horizons, user_id, row.position)
            purged += len(old)
        return purged

    # -- blobs ------------------------------------------------------------------------------
    async def put_blob(self, blob: Blob) -> bool:
        if blob.sha256 in self._s.blobs:
            self._check_open()
            return False
        self._set(self._s.blobs, blob.sha256, blob)
        return True

    async def missing_blobs(self, hashes: Sequence[str]) -> list[str]:
        self._check_open()
        return [h for h in hashes if h not in self._s.blobs]

    async def get_blob(self, sha256: str) -> Blob | None:
        self._check_open()
        return self._s.blobs.get(sha256)

    # -- business tables (MemoryStore only) -------------------------------------------------
    def row(self, table: str, key: Hashable) -> Any:
        """The value stored under ``key`` in ``table``, or None."""
        self._check_open()
        return self._s.tables.get(table, {}).get(key)

    def set_row(self, table: str, key: Hashable, value: Any) -> None:
        """Store ``value`` (treated as immutable) under ``key`` in ``table``."""
        self._set(self._s.tables.setdefault(table, {}), key, value)

    def rows(self, table: str) -> list[tuple[Hashable, Any]]:
        self._check_open()
        return list(self._s.tables.get(table, {}).items())
