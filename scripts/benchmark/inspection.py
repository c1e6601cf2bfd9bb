"""What the bench reads straight from FieldSync's database — to check and to wait, never to do
work: a fingerprint of every table (the replay must not move it) and, on PostgreSQL, when the
replica changes written so far become readable by a pull."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from server.database import load_models, metadata


async def fingerprint(database_url: str) -> dict[str, int]:
    """Row counts of every table plus sums that move when business data moves."""
    load_models()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            out = {
                name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in sorted(metadata.tables.items())
            }
            t = metadata.tables
            out["sum(jobs.version)"] = int(
                await conn.scalar(select(func.sum(t["jobs"].c.version))) or 0
            )
            out["sum(stock_levels.on_hand)"] = int(
                await conn.scalar(select(func.sum(t["stock_levels"].c.on_hand))) or 0
            )
            out["max(replica_changes.seq)"] = int(
                await conn.scalar(select(func.max(t["replica_changes"].c.seq))) or 0
            )
    finally:
        await engine.dispose()
    return out


async def wait_visible(database_url: str, limit_s: float = 20.0) -> float:
    """PostgreSQL: wait until every replica change written so far is readable by a pull.

    Pulls only return rows whose writer transaction is older than the oldest transaction still
    running anywhere in the cluster (PROTOCOL.md §11: a change is never skipped, but a long
    transaction elsewhere delays it). On a shared cluster the bench waits for that before it
    starts the clock, and reports how long it waited. SQLite: nothing to wait for."""
    if not database_url.startswith("postgresql"):
        return 0.0
    engine = create_async_engine(database_url)
    query = text(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        " > (SELECT coalesce(max(txid), 0) FROM replica_changes)"
    )
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < limit_s:
            async with engine.connect() as conn:
                if await conn.scalar(query):
                    break
            await asyncio.sleep(0.02)
    finally:
        await engine.dispose()
    return time.perf_counter() - t0
