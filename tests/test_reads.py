"""``server.database.Reads``: the hot paths' read-only transactions outside the ORM session.

What they promise: one snapshot per transaction, never a write, and on a SQLite file never a wait
for the writer (they run on the event loop thread, so a wait would stall every request).
"""

from __future__ import annotations

import time
from uuid import uuid4

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.database import begin_write, create_engine, reads_for
from server.settings import load_settings
from server.syncing.models import ReplicaHorizon


def _horizon(user: str) -> dict[str, object]:
    return {"user_id": user, "txid": 0, "seq": 1}


async def _users(reads_engine: AsyncEngine) -> set[str]:
    async with reads_for(reads_engine).transaction() as read:
        return set((await read.execute(select(ReplicaHorizon.user_id))).scalars())


async def test_one_instance_per_engine(engine: AsyncEngine) -> None:
    assert reads_for(engine) is reads_for(engine)


async def test_a_read_sees_one_snapshot(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A commit landing between two reads of one transaction is not seen by the second."""
    query = select(ReplicaHorizon.user_id)
    async with reads_for(engine).transaction() as read:
        before = set((await read.execute(query)).scalars())
        async with sessions() as db:
            await begin_write(db)
            await db.execute(insert(ReplicaHorizon).values(**_horizon("late")))
            await db.commit()
        after = set((await read.execute(query)).scalars())
        if engine.dialect.name == "postgresql":  # READ COMMITTED: each statement sees commits
            assert after == before | {"late"}
        else:
            assert after == before
    assert "late" in await _users(engine)


async def test_reads_never_wait_for_the_writer(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An open write transaction (SQLite's one writer lock held) does not delay a read, which
    sees only committed rows."""
    async with sessions() as db:
        await begin_write(db)
        await db.execute(insert(ReplicaHorizon).values(**_horizon("uncommitted")))
        await db.flush()
        t0 = time.perf_counter()
        seen = await _users(engine)
        assert time.perf_counter() - t0 < 1.0
        assert "uncommitted" not in seen
        await db.rollback()


async def test_a_read_transaction_cannot_write(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("query_only is the SQLite read connections' guard")
    with pytest.raises(OperationalError, match=r"readonly|read-only|query_only"):
        async with reads_for(engine).transaction() as read:
            await read.execute(insert(ReplicaHorizon).values(**_horizon(str(uuid4()))))
    assert await _users(engine) == set()


async def test_in_memory_sqlite_reads_through_the_async_engine() -> None:
    """A ``:memory:`` database exists only on its own connection: no second (sync) engine."""
    settings = load_settings(
        environ={}, database_url="sqlite+aiosqlite:///:memory:", secret_key="k" * 32
    )
    engine = create_engine(settings)
    try:
        async with reads_for(engine).transaction() as read:
            assert (await read.execute(select(1))).scalar() == 1
    finally:
        await engine.dispose()
