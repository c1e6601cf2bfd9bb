"""``server.database.RowInserter``: many rows of one table in one statement, values converted
once per distinct value and handed to the driver as they are.

The promise that matters: a row stored through it is stored exactly as ``insert(table)`` would
store it (the same bytes for ids, the same text or timestamp for times, the same JSON), on both
backends; defaults fill what a row leaves out; a database error is SQLAlchemy's usual one, so
the push's handling of a conflict stays the same.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.database import RowInserter, begin_write
from server.feedback.models import Feedback
from server.reports.models import WorkReport
from tests.world import World

FEEDBACK = Feedback.__table__
REPORTS = WorkReport.__table__
SHANGHAI = timezone(timedelta(hours=8))


def _feedback(world: World, i: int, **extra: Any) -> dict[str, Any]:
    return {
        "job_id": world.jobs[sorted(world.jobs)[i % 2]],
        "attitude": 1 + i % 5,
        "efficiency": 5,
        "quality": 4,
        # one instant written with two offsets: both must be stored as the same UTC time
        "submitted_at": datetime(2026, 12, 6, 9, 30, i, tzinfo=UTC)
        if i % 2
        else datetime(2026, 12, 6, 17, 30, i, tzinfo=SHANGHAI),
        "received_at": world.now,
        **extra,
    }


def _report(world: World, i: int) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "report_id": uuid4(),
        "job_id": world.jobs[sorted(world.jobs)[0]],
        "version": 100 + i,
        "author_id": world.users["engineer1"],
        "diagnosis": f"Diagnosis {i} — ünïcode",
        "root_cause_category": "wear",
        "root_cause": "Bearing",
        "actions": "Replaced",
        "labour_minutes": 30 + i,
        "parts": [{"part_id": str(world.parts[0]), "qty": i}] if i % 2 else [],
        "content_sha256": f"{i:064x}",
        "signed": bool(i % 2),
        "submitted_at": world.now,
        "received_at": world.now,
    }


async def _stored(db: AsyncSession, table: Any) -> Counter[tuple[Any, ...]]:
    """Every row as the driver returns it (no SQLAlchemy type conversion), ``id`` left out."""
    columns = ", ".join(c.name for c in table.columns if c.name != "id")
    rows = await (await db.connection()).exec_driver_sql(f"SELECT {columns} FROM {table.name}")
    return Counter(tuple(_hashable(v) for v in r) for r in rows)


def _hashable(value: Any) -> Any:
    """asyncpg hands JSON back decoded: compare it as canonical text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


async def test_rows_are_stored_as_insert_stores_them(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Feedback (times in two offsets, defaults) and report versions (JSON, booleans, text):
    the same rows stored through ``insert(table)`` and then, instead, through the inserter
    leave the same values in the database."""
    for table, make in ((FEEDBACK, _feedback), (REPORTS, _report)):
        rows = [make(world, i) for i in range(6)]
        if table is FEEDBACK:  # the inserter leaves id, comment and channel to the defaults
            twins = [r | {"id": uuid4(), "comment": "", "channel": "device"} for r in rows]
        else:
            twins = rows
        async with sessions() as db:
            await begin_write(db)
            before = await _stored(db, table)
            await db.execute(insert(table), twins)
            by_insert = await _stored(db, table) - before
            await db.execute(delete(table).where(table.c.id.in_([t["id"] for t in twins])))
            await RowInserter(table).execute(db, rows)
            by_inserter = await _stored(db, table) - before
            await db.rollback()
        assert sum(by_insert.values()) == len(rows)
        assert by_inserter == by_insert


async def test_defaults_fill_what_a_row_leaves_out(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as db:
        await begin_write(db)
        await RowInserter(FEEDBACK).execute(db, [_feedback(world, i) for i in range(3)])
        await db.commit()
    async with sessions() as db:
        stored = (await db.execute(select(Feedback))).scalars().all()
    assert len(stored) == 3
    assert len({f.id for f in stored}) == 3 and all(isinstance(f.id, UUID) for f in stored)
    assert {(f.comment, f.channel) for f in stored} == {("", "device")}


async def test_no_rows_is_no_statement(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as db:
        await RowInserter(FEEDBACK).execute(db, [])
        assert not db.in_transaction()


async def test_rows_naming_different_columns_are_refused(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = [_feedback(world, 0), _feedback(world, 1, comment="late")]
    async with sessions() as db:
        with pytest.raises(ValueError, match="different columns"):
            await RowInserter(FEEDBACK).execute(db, rows)
        count = await db.scalar(text("SELECT count(*) FROM feedback"))
    assert count == 0


async def test_a_conflict_is_sqlalchemys_integrity_error_and_writes_nothing(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    taken = uuid4()
    async with sessions() as db:
        await begin_write(db)
        await RowInserter(FEEDBACK).execute(db, [_feedback(world, 0, id=taken)])
        await db.commit()
    rows = [_feedback(world, 1, id=uuid4()), _feedback(world, 2, id=taken)]
    async with sessions() as db:
        await begin_write(db)
        with pytest.raises(IntegrityError):
            await RowInserter(FEEDBACK).execute(db, rows)
        await db.rollback()
    async with sessions() as db:
        ids = set((await db.execute(select(Feedback.id))).scalars())
    assert ids == {taken}
