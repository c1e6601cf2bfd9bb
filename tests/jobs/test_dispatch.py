"""Dispatcher: open jobs, assign and reassign, cancel; every refusal changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.accounts.models import User
from server.jobs.models import Job, JobEvent, ServiceRequest
from server.settings import Settings
from server.syncing.replication import commit
from tests.conftest import field_of
from tests.world import World

Client = AsyncTestClient[Litestar]
Sessions = async_sessionmaker[AsyncSession]


def _window(hours: int = 26, length: int = 2) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)
    return {
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=length)).isoformat(),
    }


async def _events(sessions: Sessions, job_id: Any) -> list[tuple[str, ...]]:
    async with sessions() as db:
        rows = await db.execute(
            select(JobEvent.from_status, JobEvent.to_status, JobEvent.note)
            .where(JobEvent.job_id == job_id)
            .order_by(JobEvent.received_at, JobEvent.id)
        )
        return [tuple(r) for r in rows.tuples()]


async def _set_status(sessions: Sessions, job_id: Any, status: str) -> None:
    async with sessions() as db:
        await db.execute(update(Job).where(Job.id == job_id).values(status=status))
        await commit(db)


async def test_create_job(
    client: Client, login: Any, world: World, settings: Settings, sessions: Sessions
) -> None:
    h = await login("dispatcher1")
    r = await client.post(
        "/requests",
        json={
            "channel": "web",
            "category": "parts",
            "urgency": "normal",
            "customer_id": str(world.customers[2]),
            "site_id": str(world.sites[2]),
            "asset_id": str(world.assets[2]),
            "problem": "need a filter",
        },
        headers=h,
    )
    request_id = r.json()["id"]
    body = {"request_id": request_id, "summary": "replace filter", "required_skill": "hvac"}
    r = await client.post("/jobs", json=body, headers=h)
    assert r.status_code == 201, r.text
    job = r.json()
    day = datetime.now(ZoneInfo(settings.timezone)).strftime("%Y%m%d")
    assert job["number"] == f"JOB-{day}-0001"
    assert job["status"] == "new" and job["engineer_id"] is None
    assert (job["customer_id"], job["site_id"], job["asset_id"]) == (
        str(world.customers[2]),
        str(world.sites[2]),
        str(world.assets[2]),
    )
    r = await client.get(f"/requests/{request_id}", headers=h)
    assert r.json()["status"] == "in_progress"

    r = await client.post("/jobs", json={**body, **_window()}, headers=await login("admin"))
    assert r.status_code == 201 and r.json()["number"] == f"JOB-{day}-0002"
    assert r.json()["scheduled_start"] is not None

    # A resolved request takes no new job.
    async with sessions() as db:
        await db.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == world.requests["e1_done"])
            .values(status="resolved")
        )
        await commit(db)
    r = await client.post(
        "/jobs", json={**body, "request_id": str(world.requests["e1_done"])}, headers=h
    )
    assert r.status_code == 409


async def test_create_job_refusals_change_nothing(
    client: Client, login: Any, world: World, snapshot: Any
) -> None:
    h = await login("dispatcher1")
    good = {"request_id": str(world.requests["open"]), "summary": "look at it"}
    w = _window()
    before = await snapshot()
    cases = [
        ({**good, "request_id": str(uuid4())}, "request_id"),
        ({**good, "request_id": "nope"}, "request_id"),
        ({**good, "summary": ""}, "summary"),
        ({**good, "summary": " \t"}, "summary"),
        ({**good, "required_skill": "x" * 41}, "required_skill"),
        ({**good, "scheduled_start": w["scheduled_start"]}, "scheduled_end"),
        ({**good, "scheduled_end": w["scheduled_end"]}, "scheduled_start"),
        (
            {**good, "scheduled_start": w["scheduled_end"], "scheduled_end": w["scheduled_start"]},
            "scheduled_end",
        ),
        (
            {**good, "scheduled_start": "2026-12-01T09:00:00", "scheduled_end": w["scheduled_end"]},
            "scheduled_start",
        ),  # no timezone
        ({**good, "engineer_id": str(world.users["engineer1"])}, "engineer_id"),  # unknown field
    ]
    for body, field in cases:
        r = await client.post("/jobs", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
        assert field_of(r) == field, (body, r.text)
    r = await client.post("/jobs", content=b'{"request_id":', headers=h)
    assert r.status_code == 400
    for user in ("engineer1", "logistics1", "manager1"):
        assert (await client.post("/jobs", json=good, headers=await login(user))).status_code == 403
    assert (await client.post("/jobs", json=good)).status_code == 401
    assert await snapshot() == before


async def test_assign_and_reassign(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    h = await login("dispatcher1")
    job_id = world.jobs["open"]
    body = {"engineer_id": str(world.users["engineer3"]), **_window(hours=-2), "note": "urgent"}
    r = await client.post(f"/jobs/{job_id}/assign", json=body, headers=h)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["status"] == "assigned" and job["engineer_id"] == str(world.users["engineer3"])
    assert job["version"] == 2 and job["scheduled_start"] == body["scheduled_start"].replace(
        "+00:00", "Z"
    )
    e3 = await login("engineer3")
    assert (await client.get(f"/jobs/{job_id}", headers=e3)).status_code == 200

    # Reassign to engineer2: engineer3 loses sight of it at once.
    body2 = {"engineer_id": str(world.users["engineer2"]), **_window(hours=-1)}
    r = await client.post(f"/jobs/{job_id}/assign", json=body2, headers=await login("admin"))
    assert r.status_code == 200 and r.json()["version"] == 3
    assert (await client.get(f"/jobs/{job_id}", headers=e3)).status_code == 404
    assert (
        await client.get(f"/jobs/{job_id}", headers=await login("engineer2"))
    ).status_code == 200
    assert await _events(sessions, job_id) == [
        ("new", "assigned", "assigned to engineer3: urgent"),
        ("assigned", "assigned", "reassigned from engineer3 to engineer2"),
    ]

    # Reassign is allowed from needs_parts and escalated, not while the engineer is on it.
    for status, code in (
        ("needs_parts", 200),
        ("escalated", 200),
        ("on_site", 409),
        ("en_route", 409),
        ("work_started", 409),
    ):
        await _set_status(sessions, job_id, status)
        r = await client.post(f"/jobs/{job_id}/assign", json=body2, headers=h)
        assert r.status_code == code, (status, r.text)
    r = await client.get(f"/jobs/{job_id}", headers=h)
    assert r.json()["job"]["status"] == "work_started"


async def test_assign_refusals_change_nothing(
    client: Client, login: Any, world: World, sessions: Sessions, snapshot: Any
) -> None:
    h = await login("dispatcher1")
    async with sessions() as db:
        await db.execute(
            update(User).where(User.id == world.users["engineer3"]).values(is_active=False)
        )
        await commit(db)
    open_job, done_job = world.jobs["open"], world.jobs["e1_done"]
    good = {"engineer_id": str(world.users["engineer1"]), **_window()}
    before = await snapshot()
    cases = [
        ({**good, "engineer_id": str(world.users["dispatcher1"])}, "engineer_id"),
        ({**good, "engineer_id": str(world.users["engineer3"])}, "engineer_id"),  # inactive
        ({**good, "engineer_id": str(uuid4())}, "engineer_id"),
        ({**good, "scheduled_end": good["scheduled_start"]}, "scheduled_end"),
        ({**_window(length=24 * 15), "engineer_id": good["engineer_id"]}, "scheduled_end"),
        ({"engineer_id": good["engineer_id"]}, "scheduled_start"),
        ({**good, "status": "assigned"}, "status"),
        ({**good, "note": "n" * 501}, "note"),
    ]
    for body, field in cases:
        r = await client.post(f"/jobs/{open_job}/assign", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
        assert field_of(r) == field, (body, r.text)
    r = await client.post(f"/jobs/{done_job}/assign", json=good, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "transition_refused"
    assert (await client.post(f"/jobs/{uuid4()}/assign", json=good, headers=h)).status_code == 404
    r = await client.post("/jobs/12345/assign", json=good, headers=h)
    assert r.status_code in (400, 404)
    r = await client.post(f"/jobs/{open_job}/assign", content=b"{", headers=h)
    assert r.status_code == 400
    for user in ("engineer1", "manager1", "logistics1"):
        r = await client.post(f"/jobs/{open_job}/assign", json=good, headers=await login(user))
        assert r.status_code == 403, user
    assert (await client.post(f"/jobs/{open_job}/assign", json=good)).status_code == 401
    assert await snapshot() == before


async def test_cancel(
    client: Client, login: Any, world: World, sessions: Sessions, snapshot: Any
) -> None:
    h = await login("dispatcher1")
    # The request of the open job is in progress while that job is open.
    async with sessions() as db:
        await db.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == world.requests["open"])
            .values(status="in_progress")
        )
        await commit(db)
    job_id = world.jobs["open"]
    r = await client.post(f"/jobs/{job_id}/cancel", json={"reason": "customer fixed it"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert await _events(sessions, job_id) == [("new", "cancelled", "customer fixed it")]
    r = await client.get(f"/requests/{world.requests['open']}", headers=h)
    assert r.json()["status"] == "open"  # needs a new job

    before = await snapshot()
    for closed in (job_id, world.jobs["e1_done"]):
        r = await client.post(f"/jobs/{closed}/cancel", headers=h)
        assert r.status_code == 409, r.text
        r = await client.post(
            f"/jobs/{closed}/assign",
            json={"engineer_id": str(world.users["engineer1"]), **_window()},
            headers=h,
        )
        assert r.status_code == 409
    r = await client.post(f"/jobs/{world.jobs['e1_a']}/cancel", json={"why": "x"}, headers=h)
    assert r.status_code == 400 and field_of(r) == "why"
    for user in ("engineer1", "manager1", "logistics1"):
        r = await client.post(f"/jobs/{world.jobs['e1_a']}/cancel", headers=await login(user))
        assert r.status_code == 403, user
    assert (await client.post(f"/jobs/{uuid4()}/cancel", headers=h)).status_code == 404
    assert await snapshot() == before

    # An engineer's job can be cancelled while they work on it (no body needed); it leaves
    # their list at once.
    await _set_status(sessions, world.jobs["e1_a"], "on_site")
    r = await client.post(f"/jobs/{world.jobs['e1_a']}/cancel", headers=await login("admin"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
