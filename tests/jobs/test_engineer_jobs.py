"""The engineer's job list and job detail: own jobs only, distance order, warranty, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.geo import distance_km
from server.jobs.models import Job, ServiceRequest
from server.reports.models import WorkReport
from server.syncing.replication import commit
from tests.conftest import field_of
from tests.world import World

Client = AsyncTestClient[Litestar]
SITE0 = (31.231, 121.471)
SITE2 = (31.31, 121.52)


def _day(world: World, days: int = 0) -> str:
    # World jobs start at 01:00-04:00 UTC, i.e. 09:00-12:00 the same day in Asia/Shanghai.
    return (world.now.date() + timedelta(days=days)).isoformat()


async def test_engineer_sees_only_own_jobs(client: Client, login: Any, world: World) -> None:
    e1, e2 = await login("engineer1"), await login("engineer2")
    day = _day(world)
    r = await client.get("/me/jobs", params={"from": day, "to": day}, headers=e1)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [j["number"] for j in rows] == ["J-T-e1_a", "J-T-e1_b"]  # schedule order
    first = rows[0]
    assert first["customer_name"] == "Customer 0"
    assert (first["site"]["lat"], first["site"]["lon"]) == SITE0
    assert first["asset"]["serial"] == "SN-0000" and first["asset"]["model_code"] == "HX-200"
    assert first["urgency"] == "normal" and first["response_due"] and first["resolution_due"]
    assert first["distance_km"] is None

    r = await client.get("/me/jobs", params={"from": _day(world, -20), "to": day}, headers=e1)
    assert [j["number"] for j in r.json()] == ["J-T-e1_done", "J-T-e1_a", "J-T-e1_b"]

    r = await client.get("/me/jobs", params={"from": day, "to": day}, headers=e2)
    assert [j["number"] for j in r.json()] == ["J-T-e2_a"]

    # Another engineer's job, an unassigned one and a missing one all look the same: 404.
    for job_id in (world.jobs["e2_a"], world.jobs["open"], uuid4()):
        r = await client.get(f"/jobs/{job_id}", headers=e1)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/jobs/{world.jobs['e2_a']}", headers=e2)).status_code == 200
    assert (await client.get("/jobs/not-a-uuid", headers=e1)).status_code in (400, 404)


async def test_distance_order(client: Client, login: Any, world: World) -> None:
    e1 = await login("engineer1")
    day = _day(world)
    near_site2: dict[str, Any] = {
        "from": day,
        "to": day,
        "order": "distance",
        "lat": 31.305,
        "lon": 121.515,
    }
    r = await client.get("/me/jobs", params=near_site2, headers=e1)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [j["number"] for j in rows] == ["J-T-e1_b", "J-T-e1_a"]
    point = (31.305, 121.515)
    assert rows[0]["distance_km"] == round(distance_km(point, SITE2), 3)
    assert rows[1]["distance_km"] == round(distance_km(point, SITE0), 3)
    assert rows[0]["distance_km"] < rows[1]["distance_km"]

    near_site0 = {**near_site2, "lat": SITE0[0], "lon": SITE0[1]}
    r = await client.get("/me/jobs", params=near_site0, headers=e1)
    assert [j["number"] for j in r.json()] == ["J-T-e1_a", "J-T-e1_b"]
    assert r.json()[0]["distance_km"] == 0.0

    # Schedule order with a point still reports distances.
    r = await client.get("/me/jobs", params={**near_site2, "order": "schedule"}, headers=e1)
    assert [j["number"] for j in r.json()] == ["J-T-e1_a", "J-T-e1_b"]
    assert all(j["distance_km"] is not None for j in r.json())


async def test_job_list_rejects_bad_queries(client: Client, login: Any, world: World) -> None:
    e1 = await login("engineer1")
    day = _day(world)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"from": day, "to": _day(world, -1)}, "to"),
        ({"from": day, "to": _day(world, 31)}, "to"),  # 32 days
        ({"from": day, "order": "distance"}, "lat"),
        ({"from": day, "lat": 31.2}, "lon"),
        ({"from": day, "lat": 91, "lon": 121}, "lat"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-W48-1"}, "from"),
        ({"to": "2026-1-5"}, "to"),
        ({"order": "nearest"}, "order"),
    ]
    for params, field in cases:
        r = await client.get("/me/jobs", params=params, headers=e1)
        assert r.status_code == 400, (params, r.text)
        assert field_of(r) == field, params
    r = await client.get("/me/jobs", params={"from": day, "to": _day(world, 30)}, headers=e1)
    assert r.status_code == 200
    for staff in ("dispatcher1", "manager1", "logistics1", "admin"):
        assert (await client.get("/me/jobs", headers=await login(staff))).status_code == 403
    assert (await client.get("/me/jobs")).status_code == 401


async def test_job_list_defaults_to_local_today(
    client: Client, login: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    async with sessions() as db:
        job = Job(
            number="J-T-now",
            request_id=world.requests["e1_a"],
            engineer_id=world.users["engineer1"],
            customer_id=world.customers[0],
            site_id=world.sites[0],
            asset_id=world.assets[0],
            status="assigned",
            summary="now",
            scheduled_start=now,
            scheduled_end=now + timedelta(hours=1),
            created_at=now,
            updated_at=now,
        )
        db.add(job)
        await commit(db)
    r = await client.get("/me/jobs", headers=await login("engineer1"))
    assert r.status_code == 200
    assert "J-T-now" in [j["number"] for j in r.json()]


async def test_job_detail(client: Client, login: Any, world: World) -> None:
    r = await client.get(f"/jobs/{world.jobs['e1_a']}", headers=await login("engineer1"))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["job"]["number"] == "J-T-e1_a" and d["job"]["status"] == "assigned"
    assert d["engineer"]["display_name"] == "Engineer1"
    assert d["customer"] == {
        "id": str(world.customers[0]),
        "name": "Customer 0",
        "phone": "+86-21-5555-0000",
    }
    assert (d["site"]["lat"], d["site"]["lon"]) == SITE0 and d["site"]["address"] == "0 Road"
    asset = d["asset"]
    assert asset["serial"] == "SN-0000" and asset["product_model"]["code"] == "HX-200"
    assert asset["install_date"] == "2023-01-01" and asset["warranty_end"] == "2030-01-01"
    assert asset["warranty_status"] == "in_warranty"
    req = d["request"]
    assert (req["channel"], req["category"], req["urgency"]) == ("phone", "fault", "normal")
    assert req["problem"] == "problem e1_a" and req["response_due"] and req["resolution_due"]
    assert d["report"] is None
    assert [h["number"] for h in d["history"]] == ["J-T-e1_done"]
    assert d["history"][0]["report"]["diagnosis"] == "compressor noise"
    assert d["history"][0]["engineer_name"] == "Engineer1"

    # Staff see any job; the expired warranty of asset 1 shows as such.
    for staff in ("dispatcher1", "manager1", "admin"):
        r = await client.get(f"/jobs/{world.jobs['e2_a']}", headers=await login(staff))
        assert r.status_code == 200, (staff, r.text)
        assert r.json()["asset"]["warranty_status"] == "expired"
    r = await client.get(f"/jobs/{world.jobs['e1_done']}", headers=await login("dispatcher1"))
    assert r.json()["report"]["version"] == 1
    assert r.json()["report"]["root_cause"] == "bearing worn"
    r = await client.get(f"/jobs/{world.jobs['e2_a']}", headers=await login("logistics1"))
    assert r.status_code == 403
    assert (await client.get(f"/jobs/{world.jobs['e1_a']}")).status_code == 401


async def test_history_is_newest_first_with_latest_report(
    client: Client, login: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    now = world.now
    async with sessions() as db:
        old = Job(
            number="J-T-old",
            request_id=world.requests["e1_done"],
            engineer_id=world.users["engineer3"],
            customer_id=world.customers[0],
            site_id=world.sites[0],
            asset_id=world.assets[0],
            status="completed",
            summary="old visit",
            created_at=now - timedelta(days=41),
            updated_at=now - timedelta(days=40),
            completed_at=now - timedelta(days=40),
        )
        db.add(old)
        await db.flush()
        logical = uuid4()
        for version, diagnosis in ((1, "first look"), (2, "second look")):
            db.add(
                WorkReport(
                    report_id=logical,
                    job_id=old.id,
                    version=version,
                    author_id=world.users["engineer3"],
                    diagnosis=diagnosis,
                    root_cause_category="wear",
                    root_cause="x",
                    actions="y",
                    labour_minutes=30,
                    content_sha256=str(version) * 64,
                    submitted_at=now - timedelta(days=40),
                    received_at=now,
                )
            )
        # A job on another asset never shows up in this asset's history.
        db.add(
            ServiceRequest(
                number="SR-T-other",
                channel="web",
                category="usage",
                urgency="low",
                customer_id=world.customers[1],
                site_id=world.sites[1],
                problem="?",
                received_at=now,
                response_due=now,
                resolution_due=now,
            )
        )
        await commit(db)
    r = await client.get(f"/jobs/{world.jobs['e1_a']}", headers=await login("engineer1"))
    history = r.json()["history"]
    assert [h["number"] for h in history] == ["J-T-e1_done", "J-T-old"]
    assert history[1]["report"]["version"] == 2
    assert history[1]["report"]["diagnosis"] == "second look"
    assert history[1]["engineer_name"] == "Engineer3"
