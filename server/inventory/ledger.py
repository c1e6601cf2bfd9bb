"""The stock ledger: the one way stock changes.

Rules that must stay true (a test checks them on SQLite and PostgreSQL):

- Every change is an append-only ``StockMovement`` line; the ``StockLevel`` row of that part and
  location moves by exactly the same delta in the same transaction, so ``on_hand`` always equals
  the sum of the level's movements (:func:`verify_ledger` proves it).
- Levels change by an atomic ``on_hand = on_hand + delta`` (and an insert-on-conflict for the first
  line), never read-modify-write, so concurrent writers on one level all count.
- Field consumption may take ``on_hand`` below zero: the part is physically gone, so the line is
  accepted and flagged ``overdraw`` for logistics to reconcile (DESIGN §5). Any other outgoing
  movement (a transfer, a negative adjustment or return) from stock that is not there is a
  mistake and is refused before anything is written.
- Each kind has a direction (``SIGNS``); a zero delta is never a movement.
- Levels are synced to engineers' replicas: every change marks its ``stock:`` document
  (``touch``), and whoever commits the unit of work runs ``replicate`` first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID, uuid4

import msgspec
from sqlalchemy import Table, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.database import begin_write
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
    now = datetime.now(UTC)
    guarded = qty_delta < 0 and kind not in MAY_OVERDRAW
    on_hand = await _bump_level(db, part_id, location_id, qty_delta, now, guarded=guarded)
    if on_hand is None:
        raise Conflict(
            f"not enough stock for this {kind.replace('_', ' ')}: it would go below zero",
            field="qty_delta",
        )
    # Core-level changes are invisible to flush tracking: tell replication which document moved.
    touch(db, f"stock:{location_id}/{part_id}")
    movement = StockMovement(
        part_id=part_id,
        location_id=location_id,
        kind=kind,
        qty_delta=qty_delta,
        at=at,
        recorded_at=now,
        actor_id=actor_id,
        job_id=job_id,
        shipment_id=shipment_id,
        transfer_ref=transfer_ref,
        overdraw=kind in MAY_OVERDRAW and on_hand < 0,
        note=note,
    )
    db.add(movement)
    await db.flush()
    return movement


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
    one ``transfer_ref`` (generated when empty). Refused whole if the source lacks the stock.

    All-or-nothing without a savepoint: everything that can refuse (both locations exist, the
    source has the stock) is settled before the second leg writes. Both level rows are locked in
    location-id order first, so two opposite transfers at once cannot deadlock on PostgreSQL
    (SQLite's single writer never does).
    """
    if qty <= 0:
        raise Invalid("a transfer moves a positive quantity", field="qty")
    if from_location_id == to_location_id:
        raise Invalid("a transfer needs two different locations", field="to_location_id")
    await begin_write(db)
    if not (await db.execute(select(exists().where(StockLocation.id == to_location_id)))).scalar():
        raise Invalid("no such stock location", field="to_location_id")
    await db.execute(
        select(StockLevel.id)
        .where(
            StockLevel.part_id == part_id,
            StockLevel.location_id.in_([from_location_id, to_location_id]),
        )
        .order_by(StockLevel.location_id)
        .with_for_update()
    )
    common: dict[str, Any] = {
        "part_id": part_id,
        "at": at,
        "actor_id": actor_id,
        "shipment_id": shipment_id,
        "transfer_ref": transfer_ref or f"TR-{uuid4().hex}",
        "note": note,
    }
    try:
        out = await record_movement(
            db, location_id=from_location_id, kind="transfer_out", qty_delta=-qty, **common
        )
    except Conflict as exc:
        raise Conflict("not enough stock at the source for this transfer", field="qty") from exc
    except Invalid as exc:
        if exc.field == "location_id":
            raise Invalid(exc.detail, field="from_location_id") from exc
        raise
    into = await record_movement(
        db, location_id=to_location_id, kind="transfer_in", qty_delta=qty, **common
    )
    return out, into


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


async def _bump_level(
    db: AsyncSession, part_id: UUID, location_id: UUID, delta: int, now: datetime, *, guarded: bool
) -> int | None:
    """Add ``delta`` to the level and return the new on_hand; None when ``guarded`` refuses.

    A guarded (outgoing, non-overdraw) change is a single conditional UPDATE: a missing row
    means zero stock, so it is refused too. Otherwise UPDATE first (the usual case) and, for the
    first line of a level, an insert whose conflict branch repeats the increment, so two first
    lines racing each other both count.
    """
    level = cast(Table, StockLevel.__table__)
    # ORM-enabled so a StockLevel already loaded in this session is refreshed, not left stale
    # (the replica renderer reads levels through the session right after).
    bump = (
        update(StockLevel)
        .where(StockLevel.part_id == part_id, StockLevel.location_id == location_id)
        .values(on_hand=StockLevel.on_hand + delta, updated_at=now)
        .returning(StockLevel.on_hand)
        .execution_options(synchronize_session="fetch")
    )
    if guarded:
        bump = bump.where(StockLevel.on_hand + delta >= 0)
    on_hand = (await db.execute(bump)).scalar_one_or_none()
    if on_hand is not None or guarded:
        return on_hand
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    first = insert(level).values(
        part_id=part_id,
        location_id=location_id,
        on_hand=delta,
        reserved=0,
        reorder_point=0,
        updated_at=now,
    )
    upsert = first.on_conflict_do_update(
        index_elements=[level.c.part_id, level.c.location_id],
        set_={"on_hand": level.c.on_hand + first.excluded.on_hand, "updated_at": now},
    ).returning(level.c.on_hand)
    return int((await db.execute(upsert)).scalar_one())
