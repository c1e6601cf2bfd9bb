"""The SQL implementation of the sync engine's ``Store`` (SQLite and PostgreSQL).

It passes the same contract suite as ``sync.memory.MemoryStore`` (``tests/sync/contract.py``).
Positions are ``(txid, seq)``:

- PostgreSQL: ``txid`` is the writing transaction's id (``pg_current_xact_id()``) and ``seq``
  comes from the ``replica_seq`` sequence. Transactions commit out of order, so a reader must
  not return a row while an older transaction might still commit a smaller position: reads keep
  to ``txid < pg_snapshot_xmin(pg_current_snapshot())``. Every transaction below that bound has
  finished, so the ``(txid, seq)`` order of what a reader returns can never be filled in later.
- SQLite: one writer at a time (``BEGIN IMMEDIATE``), so commit order is ``seq`` order;
  ``txid`` is 0 and ``seq`` comes from the ``sync_counters`` row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable

from server.database import ReadTx, RowInserter, begin_write, reads_for
from server.syncing.models import (
    REPLICA_SEQ,
    BlobRecord,
    Device,
    OperationRecord,
    ReplicaChange,
    ReplicaHorizon,
    SyncCounter,
)
from sync.store import START, Blob, ChangeOp, DeviceState, OpRecord, Position

_PG_TXID: ColumnElement[int] = literal_column("pg_current_xact_id()::text::bigint")
_PG_XMIN: ColumnElement[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)


# The pull's reads, built once (building a statement and its cache key costs more than running
# it); ``[is_pg]`` picks the variant that reads only below PostgreSQL's snapshot xmin.
def _pull_reads(is_pg: bool) -> tuple[Any, Any]:
    position = tuple_(ReplicaChange.txid, ReplicaChange.seq)
    mine = ReplicaChange.user_id == bindparam("user_id")
    committed = ReplicaChange.txid < _PG_XMIN if is_pg else true()
    read = (
        select(ReplicaChange.txid, ReplicaChange.seq, ReplicaChange.change)
        .where(
            mine,
            position > tuple_(bindparam("after_txid"), bindparam("after_seq")),
            or_(
                ReplicaChange.op == "put",
                position > tuple_(bindparam("removes_txid"), bindparam("removes_seq")),
            ),
            committed,
        )
        .order_by(ReplicaChange.txid, ReplicaChange.seq)
        .limit(bindparam("limit"))
    )
    head = (
        select(ReplicaChange.txid, ReplicaChange.seq)
        .where(mine, committed)
        .order_by(ReplicaChange.txid.desc(), ReplicaChange.seq.desc())
        .limit(1)
    )
    return read, head


_READ_CHANGES, _HEAD = zip(_pull_reads(False), _pull_reads(True), strict=True)
_DEVICE = select(Device.user_id, Device.last_seq).where(Device.id == bindparam("device_id"))
_HORIZON = select(ReplicaHorizon.txid, ReplicaHorizon.seq).where(
    ReplicaHorizon.user_id == bindparam("user_id")
)


# The push's writes, built once per dialect for the same reason (an upsert's ``excluded``
# alone costs more to build than a small push's SQL takes to run).
def _push_writes(is_pg: bool) -> tuple[Any, Any]:
    upsert = pg_insert if is_pg else sqlite_insert
    claim = (
        upsert(Device)
        .values(
            id=bindparam("device_id"),
            user_id=bindparam("user_id"),
            last_seq=0,
            created_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    changes = upsert(ReplicaChange)
    if is_pg:
        changes = changes.values(txid=_PG_TXID, seq=REPLICA_SEQ.next_value())
    changes = changes.on_conflict_do_update(
        index_elements=["user_id", "doc_key"],
        set_={c: changes.excluded[c] for c in ("op", "change", "txid", "seq", "written_at")},
    )
    if not is_pg:
        return claim, changes
    positions = (ReplicaChange.txid, ReplicaChange.seq)
    return claim, changes.returning(*positions, sort_by_parameter_order=True)


_CLAIM_DEVICE, _WRITE_CHANGES = zip(_push_writes(False), _push_writes(True), strict=True)
_DEVICE_FOR_UPDATE = _DEVICE.with_for_update()
_SAVE_OPS = RowInserter(OperationRecord.__table__)  # Core rows: no ORM bulk path per row
_DEVICE_SEEN = (
    update(Device)
    .where(Device.id == bindparam("device_id"))
    .values(last_seq=bindparam("last_seq"), last_sync_at=bindparam("now"))
)
_RESERVE = (
    update(SyncCounter)
    .where(SyncCounter.name == "seq")
    .values(value=SyncCounter.value + bindparam("n"))
    .returning(SyncCounter.value)
)

ChangeRow = tuple[str, str, ChangeOp, bytes]
"""``(user_id, doc_key, op, change bytes)`` for :meth:`SqlTx.write_changes`."""


def _now() -> datetime:
    return datetime.now(UTC)


class SqlStore:
    """``before_commit`` runs at the end of every write transaction, inside it: the server
    passes ``replicate`` so replica logs follow what a push changed, atomically with it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        before_commit: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._before_commit = before_commit
        engine: AsyncEngine = sessions.kw["bind"]
        self._reads = reads_for(engine)
        self._is_pg = engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[SqlTx]:
        """A unit of work. ``write=False`` for pulls and lookups: a read-only transaction on
        ``server.database.Reads`` (no ORM session), which never queues behind writers."""
        if not write:
            async with self._reads.transaction() as read:
                yield SqlReadTx(read, is_pg=self._is_pg)
            return
        async with self._sessions() as db:
            await begin_write(db)
            tx = SqlTx(db)
            try:
                yield tx
                if self._before_commit is not None:
                    await self._before_commit(db)
            except BaseException:
                await db.rollback()
                raise
            await db.commit()


class SqlTx:
    """One open write transaction over an ``AsyncSession``; business handlers use ``tx.db``
    too, so an operation's effects and its record commit or roll back together."""

    def __init__(self, db: AsyncSession) -> None:
        self._db = db
        self.is_pg = db.get_bind().dialect.name == "postgresql"

    @property
    def db(self) -> AsyncSession:
        return self._db

    async def _execute(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Result[Any]:
        return await self._db.execute(statement, params)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self.db.begin_nested():
            yield

    def _insert(self, table: Any) -> Any:
        return pg_insert(table) if self.is_pg else sqlite_insert(table)

    # -- devices and op records -----------------------------------------------------------
    async def device(self, device_id: uuid.UUID) -> DeviceState | None:
        row = (await self._execute(_DEVICE, {"device_id": device_id})).first()
        if row is None:
            return None
        return DeviceState(device_id=device_id, user_id=str(row.user_id), last_seq=row.last_seq)

    async def claim_device(self, device_id: uuid.UUID, user_id: str) -> DeviceState:
        params = {"device_id": device_id, "user_id": uuid.UUID(user_id), "now": _now()}
        await self.db.execute(_CLAIM_DEVICE[self.is_pg], params)
        query = _DEVICE_FOR_UPDATE if self.is_pg else _DEVICE
        row = (await self.db.execute(query, {"device_id": device_id})).one()
        return DeviceState(device_id=device_id, user_id=str(row.user_id), last_seq=row.last_seq)

    async def op_records(self, device_id: uuid.UUID, first: int, last: int) -> list[OpRecord]:
        rows = await self._execute(
            select(
                OperationRecord.device_id,
                OperationRecord.seq,
                OperationRecord.op_id,
                OperationRecord.body_sha256,
                OperationRecord.result,
                OperationRecord.received_at,
                OperationRecord.body,
            )
            .where(OperationRecord.device_id == device_id, OperationRecord.seq.between(first, last))
            .order_by(OperationRecord.seq)
        )
        return [OpRecord(*r) for r in rows]

    async def save_ops(
        self, device_id: uuid.UUID, records: Sequence[OpRecord], last_seq: int
    ) -> None:
        if records:
            await _SAVE_OPS.execute(
                self.db,
                [
                    {
                        "device_id": r.device_id,
                        "seq": r.seq,
                        "op_id": r.op_id,
                        "body_sha256": r.body_sha256,
                        "result": r.result,
                        "received_at": r.received_at,
                        "body": r.body,
                    }
                    for r in records
                ],
            )
        params = {"device_id": device_id, "last_seq": last_seq, "now": _now()}
        await self.db.execute(_DEVICE_SEEN, params)

    # -- replica logs ---------------------------------------------------------------------
    async def write_change(
        self, user_id: str, doc_key: str, op: ChangeOp, change: bytes
    ) -> Position:
        positions = await self.write_changes([(user_id, doc_key, op, change)])
        return positions[0]

    async def write_changes(self, rows: Sequence[ChangeRow]) -> list[Position]:
        """Upsert many changes at once (scope fan-out, initial scope), each at a new position."""
        if not rows:
            return []
        now = _now()
        params = [
            {"user_id": u, "doc_key": k, "op": op, "change": c, "written_at": now}
            for u, k, op, c in rows
        ]
        if self.is_pg:
            result = await self.db.execute(_WRITE_CHANGES[True], params)
            return [(r.txid, r.seq) for r in result]
        first = await self._reserve(len(rows))
        for i, p in enumerate(params):
            p["txid"], p["seq"] = 0, first + i
        await self.db.execute(_WRITE_CHANGES[False], params)
        return [(0, first + i) for i in range(len(params))]

    async def _reserve(self, n: int) -> int:
        """The first of ``n`` fresh SQLite positions (the writer lock makes this safe)."""
        last = (await self.db.execute(_RESERVE, {"n": n})).scalar_one_or_none()
        if last is None:
            await self.db.execute(self._insert(SyncCounter).values(name="seq", value=n))
            last = n
        return int(last) - n + 1

    async def mark_built(self, user_id: str) -> None:
        """Record that the user's replica exists (a horizon row), so fan-outs include them."""
        await self.db.execute(
            self._insert(ReplicaHorizon)
            .values(user_id=user_id, txid=0, seq=0)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )

    async def holders(self, doc_key: str) -> list[str]:
        rows = await self._execute(
            select(ReplicaChange.user_id)
            .where(ReplicaChange.doc_key == doc_key, ReplicaChange.op == "put")
            .order_by(ReplicaChange.user_id)
        )
        return list(rows.scalars())

    async def read_changes(
        self, user_id: str, after: Position, removes_after: Position, limit: int
    ) -> list[tuple[Position, bytes]]:
        removes_after = max(after, removes_after)
        params = {
            "user_id": user_id,
            "after_txid": after[0],
            "after_seq": after[1],
            "removes_txid": removes_after[0],
            "removes_seq": removes_after[1],
            "limit": limit,
        }
        rows = (await self._execute(_READ_CHANGES[self.is_pg], params)).all()
        # Fetching all rows at once and unpacking them positionally: iterating the result
        # (a fetch per row) or reading rows by column name each cost a fifth more.
        return [((txid, seq), change) for txid, seq, change in rows]

    async def head(self, user_id: str) -> Position:
        row = (await self._execute(_HEAD[self.is_pg], {"user_id": user_id})).first()
        return (row.txid, row.seq) if row else START

    async def horizon(self, user_id: str) -> Position:
        row = (await self._execute(_HORIZON, {"user_id": user_id})).first()
        return (row.txid, row.seq) if row else START

    async def purge_removes(self, older_than: datetime) -> int:
        doomed = and_(ReplicaChange.op == "remove", ReplicaChange.written_at < older_than)
        rows = (
            await self.db.execute(
                select(ReplicaChange.user_id, ReplicaChange.txid, ReplicaChange.seq).where(doomed)
            )
        ).all()
        if not rows:
            return 0
        newest_by_user: dict[str, Position] = {}
        for r in rows:
            newest_by_user[r.user_id] = max(newest_by_user.get(r.user_id, START), (r.txid, r.seq))
        for user_id, position in newest_by_user.items():
            if position > await self.horizon(user_id):
                stmt = self._insert(ReplicaHorizon).values(
                    user_id=user_id, txid=position[0], seq=position[1]
                )
                await self.db.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["user_id"], set_={"txid": position[0], "seq": position[1]}
                    )
                )
        await self.db.execute(delete(ReplicaChange).where(doomed))
        return len(rows)

    # -- blobs ----------------------------------------------------------------------------
    async def put_blob(self, blob: Blob) -> bool:
        result = await self.db.execute(
            self._insert(BlobRecord)
            .values(
                sha256=blob.sha256,
                content_type=blob.content_type,
                size=len(blob.data),
                data=blob.data,
                stored_at=_now(),
            )
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def missing_blobs(self, hashes: Sequence[str]) -> list[str]:
        present = set(
            (
                await self._execute(
                    select(BlobRecord.sha256).where(BlobRecord.sha256.in_(list(hashes)))
                )
            ).scalars()
        )
        return [h for h in hashes if h not in present]

    async def get_blob(self, sha256: str) -> Blob | None:
        row = (
            await self._execute(
                select(BlobRecord.content_type, BlobRecord.data).where(BlobRecord.sha256 == sha256)
            )
        ).first()
        return Blob(sha256, row.content_type, row.data) if row else None


class SqlReadTx(SqlTx):
    """A read-only transaction on ``server.database.Reads``: the same reads, no ORM session."""

    def __init__(self, reader: ReadTx, *, is_pg: bool) -> None:
        self._reader = reader
        self.is_pg = is_pg

    @property
    def db(self) -> AsyncSession:
        raise RuntimeError("a read transaction has no ORM session")

    async def _execute(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Result[Any]:
        return await self._reader.execute(statement, params)
