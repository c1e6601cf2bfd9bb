"""The stock ledger: the one way stock changes.

Rules that must stay true (a test checks them on SQLite and PostgreSQL):

- Every change is an append-only ``StockMovement`` line; the ``StockLevel`` row of that part and
  location moves by exactly the same delta in the same transaction, so ``on_hand`` always equals
  the sum of the level's movements (:func:`verify_ledger` proves it).
- Levels change by an atomic ``on_hand = on_hand + delta`` (an insert-on-conflict that adds, so
  a level's first line needs no special case), never read-modify-write, so concurrent writers on
  one level all count. Checks against the current level (the below-zero rule, the ``overdraw``
  flag) read it locked: ``FOR UPDATE`` on PostgreSQL, the single writer on SQLite.
- Lines go through a :class:`Book`: ``load`` the levels, ``record`` lines (checked against the
  running level, nothing written yet), ``flush`` the lines in one insert and every level's summed
  delta in one upsert. A sync push records hundreds of lines with one load and one flush;
  :func:`record_movement` and :func:`transfer` are books of one and two lines.
- Field consumption may take ``on_hand`` below zero: the part is physically gone, so the line is
  accepted and flagged ``overdraw`` for logistics to reconcile (DESIGN §5). Any other outgoing
  movement (a transfer, a negative adjustment or return) from stock that is not there is a
  mistake and is refused before anything is written.
- Each kind has a direction (``SIGNS``); a zero delta is never a movement.
- Levels are synced to engineers' replicas: every change marks its ``stock:`` document
  (``touch``), and whoever commits the unit of work runs ``replicate`` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID, uuid4

import msgspec
from sqlalchemy import Sequence, Table, bindparam, exists, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.database import RowInserter, begin_write, in_chunks, in_list
from server.errors import Conflict, Invalid
from server.inventory.models import MOVEMENT_KINDS, Part, StockLevel, StockLocation, StockMovement
from server.syncing.replication import touch

# +1: the kind only adds stock; -1: it only removes stock; 0: either way (a correction).
SIGNS: dict[str, int] = {
    "receipt": +1,
    "transfer_in": +1,
    "transfer_out": -1,
    "consumption": -1,
    "adjustment": 0,
    "return": 0,
}
assert set(SIGNS) == set(MOVEMENT_KINDS)

# Kinds that may take on_hand below zero (and are then flagged ``overdraw``).
MAY_OVERDRAW = frozenset({"consumption"})


class LedgerMismatch(msgspec.Struct, frozen=True):
    """A level whose ``on_hand`` differs from the sum of its movements (should never exist)."""

    part_id: UUID
    location_id: UUID
    on_hand: int
    ledger_sum: int


# Built once: building these statements (an upsert's ``excluded`` above all) costs more than a
# small push's SQL takes to run.
_LEVELS = (
    select(StockLevel.part_id, StockLevel.location_id, StockLevel.on_hand)
    .where(tuple_(StockLevel.part_id, StockLevel.location_id).in_(in_list("pairs")))
    .order_by(StockLevel.location_id, StockLevel.part_id)
    .with_for_update()
)
_INSERT_LINES = RowInserter(StockMovement.__table__)
_TOP_LINE = select(func.max(StockMovement.id))
_PG_LINE_IDS = select(
    cast(Sequence, cast(Table, StockMovement.__table__).c.id.default).next_value()
).select_from(func.generate_series(1, bindparam("n")))


def _add_to_levels(is_pg: bool) -> Any:
    level = cast(Table, StockLevel.__table__)
    stmt = (pg_insert if is_pg else sqlite_insert)(level)
    return stmt.on_conflict_do_update(
        index_elements=[level.c.part_id, level.c.location_id],
        set_={
            "on_hand": level.c.on_hand + stmt.excluded.on_hand,
            "updated_at": stmt.excluded.updated_at,
        },
    )


_ADD_TO_LEVELS = (_add_to_levels(False), _add_to_levels(True))

Line = dict[str, Any]
"""One recorded ledger line: its ``stock_movements`` row (``id`` is set when the book flushes).
:func:`record_movement` and :func:`transfer` hand callers ``StockMovement`` objects (transient:
the row is already written) built from it."""


class Book:
    """Ledger lines of one unit of work, and the running level of every stock they move."""

    def __init__(self, db: AsyncSession) -> None:
        self._db = db
        self._on_hand: dict[tuple[UUID, UUID], int] = {}  # (part, location) -> level incl. lines
        self._pending: dict[tuple[UUID, UUID], int] = {}  # summed deltas not yet written
        self._lines: list[Line] = []  # recorded lines not yet written
        self._recorded_at = datetime.now(UTC)  # one unit of work records its lines at once

    async def load(self, pairs: Iterable[tuple[UUID, UUID]]) -> None:
        """Read and lock the levels of these ``(part_id, location_id)`` pairs (in location, part
        order, so two books never wait on each other in a cycle); a missing level is zero."""
        missing = [p for p in pairs if p not in self._on_hand]
        if not missing:  # the common case in a batch: every op after the first of a pair
            return
        wanted = sorted(set(missing), key=lambda p: (p[1], p[0]))
        await begin_write(self._db)
        for chunk in in_chunks(wanted):
            rows = await self._db.execute(_LEVELS, {"pairs": list(chunk)})
            found = {(r.part_id, r.location_id): r.on_hand for r in rows}
            self._on_hand.update({p: found.get(p, 0) for p in chunk})

    def on_hand(self, part_id: UUID, location_id: UUID) -> int:
        """The level including the lines recorded so far (the pair must be loaded)."""
        return self._on_hand[(part_id, location_id)]

    def record(
        self,
        *,
        part_id: UUID,
        location_id: UUID,
        kind: str,
        qty_delta: int,
        at: datetime,
        actor_id: UUID | None = None,
        job_id: UUID | None = None,
        shipment_id: UUID | None = None,
        transfer_ref: str = "",
        note: str = "",
    ) -> Line:
        """Add one line to the book and the running level; nothing is written until
        :meth:`flush`, which gives the line its ``id``. Raises :class:`Invalid` (naming the
        field) for a bad kind, delta or time, and :class:`Conflict` when a non-consumption line
        would take stock below zero; either way nothing is recorded. The pair must be loaded;
        part and location must exist."""
        _check(kind, qty_delta, at, transfer_ref, note)
        key = (part_id, location_id)
        on_hand = self._on_hand[key] + qty_delta
        if on_hand < 0 and qty_delta < 0 and kind not in MAY_OVERDRAW:
            raise Conflict(
                f"not enough stock for this {kind.replace('_', ' ')}: it would go below zero",
                field="qty_delta",
            )
        self._on_hand[key] = on_hand
        self._pending[key] = self._pending.get(key, 0) + qty_delta
        # Level changes are Core statements, invisible to flush tracking: tell replication.
        touch(self._db, f"stock:{location_id}/{part_id}")
        line: Line = {
            "part_id": part_id,
            "location_id": location_id,
            "kind": kind,
            "qty_delta": qty_delta,
            "at": at,
            "recorded_at": self._recorded_at,
            "actor_id": actor_id,
            "job_id": job_id,
            "shipment_id": shipment_id,
            "transfer_ref": transfer_ref,
            "overdraw": kind in MAY_OVERDRAW and on_hand < 0,
            "note": note,
        }
        self._lines.append(line)
        return line

    async def flush(self) -> None:
        """Insert the recorded lines (numbered here, so one executemany inserts them all rather
        than one ``INSERT … RETURNING id`` each) and move every level by its lines' summed delta
        (one upsert that adds, for all levels). Lines are Core rows, not ORM objects: a push
        records hundreds, and an ORM object costs more to build and flush than its insert."""
        lines, self._lines = self._lines, []
        if lines:
            with self._db.no_autoflush:  # the caller flushes the session when it is ready
                await self._number(lines)
            await _INSERT_LINES.execute(self._db, lines)
        now = datetime.now(UTC)
        rows = [
            {
                "part_id": part_id,
                "location_id": location_id,
                "on_hand": delta,
                "reserved": 0,
                "reorder_point": 0,
                "updated_at": now,
            }
            for (part_id, location_id), delta in self._pending.items()
            if delta
        ]
        self._pending.clear()
        if not rows:
            return
        is_pg = self._db.get_bind().dialect.name == "postgresql"
        await self._db.execute(_ADD_TO_LEVELS[is_pg], rows)

    async def _number(self, lines: list[Line]) -> None:
        if self._db.get_bind().dialect.name == "postgresql":
            numbers = await self._db.execute(_PG_LINE_IDS, {"n": len(lines)})
            ids: list[int] = list(numbers.scalars())
        else:  # the writer lock is held (load() began the write): nobody else numbers lines
            top = await self._db.scalar(_TOP_LINE)
            ids = list(range((top or 0) + 1, (top or 0) + 1 + len(lines)))
        for line, id_ in zip(lines, ids, strict=True):
            line["id"] = id_


async def record_movement(
    db: AsyncSession,
    *,
    part_id: UUID,
    location_id: UUID,
    kind: str,
    qty_delta: int,
    at: datetime,
    actor_id: UUID | None = None,
    job_id: UUID | None = None,
    shipment_id: UUID | None = None,
    transfer_ref: str = "",
    note: str = "",
) -> StockMovement:
    """Append one ledger line and move its stock level by ``qty_delta``, atomically.

    Raises :class:`Invalid` (naming the field) for a bad kind, delta, time or unknown part or
    location, and :class:`Conflict` when a non-consumption movement would take stock below zero;
    in both cases nothing has been written.
    """
    _check(kind, qty_delta, at, transfer_ref, note)
    await begin_write(db)
    await _check_exists(db, part_id, location_id)
    book = Book(db)
    await book.load([(part_id, location_id)])
    line = book.record(
        part_id=part_id,
        location_id=location_id,
        kind=kind,
        qty_delta=qty_delta,
        at=at,
        actor_id=actor_id,
        job_id=job_id,
        shipment_id=shipment_id,
        transfer_ref=transfer_ref,
        note=note,
    )
    await db.flush()  # rows the line refers to (a new shipment, say) are written first
    await book.flush()
    return StockMovement(**line)


async def transfer(
    db: AsyncSession,
    *,
    part_id: UUID,
    from_location_id: UUID,
    to_location_id: UUID,
    qty: int,
    at: datetime,
    actor_id: UUID | None = None,
    shipment_id: UUID | None = None,
    transfer_ref: str = "",
    note: str = "",
) -> tuple[StockMovement, StockMovement]:
    """Move ``qty`` from one location to another: a ``transfer_out``/``transfer_in`` pair sharing
    one ``transfer_ref`` (generated when empty). Refused whole if the source lacks the stock:
    both legs are recorded in one book, so nothing is written unless both are accepted."""
    if qty <= 0:
        raise Invalid("a transfer moves a positive quantity", field="qty")
    if from_location_id == to_location_id:
        raise Invalid("a transfer needs two different locations", field="to_location_id")
    await begin_write(db)
    if not (await db.execute(select(exists().where(StockLocation.id == to_location_id)))).scalar():
        raise Invalid("no such stock location", field="to_location_id")
    try:
        await _check_exists(db, part_id, from_location_id)
    except Invalid as exc:
        field = "from_location_id" if exc.field == "location_id" else exc.field
        raise Invalid(exc.detail, field=field) from exc
    book = Book(db)
    await book.load([(part_id, from_location_id), (part_id, to_location_id)])
    common: dict[str, Any] = {
        "part_id": part_id,
        "at": at,
        "actor_id": actor_id,
        "shipment_id": shipment_id,
        "transfer_ref": transfer_ref or f"TR-{uuid4().hex}",
        "note": note,
    }
    try:
        out = book.record(
            location_id=from_location_id, kind="transfer_out", qty_delta=-qty, **common
        )
    except Conflict as exc:
        raise Conflict("not enough stock at the source for this transfer", field="qty") from exc
    into = book.record(location_id=to_location_id, kind="transfer_in", qty_delta=qty, **common)
    await db.flush()
    await book.flush()
    return StockMovement(**out), StockMovement(**into)


async def verify_ledger(db: AsyncSession) -> list[LedgerMismatch]:
    """Every (part, location) whose level is not the sum of its movements; empty when sound."""
    sums_rows = await db.execute(
        select(
            StockMovement.part_id, StockMovement.location_id, func.sum(StockMovement.qty_delta)
        ).group_by(StockMovement.part_id, StockMovement.location_id)
    )
    sums: dict[tuple[UUID, UUID], int] = {(p, loc): int(s) for p, loc, s in sums_rows}
    levels_rows = await db.execute(
        select(StockLevel.part_id, StockLevel.location_id, StockLevel.on_hand)
    )
    levels: dict[tuple[UUID, UUID], int] = {(p, loc): int(n) for p, loc, n in levels_rows}
    mismatches = [
        LedgerMismatch(
            part, location, levels.get((part, location), 0), sums.get((part, location), 0)
        )
        for part, location in sorted(sums.keys() | levels.keys())
        if levels.get((part, location), 0) != sums.get((part, location), 0)
    ]
    return mismatches


def _check(kind: str, qty_delta: int, at: datetime, transfer_ref: str, note: str) -> None:
    if kind not in SIGNS:
        raise Invalid(f"unknown movement kind {kind!r}", field="kind")
    if qty_delta == 0:
        raise Invalid("a movement must change the quantity", field="qty_delta")
    sign = SIGNS[kind]
    if sign and (qty_delta > 0) != (sign > 0):
        direction = "add" if sign > 0 else "remove"
        raise Invalid(f"a {kind.replace('_', ' ')} must {direction} stock", field="qty_delta")
    if at.tzinfo is None:
        raise Invalid("the movement time needs a time zone", field="at")
    # The column widths: refuse here rather than fail (or truncate) in the database.
    if len(transfer_ref) > 40:
        raise Invalid("a transfer reference has at most 40 characters", field="transfer_ref")
    if len(note) > 300:
        raise Invalid("a note has at most 300 characters", field="note")


async def _check_exists(db: AsyncSession, part_id: UUID, location_id: UUID) -> None:
    row = (
        await db.execute(
            select(
                exists().where(Part.id == part_id),
                exists().where(StockLocation.id == location_id),
            )
        )
    ).one()
    if not row[0]:
        raise Invalid("no such part", field="part_id")
    if not row[1]:
        raise Invalid("no such stock location", field="location_id")
