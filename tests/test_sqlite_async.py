"""``server.sqlite_async``: aiosqlite with one thread hop per statement, on a real SQLite file.

What it must keep from SQLAlchemy's own aiosqlite adapter: rows, row counts, inserted ids,
errors as SQLAlchemy's exceptions, transactions and savepoints, streaming results; what it
changes: a statement crosses to the connection's thread once, not three or four times.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.database import create_engine
from server.settings import load_settings
from server.sqlite_async import _OneHopConnection


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path}/hops.db"
    engine = create_engine(load_settings(environ={}, database_url=url))
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield engine
    await engine.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every function aiosqlite hands to a connection's thread, as it is handed."""
    seen: list[Any] = []
    original: Any = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(fn)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_the_engine_uses_the_one_hop_adapter(db: AsyncEngine) -> None:
    async with db.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection, _OneHopConnection)


async def test_a_statement_is_one_hop(db: AsyncEngine, hops: list[Any]) -> None:
    async with db.begin() as conn:
        hops.clear()
        await conn.execute(text("INSERT INTO t (name) VALUES ('a'), ('b')"))
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert len(hops) == 2
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]


async def test_counts_ids_and_executemany(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        one = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert one.lastrowid == 1 and one.rowcount == 1
        many = await conn.execute(
            text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}]
        )
        assert many.rowcount == 2
        changed = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert changed.rowcount == 2
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["a", "b!", "c!"]


async def test_errors_are_sqlalchemys_and_roll_back(db: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(OperationalError, match="no such table"):
        async with db.connect() as conn:
            await conn.execute(text("SELECT * FROM missing"))
    async with db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_savepoints_and_streams(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        with pytest.raises(IntegrityError):
            async with conn.begin_nested():
                await conn.execute(text("INSERT INTO t (name) VALUES ('gone')"))
                await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        streamed = [r.name async for r in await conn.stream(text("SELECT name FROM t"))]
    assert streamed == ["kept"]
