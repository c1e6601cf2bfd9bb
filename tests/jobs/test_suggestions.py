"""Engineer suggestions: skill first, then distance and load, every factor shown."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.accounts.models import User
from server.geo import distance_km
from server.jobs.models import Job
from server.jobs.suggestions import score
from server.syncing.replication import commit
from tests.world import World

Client = AsyncTestClient[Litestar]
SITE3 = (31.00, 121.20)
HOMES = {"engineer1": (31.23, 121.47), "engineer2": (31.30, 121.50), "engineer3": (31.10, 121.30)}


def test_score_formula() -> None:
    assert score(True, 0.0, 0) == 100.0
    assert score(False, 0.0, 0) == 40.0
    assert score(True, 20.0, 3) == 60 + 12.5 + 7.5
    assert score(True, None, 0) == 75.0
    # A skill match always outranks a mismatch, however near and idle the other engineer is.
    assert score(True, 10_000.0, 1_000) > score(False, 0.0, 0)
    assert score(True, 5.0, 1) > score(True, 10.0, 1) and score(True, 5.0, 1) > score(True, 5.0, 2)


async def test_ranking(
    client: Client, login: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    h = await login("dispatcher1")
    url = f"/jobs/{world.jobs['open']}/suggestions"  # site 3, needs "elevator"
    r = await client.get(url, headers=h)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [s["username"] for s in rows] == ["engineer2", "engineer3", "engineer1"]
    loads = {"engineer1": 2, "engineer2": 1, "engineer3": 0}
    for s in rows:
        km = round(distance_km(HOMES[s["username"]], SITE3), 2)
        assert s["distance_km"] == km
        assert s["open_jobs"] == loads[s["username"]]
        assert s["skill_match"] == (s["username"] == "engineer2")
        assert s["score"] == score(s["skill_match"], km, s["open_jobs"])
    assert rows[0]["skills"] == ["elevator"]

    # Needing hvac: engineer3 (near, idle) beats engineer1 (busier, farther); engineer4 has no
    # home base, so no proximity points; an inactive engineer is never suggested.
    async with sessions() as db:
        await db.execute(
            update(Job).where(Job.id == world.jobs["open"]).values(required_skill="hvac")
        )
        db.add(
            User(
                username="engineer4",
                display_name="E4",
                role="engineer",
                password_hash="x",
                skills=["hvac"],
                created_at=world.now,
            )
        )
        db.add(
            User(
                username="engineer5",
                display_name="E5",
                role="engineer",
                password_hash="x",
                skills=["hvac"],
                home_lat=31.0,
                home_lon=121.2,
                is_active=False,
                created_at=world.now,
            )
        )
        await commit(db)
    r = await client.get(url, params={"limit": 10}, headers=await login("manager1"))
    rows = r.json()
    assert [s["username"] for s in rows] == ["engineer3", "engineer1", "engineer4", "engineer2"]
    assert rows[2]["distance_km"] is None and rows[2]["score"] == score(True, None, 0) == 75.0
    r = await client.get(url, params={"limit": 1}, headers=await login("admin"))
    assert [s["username"] for s in r.json()] == ["engineer3"]


async def test_suggestion_access(client: Client, login: Any, world: World) -> None:
    url = f"/jobs/{world.jobs['e1_a']}/suggestions"
    for user in ("engineer1", "logistics1"):
        assert (await client.get(url, headers=await login(user))).status_code == 403
    assert (await client.get(url)).status_code == 401
    h = await login("dispatcher1")
    assert (await client.get(f"/jobs/{uuid4()}/suggestions", headers=h)).status_code == 404
    for limit in (0, 51, "x"):
        r = await client.get(url, params={"limit": limit}, headers=h)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "limit", limit
