"""The stock ledger on both backends: levels always equal the sum of their movements."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.errors import Conflict, Invalid
from server.inventory import ledger
from server.inventory.models import StockLevel, StockMovement
from server.syncing.replication import commit
from tests.inventory.snapshot import ledger_state
from tests.world import World

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def on_hand(sessions: Sessions, part_id: UUID, location_id: UUID) -> int | None:
    async with sessions() as db:
        return (
            await db.execute(
                select(StockLevel.on_hand).where(
                    StockLevel.part_id == part_id, StockLevel.location_id == location_id
                )
            )
        ).scalar_one_or_none()


async def move(sessions: Sessions, **kwargs: Any) -> StockMovement:
    async with sessions() as db:
        movement = await ledger.record_movement(db, at=NOW, **kwargs)
        await commit(db)
    return movement


async def test_series_keeps_levels_equal_to_sums(world: World, sessions: Sessions) -> None:
    van, wh = world.locations["VAN-1"], world.locations["WH-1"]
    part, fresh = world.parts[0], world.parts[4]  # VAN-1 holds 3 of part 0, none of part 4
    await move(sessions, part_id=part, location_id=van, kind="consumption", qty_delta=-2)
    overdrawn = await move(
        sessions, part_id=part, location_id=van, kind="consumption", qty_delta=-4
    )
    assert overdrawn.overdraw and await on_hand(sessions, part, van) == -3
    again = await move(sessions, part_id=part, location_id=van, kind="consumption", qty_delta=-1)
    assert again.overdraw  # still below zero: still flagged
    await move(sessions, part_id=part, location_id=van, kind="adjustment", qty_delta=4)
    await move(sessions, part_id=fresh, location_id=wh, kind="receipt", qty_delta=7)  # first row
    await move(sessions, part_id=fresh, location_id=wh, kind="return", qty_delta=-2)
    async with sessions() as db:
        out, into = await ledger.transfer(
            db, part_id=fresh, from_location_id=wh, to_location_id=van, qty=5, at=NOW
        )
        await commit(db)
    assert out.transfer_ref == into.transfer_ref and out.transfer_ref.startswith("TR-")
    assert (out.kind, out.qty_delta, into.kind, into.qty_delta) == (
        "transfer_out",
        -5,
        "transfer_in",
        5,
    )
    assert await on_hand(sessions, part, van) == 0
    assert await on_hand(sessions, fresh, wh) == 0
    assert await on_hand(sessions, fresh, van) == 5
    async with sessions() as db:
        assert await ledger.verify_ledger(db) == []
        flags = (
            await db.execute(
                select(StockMovement.overdraw).where(StockMovement.kind == "consumption")
            )
        ).scalars()
        assert sorted(flags) == [False, True, True]


INVALID = [
    ({"kind": "gift", "qty_delta": 1}, "kind"),
    ({"kind": "receipt", "qty_delta": 0}, "qty_delta"),
    ({"kind": "receipt", "qty_delta": -1}, "qty_delta"),
    ({"kind": "consumption", "qty_delta": 1}, "qty_delta"),
    ({"kind": "transfer_in", "qty_delta": -1}, "qty_delta"),
    ({"kind": "receipt", "qty_delta": 1, "at": datetime(2025, 1, 1)}, "at"),
    ({"kind": "receipt", "qty_delta": 1, "part_id": uuid4()}, "part_id"),
    ({"kind": "receipt", "qty_delta": 1, "location_id": uuid4()}, "location_id"),
    ({"kind": "receipt", "qty_delta": 1, "note": "n" * 301}, "note"),
    ({"kind": "receipt", "qty_delta": 1, "transfer_ref": "r" * 41}, "transfer_ref"),
]


async def test_invalid_movement_names_field_and_writes_nothing(
    world: World, sessions: Sessions
) -> None:
    before = await ledger_state(sessions)
    for change, field in INVALID:
        args = {"part_id": world.parts[0], "location_id": world.locations["WH-1"], "at": NOW}
        async with sessions() as db:
            with pytest.raises(Invalid) as caught:
                await ledger.record_movement(db, **(args | change))
            await commit(db)
        assert caught.value.field == field, change
    assert await ledger_state(sessions) == before


async def test_only_consumption_may_overdraw(world: World, sessions: Sessions) -> None:
    before = await ledger_state(sessions)
    for kind in ("adjustment", "return", "transfer_out"):
        async with sessions() as db:
            with pytest.raises(Conflict):
                await ledger.record_movement(
                    db,
                    part_id=world.parts[0],
                    location_id=world.locations["VAN-1"],
                    kind=kind,
                    qty_delta=-4,
                    at=NOW,
                )
            # A refused movement never leaves a half-write behind, even if the caller commits.
            await commit(db)
    assert await ledger_state(sessions) == before


async def test_refused_transfer_is_all_or_nothing(world: World, sessions: Sessions) -> None:
    wh, van = world.locations["WH-1"], world.locations["VAN-1"]
    before = await ledger_state(sessions)
    for src, dst in ((wh, van), (van, wh)):  # whichever location id sorts first
        async with sessions() as db:
            with pytest.raises(Conflict) as caught:
                await ledger.transfer(
                    db,
                    part_id=world.parts[0],
                    from_location_id=src,
                    to_location_id=dst,
                    qty=999,
                    at=NOW,
                )
            await commit(db)
        assert caught.value.field == "qty"
        assert await ledger_state(sessions) == before
    async with sessions() as db:
        with pytest.raises(Invalid) as bad:
            await ledger.transfer(
                db,
                part_id=world.parts[0],
                from_location_id=wh,
                to_location_id=uuid4(),
                qty=1,
                at=NOW,
            )
    assert bad.value.field == "to_location_id"


@pytest.mark.parametrize("existing", [True, False], ids=["existing-level", "first-row"])
async def test_concurrent_consumption_counts_every_line(
    world: World, sessions: Sessions, existing: bool
) -> None:
    part = world.parts[0] if existing else world.parts[5]
    van = world.locations["VAN-1"]
    start = 3 if existing else 0

    async def consume() -> None:
        async with sessions() as db:
            await ledger.record_movement(
                db, part_id=part, location_id=van, kind="consumption", qty_delta=-1, at=NOW
            )
            await commit(db)

    await asyncio.gather(*(consume() for _ in range(20)))
    assert await on_hand(sessions, part, van) == start - 20
    async with sessions() as db:
        assert await ledger.verify_ledger(db) == []
        overdrawn = (
            await db.execute(
                select(func.count()).where(
                    StockMovement.part_id == part, StockMovement.overdraw.is_(True)
                )
            )
        ).scalar_one()
    assert overdrawn == 20 - start


async def test_opposite_transfers_at_once_do_not_deadlock(world: World, sessions: Sessions) -> None:
    wh1, wh2 = world.locations["WH-1"], world.locations["WH-2"]

    async def send(src: UUID, dst: UUID) -> None:
        async with sessions() as db:
            await ledger.transfer(
                db, part_id=world.parts[0], from_location_id=src, to_location_id=dst, qty=1, at=NOW
            )
            await commit(db)

    await asyncio.gather(*(send(wh1, wh2) if i % 2 else send(wh2, wh1) for i in range(10)))
    assert await on_hand(sessions, world.parts[0], wh1) == 50
    assert await on_hand(sessions, world.parts[0], wh2) == 20
    async with sessions() as db:
        assert await ledger.verify_ledger(db) == []


async def test_verify_ledger_reports_a_level_that_drifted(world: World, sessions: Sessions) -> None:
    async with sessions() as db:
        level = (
            await db.execute(
                select(StockLevel).where(StockLevel.location_id == world.locations["WH-2"])
            )
        ).scalar_one()
        level.on_hand += 1
        await commit(db)
    async with sessions() as db:
        drift = await ledger.verify_ledger(db)
    assert drift == [
        ledger.LedgerMismatch(world.parts[0], world.locations["WH-2"], on_hand=21, ledger_sum=20)
    ]
