"""Replica logs follow the database: scope builds, fan-out, scope changes, the commit guard."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.inventory.models import Part, StockLevel
from server.jobs.models import Job
from server.syncing.models import ReplicaChange
from server.syncing.replication import UnreplicatedChanges, commit, reconcile, touch
from server.syncing.scope import scope_keys
from tests.world import World

Sessions = async_sessionmaker[AsyncSession]


async def _log(db: AsyncSession, user: str) -> dict[str, dict[str, object]]:
    rows = await db.execute(
        select(ReplicaChange.doc_key, ReplicaChange.change).where(ReplicaChange.user_id == user)
    )
    return {k: msgspec.json.decode(c) for k, c in rows.tuples()}


def _puts(log: dict[str, dict[str, object]]) -> set[str]:
    return {k for k, c in log.items() if c["op"] == "put"}


async def _build(sessions: Sessions, user: str) -> None:
    async with sessions() as db:
        await reconcile(db, user)
        await commit(db)


async def test_scope_holds_own_jobs_and_what_they_need(sessions: Sessions, world: World) -> None:
    e1 = str(world.users["engineer1"])
    async with sessions() as db:
        keys = await scope_keys(db, e1)
    assert f"job:{world.jobs['e1_a']}" in keys and f"job:{world.jobs['e1_done']}" in keys
    assert f"job:{world.jobs['e2_a']}" not in keys and f"job:{world.jobs['open']}" not in keys
    assert f"customer:{world.customers[0]}" in keys and f"asset:{world.assets[0]}" in keys
    assert f"customer:{world.customers[1]}" not in keys  # engineer2's customer
    assert f"report:{world.reports['e1_done']}" in keys
    assert f"location:{world.locations['VAN-1']}" in keys
    assert f"location:{world.locations['VAN-2']}" not in keys  # another engineer's van
    assert {f"part:{p}" for p in world.parts} <= keys


async def test_build_then_fan_out_to_holders_only(sessions: Sessions, world: World) -> None:
    e1, e2 = str(world.users["engineer1"]), str(world.users["engineer2"])
    await _build(sessions, e1)
    await _build(sessions, e2)
    async with sessions() as db:
        log1 = await _log(db, e1)
        assert _puts(log1) == await scope_keys(db, e1)
        part = await db.get_one(Part, world.parts[0])
        part.name = "新名字"
        job = await db.get_one(Job, world.jobs["e1_a"])
        job.summary = "changed"
        await commit(db)
    async with sessions() as db:
        log1, log2 = await _log(db, e1), await _log(db, e2)
    part_key = f"part:{world.parts[0]}"
    assert log1[part_key]["doc"]["name"] == log2[part_key]["doc"]["name"] == "新名字"  # type: ignore[index]
    assert log1[f"job:{world.jobs['e1_a']}"]["doc"]["summary"] == "changed"  # type: ignore[index]
    assert f"job:{world.jobs['e1_a']}" not in log2


async def test_reassignment_moves_the_job_and_its_context(sessions: Sessions, world: World) -> None:
    e1, e2 = str(world.users["engineer1"]), str(world.users["engineer2"])
    await _build(sessions, e1)
    await _build(sessions, e2)
    job_key = f"job:{world.jobs['e1_b']}"  # at site 2, which no other job of engineer1 uses
    site_key = f"site:{world.sites[2]}"
    async with sessions() as db:
        job = await db.get_one(Job, world.jobs["e1_b"])
        job.engineer_id = world.users["engineer2"]
        await commit(db)
    async with sessions() as db:
        log1, log2 = await _log(db, e1), await _log(db, e2)
        assert log1[job_key]["op"] == "remove" and log1[site_key]["op"] == "remove"
        assert log2[job_key]["op"] == "put" and log2[site_key]["op"] == "put"
        assert _puts(log1) == await scope_keys(db, e1)
        assert _puts(log2) == await scope_keys(db, e2)


async def test_core_updates_are_replicated_when_touched(sessions: Sessions, world: World) -> None:
    e1 = str(world.users["engineer1"])
    await _build(sessions, e1)
    van, part = world.locations["VAN-1"], world.parts[0]
    async with sessions() as db:
        await db.execute(
            update(StockLevel)
            .where(StockLevel.location_id == van, StockLevel.part_id == part)
            .values(on_hand=StockLevel.on_hand - 1)
        )
        touch(db, f"stock:{van}/{part}")
        await commit(db)
        log = await _log(db, e1)
    assert log[f"stock:{van}/{part}"]["doc"]["on_hand"] == 2  # type: ignore[index]


async def test_commit_without_replicate_is_refused(sessions: Sessions, world: World) -> None:
    async with sessions() as db:
        job = await db.get_one(Job, world.jobs["e1_a"])
        job.summary = "sneaky"
        with pytest.raises(UnreplicatedChanges):
            await db.commit()
        await db.rollback()
    async with sessions() as db:
        assert (await db.get_one(Job, world.jobs["e1_a"])).summary == "job e1_a"


async def test_savepoints_inside_a_replicated_unit_of_work(
    sessions: Sessions, world: World
) -> None:
    async with sessions() as db:
        async with db.begin_nested():
            job = await db.get_one(Job, world.jobs["e1_a"])
            job.summary = "inside a savepoint"
        await commit(db)
    async with sessions() as db:
        assert (await db.get_one(Job, world.jobs["e1_a"])).summary == "inside a savepoint"
