"""Compaction purges old removes; a device behind the horizon resets without losing its queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.syncing.compaction import compact
from server.syncing.scope import scope_keys
from server.syncing.store import SqlStore
from sync.operations import JobNote
from tests.syncing.test_sync_api import device, sync_until
from tests.world import World

Login = Callable[[str], Awaitable[dict[str, str]]]


async def test_reset_after_compaction_keeps_the_outbox(
    client: AsyncTestClient[Litestar],
    world: World,
    sessions: async_sessionmaker[AsyncSession],
    login: Login,
) -> None:
    d = await device(client)
    await d.sync()
    moved = str(world.jobs["e1_b"])
    start = datetime.now(UTC) + timedelta(hours=3)
    r = await client.post(
        f"/jobs/{moved}/assign",
        json={
            "engineer_id": str(world.users["engineer2"]),
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=1)).isoformat(),
        },
        headers=await login("dispatcher1"),
    )
    assert r.status_code == 200, r.text
    # The device is offline for longer than the retention window and queues work meanwhile.
    await d.queue(JobNote, job_id=str(world.jobs["e1_a"]), text="gate code 4711", base_version=1)
    store = SqlStore(sessions)
    assert await compact(store, 30, now=datetime.now(UTC) + timedelta(days=31)) > 0
    async with sessions() as db:
        scope = await scope_keys(db, str(world.users["engineer1"]))
    # Push first, then the pull meets reset_required and re-syncs from scratch.
    await sync_until(d, lambda: set(d.replica) == scope)
    (result,) = d.results.values()
    assert result.status == "applied"
    assert d.doc(f"job:{moved}") is None  # the purged remove was not missed
    assert await compact(store, 30, now=datetime.now(UTC) + timedelta(days=31)) == 0
