"""Request and job numbers: per local day, gap-free under concurrent writers, never wrapping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.database import begin_write
from server.jobs.models import ServiceRequest
from server.jobs.numbering import insert_numbered
from server.settings import Settings
from server.syncing.replication import commit
from tests.world import World

Sessions = async_sessionmaker[AsyncSession]


def _request(world: World, now: datetime) -> ServiceRequest:
    return ServiceRequest(
        channel="phone",
        category="fault",
        urgency="low",
        status="open",
        customer_id=world.customers[0],
        site_id=world.sites[0],
        problem="p",
        received_at=now,
        response_due=now,
        resolution_due=now,
    )


async def test_concurrent_writers_get_consecutive_numbers(
    sessions: Sessions, world: World, settings: Settings
) -> None:
    now = datetime.now(UTC)
    day = now.astimezone(ZoneInfo(settings.timezone)).strftime("%Y%m%d")
    async with sessions() as first, sessions() as second:
        await begin_write(first)
        one = _request(world, now)
        await insert_numbered(first, one, "SR", now, settings.timezone)

        async def other_writer() -> str:
            await begin_write(second)
            two = _request(world, now)
            await insert_numbered(second, two, "SR", now, settings.timezone)
            await commit(second)
            return two.number

        task = asyncio.create_task(other_writer())
        await asyncio.sleep(0.3)
        assert not task.done()  # it waits for the first writer instead of reusing its number
        await commit(first)
        assert await asyncio.wait_for(task, 10) == f"SR-{day}-0002"
    assert one.number == f"SR-{day}-0001"


async def test_numbers_grow_a_digit_past_9999(
    sessions: Sessions, world: World, settings: Settings
) -> None:
    now = datetime.now(UTC)
    day = now.astimezone(ZoneInfo(settings.timezone)).strftime("%Y%m%d")
    async with sessions() as db:
        await begin_write(db)
        last = _request(world, now)
        last.number = f"SR-{day}-9999"
        db.add(last)
        other_prefix = _request(world, now)
        other_prefix.number = f"SRX-{day}-5000"
        db.add(other_prefix)
        rows = [_request(world, now) for _ in range(2)]
        for row in rows:
            await insert_numbered(db, row, "SR", now, settings.timezone)
        await commit(db)
    assert [r.number for r in rows] == [f"SR-{day}-10000", f"SR-{day}-10001"]
