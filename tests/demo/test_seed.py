"""The demo data set: documented sizes, deterministic, consistent with the server's own rules."""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from server.database import WRITE_OPTION, metadata
from server.demo import DatabaseNotEmpty, is_empty, seed_demo
from server.demo.context import Context
from server.demo.seeder import generate
from server.demo.writer import Progress, Writer
from server.inventory.ledger import verify_ledger
from server.jobs.status import allowed
from server.reports.form import stored_report_hash
from tests.demo.conftest import (
    TODAY,
    Seeded,
    demo_settings,
    drop_database,
    fresh_database,
    make_engine,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXED_COUNTS = {
    "users": 24,  # engineer1..engineer20, dispatcher1, logistics1, manager1, admin
    "product_models": 12,
    "customers": 500,
    "assets": 1500,
    "parts": 300,
    "stock_locations": 23,  # 3 warehouses + one van per engineer
}


def T(name: str) -> Table:
    return metadata.tables[name]


async def rows(conn: AsyncConnection, name: str) -> list[Any]:
    return list((await conn.execute(select(T(name)))).all())


async def dump(engine: AsyncEngine) -> dict[str, str]:
    """Table -> SHA-256 of its stored values in id order (the salted password hash left out)."""
    digests: dict[str, str] = {}
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            names = [c.name for c in table.columns if c.name != "password_hash"]
            columns = ", ".join(f'"{n}"' for n in names)
            pk = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            result = await conn.exec_driver_sql(
                f'SELECT {columns} FROM "{table.name}" ORDER BY {pk}'
            )
            digest = hashlib.sha256()
            for row in result.all():
                digest.update(repr(tuple(row)).encode())
            digests[table.name] = digest.hexdigest()
    return digests


async def test_documented_counts(seeded: Seeded, conn: AsyncConnection) -> None:
    counts = seeded.counts
    assert {k: counts[k] for k in FIXED_COUNTS} == FIXED_COUNTS
    assert 500 < counts["sites"] <= 1000  # one or two per customer
    assert 24 <= counts["knowledge_articles"] <= 48  # two to four per product model
    assert 2_000 <= counts["jobs"] <= 4_000
    assert counts["service_requests"] >= counts["jobs"]
    assert 10 <= counts["complaints"] <= 40
    assert "audit_events" not in counts
    assert sum(counts.values()) > 35_000
    for name, expected in counts.items():
        stored = await conn.scalar(select(func.count()).select_from(T(name)))
        assert stored == expected, name


async def test_deterministic_and_bulk_path_matches_sqlalchemy(
    seeded: Seeded, demo_backend: str, tmp_path: Path
) -> None:
    """A second seed with the same ``today`` stores identical rows, even through plain
    SQLAlchemy inserts instead of the driver fast path: the data set is deterministic and the
    fast path stores exactly what SQLAlchemy would."""
    url = await fresh_database(demo_backend, tmp_path, "again")
    engine = make_engine(url)
    try:
        async with engine.connect() as raw:
            write = await raw.execution_options(**{WRITE_OPTION: True})
            async with write.begin():
                plain = Writer(write, fast=False)
                await generate(plain, Context(TODAY, demo_settings(url)), "salted-hash", 1)
        assert dict(plain.counts) == seeded.counts
        first, second = make_engine(seeded.url), engine
        try:
            a, b = await dump(first), await dump(second)
        finally:
            await first.dispose()
        assert [t for t in a if a[t] != b[t]] == []
    finally:
        await engine.dispose()
        await drop_database(url)


async def test_stock_levels_equal_the_ledger(conn: AsyncConnection) -> None:
    async with AsyncSession(bind=conn) as db:
        assert await verify_ledger(db) == []
    levels = await rows(conn, "stock_levels")
    assert all(level.on_hand >= 0 and 0 <= level.reserved <= level.on_hand for level in levels)
    below = [level for level in levels if level.on_hand < level.reorder_point]
    assert 0 < len(below) < len(levels)
    kinds = {m.kind for m in await rows(conn, "stock_movements")}
    assert kinds == {
        "receipt",
        "transfer_out",
        "transfer_in",
        "consumption",
        "adjustment",
        "return",
    }


async def test_transfers_pair_up(conn: AsyncConnection) -> None:
    legs: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for m in await rows(conn, "stock_movements"):
        if m.kind.startswith("transfer"):
            legs[m.transfer_ref][m.kind].append(m)
    shipments = {s.id: s for s in await rows(conn, "shipments")}
    on_the_road = 0
    for ref, pair in legs.items():
        (out,) = pair["transfer_out"]
        assert out.qty_delta < 0
        if not pair["transfer_in"]:  # a parcel not delivered yet
            assert shipments[out.shipment_id].status != "delivered", ref
            on_the_road += 1
            continue
        (into,) = pair["transfer_in"]
        assert (into.part_id, into.qty_delta, into.shipment_id) == (
            out.part_id,
            -out.qty_delta,
            out.shipment_id,
        )
        assert into.location_id != out.location_id
    assert on_the_road > 0


async def test_every_van_belongs_to_an_engineer(conn: AsyncConnection) -> None:
    users = {u.id: u for u in await rows(conn, "users")}
    locations = await rows(conn, "stock_locations")
    vans = [loc for loc in locations if loc.kind == "van"]
    assert [loc.engineer_id for loc in locations if loc.kind == "warehouse"] == [None] * 3
    assert all(users[v.engineer_id].role == "engineer" for v in vans)
    engineers = [u for u in users.values() if u.role == "engineer"]
    assert sorted(v.engineer_id for v in vans) == sorted(e.id for e in engineers)
    for van in vans:
        owner = users[van.engineer_id]
        assert abs(van.lat - owner.home_lat) < 0.01 and abs(van.lon - owner.home_lon) < 0.01
    assert all(2 <= len(e.skills) <= 4 for e in engineers)


async def test_warranty_ends_after_install(conn: AsyncConnection) -> None:
    assets = await rows(conn, "assets")
    assert all(a.warranty_end > a.install_date for a in assets)
    in_warranty = sum(a.warranty_end >= TODAY for a in assets)
    assert 0 < in_warranty < len(assets)
    assert all(a.install_date.year >= TODAY.year - 6 for a in assets)


async def test_job_histories_follow_the_state_machine(conn: AsyncConnection) -> None:
    roles = {u.id: u.role for u in await rows(conn, "users")}
    events: dict[UUID, list[Any]] = defaultdict(list)
    for e in sorted(await rows(conn, "job_events"), key=lambda e: e.event_at):
        events[e.job_id].append(e)
    requests = {r.id: r for r in await rows(conn, "service_requests")}
    for job in await rows(conn, "jobs"):
        history = events[job.id]
        status = "new"
        for e in history:
            assert e.from_status == status, job.number
            assert e.to_status in allowed(status, roles[e.actor_id]), (job.number, e)
            if roles[e.actor_id] == "engineer":
                assert e.actor_id == job.engineer_id
            assert e.received_at >= e.event_at
            status = e.to_status
        assert status == job.status and job.version == 1 + len(history), job.number
        done = [e.event_at for e in history if e.to_status == "completed"]
        assert job.completed_at == (done[0] if done else None)
        request = requests[job.request_id]
        expected = {"completed": "resolved", "cancelled": "open"}.get(job.status, "in_progress")
        assert request.status == expected
        moves = [e.event_at for e in history if roles[e.actor_id] == "engineer"]
        assert request.responded_at == (moves[0] if moves else None)
        assert request.response_due <= request.resolution_due
        assert request.received_at < job.created_at


async def test_reports_signatures_and_part_usage(conn: AsyncConnection) -> None:
    reports = {r.id: r for r in await rows(conn, "work_reports")}
    for r in reports.values():
        assert r.content_sha256 == stored_report_hash(r)
    signatures = await rows(conn, "signatures")
    assert {s.report_id for s in signatures} == {r.id for r in reports.values() if r.signed}
    for s in signatures:
        assert s.report_sha256 == reports[s.report_id].content_sha256
    assert 0.85 < len(signatures) / len({r.job_id for r in reports.values()}) < 0.97
    assert {r.version for r in reports.values()} == {1, 2}
    movements = {m.id: m for m in await rows(conn, "stock_movements")}
    for use in await rows(conn, "part_usages"):
        m = movements[use.movement_id]
        assert (m.kind, m.qty_delta, m.part_id, m.location_id, m.job_id) == (
            "consumption",
            -use.qty,
            use.part_id,
            use.location_id,
            use.job_id,
        )
        assert reports[use.report_id].job_id == use.job_id


async def test_todays_schedule_and_the_dispatch_board(conn: AsyncConnection) -> None:
    today: dict[UUID, list[Any]] = defaultdict(list)
    unassigned = ahead = 0
    for job in await rows(conn, "jobs"):
        if job.engineer_id is None and job.status == "new":
            unassigned += 1
        elif job.scheduled_start is not None:
            local = job.scheduled_start.astimezone(SHANGHAI).date()
            if local == TODAY:
                today[job.engineer_id].append(job)
            ahead += local > TODAY
    engineers = [u.id for u in await rows(conn, "users") if u.role == "engineer"]
    assert all(3 <= len(today[e]) <= 8 for e in engineers)
    statuses = {j.status for jobs in today.values() for j in jobs}
    assert {"assigned", "en_route", "on_site"} <= statuses
    assert unassigned == 40
    assert ahead >= len(engineers)


async def test_repeat_visits_are_free_and_feedback_skews_high(conn: AsyncConnection) -> None:
    jobs = await rows(conn, "jobs")
    repeats = [j for j in jobs if j.is_repeat_visit]
    assert 0 < len(repeats) < len(jobs) * 0.05
    assert all(j.free_of_charge for j in repeats)
    ratings = [f.quality for f in await rows(conn, "feedback")]
    assert sum(ratings) / len(ratings) > 3.8
    shipments = await rows(conn, "shipments")
    assert {s.status for s in shipments} >= {"delivered", "in_transit"}
    assert {s.carrier for s in shipments} == {"顺丰", "京东物流", "德邦"}


async def test_refuses_a_database_that_has_users(seeded: Seeded) -> None:
    engine = make_engine(seeded.url)
    try:
        assert not await is_empty(engine)
        with pytest.raises(DatabaseNotEmpty):
            await seed_demo(engine, today=TODAY, settings=demo_settings(seeded.url))
        async with engine.connect() as c:
            assert await c.scalar(select(func.count()).select_from(T("users"))) == 24
    finally:
        await engine.dispose()


async def test_an_empty_schema_is_empty(engine: AsyncEngine) -> None:
    assert await is_empty(engine)


def test_progress_bar_shows_percent_and_rate() -> None:
    out = io.StringIO()
    bar = Progress(out)
    bar.update(50, 100, final=True)
    assert "100%" in out.getvalue() and "50 rows" in out.getvalue()
    assert "rows/s" in out.getvalue() and out.getvalue().endswith("\n")


def test_times_are_aware_utc() -> None:
    ctx = Context(TODAY, demo_settings("sqlite+aiosqlite://"))
    assert ctx.now == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
