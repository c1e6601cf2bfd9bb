"""Incremental-pull latency as the database grows: 10k → 100k → 1M replica-log rows.

The database is the demo data set at ``--scale`` (``scale`` × 20 engineers) plus the bench's
10k-document scope (``scope.py``; parts and warehouse stock are in every engineer's scope, so
every engineer's replica is about 10k documents). The replica log — the table an incremental
pull reads — grows as engineers start syncing: each engineer's replica is built by the server's
own ``ensure_replica``, the function their first pull runs (see ``_build``). At each point
(1, 10, 100 built replicas ≈ 10k, 100k, 1M log rows) ``engineer1``'s device, already in sync,
measures ``reps`` incremental pulls of ``n_changed`` changes, each
after ``logistics1`` made those changes through ``POST /stock/movements`` (warehouse receipts,
which fan out to every built replica — that write cost is reported too).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from engineer import MeteredTransport, SharedLogin, http_client, open_device
from fieldsync_device import changes_by_logistics
from measure import Meter, summary
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from server.syncing.models import ReplicaChange

BUILD_PROCESSES = 2
ROOT = Path(__file__).resolve().parents[2]


async def log_rows(database_url: str) -> tuple[int, int]:
    """(rows in the replica log, database size in bytes where cheap to know)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = int(await conn.scalar(select(func.count()).select_from(ReplicaChange)) or 0)
            if conn.dialect.name == "postgresql":
                size = int(await conn.scalar(text("SELECT pg_database_size(current_database())")))
            else:
                pages = await conn.scalar(text("PRAGMA page_count"))
                size = int(pages or 0) * int(await conn.scalar(text("PRAGMA page_size")) or 0)
    finally:
        await engine.dispose()
    return rows, size


async def _build(database_url: str, usernames: list[str]) -> float:
    """Build these engineers' replicas with the server's own ``ensure_replica`` — exactly what
    their first ``POST /sync/pull`` runs — in ``BUILD_PROCESSES`` helper processes: building
    100 replicas of 10k documents through 100 logins (argon2) and first pulls would take the
    single server process minutes; the log rows written are the same."""
    t0 = time.perf_counter()
    shares = [usernames[i::BUILD_PROCESSES] for i in range(BUILD_PROCESSES)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "build",
            database_url,
            *share,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for share in shares
        if share
    ]
    codes = [await p.wait() for p in procs]
    if any(codes):
        raise RuntimeError(f"building replicas failed: exit codes {codes}")
    return time.perf_counter() - t0


async def _build_here(database_url: str, usernames: list[str]) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from server.accounts.models import User
    from server.database import create_engine, load_models
    from server.settings import load_settings
    from server.syncing.replication import ensure_replica

    load_models()
    engine = create_engine(load_settings(database_url=database_url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        for username in usernames:
            async with sessions() as db:
                uid = (
                    await db.execute(select(User.id).where(User.username == username))
                ).scalar_one()
            await ensure_replica(sessions, str(uid))
    finally:
        await engine.dispose()


async def run_growth(
    url: str,
    pid: int,
    database_url: str,
    *,
    points: list[int],
    reps: int,
    warmup: int,
    n_changed: int,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    built = 1
    async with http_client(url) as client:
        transport = MeteredTransport(client)
        login = SharedLogin(client, "engineer1")
        device = await open_device(transport, login)
        await device.pull()  # engineer1's replica: the first point
        for point in points:
            build_s = await _build(database_url, [f"engineer{i + 1}" for i in range(built, point)])
            built = max(built, point)
            rows, size = await log_rows(database_url)
            meter = Meter(pid, lambda: transport.requests)
            pulls: list[dict[str, Any]] = []
            updates: list[float] = []
            for rep in range(warmup + reps):
                update = await changes_by_logistics(url, database_url, device, n_changed)
                mark = len(transport.latency["/sync/pull"])
                with meter.run(collect=False) as c:  # right after the edits (Meter.run)
                    c.extra["docs"] = await device.pull()
                c.extra["exchange_s"] = sum(transport.latency["/sync/pull"][mark:])
                assert c.extra["docs"] == n_changed, c
                if rep >= warmup:
                    pulls.append(c.as_dict())
                    updates.append(update.seconds)
            point_result = {
                "replicas": built,
                "log_rows": rows,
                "db_bytes": size,
                "build_seconds": build_s,
                "runs": pulls,
                "pull_ms": summary([p["seconds"] * 1000 for p in pulls]),
                "requests": summary([p["requests"] for p in pulls]),
                "server_update_s": summary(updates),
            }
            out.append(point_result)
            print(
                f"bench: growth {built} replicas, {rows:,} log rows: incremental pull "
                f"{point_result['pull_ms']['median']:.1f} ms "
                f"(built in {build_s:.0f} s)",
                flush=True,
            )
        if transport.errors:
            raise RuntimeError(f"FieldSync answered errors: {transport.errors[:5]}")
    return out


if __name__ == "__main__" and sys.argv[1:2] == ["build"]:
    asyncio.run(_build_here(sys.argv[2], sys.argv[3:]))
