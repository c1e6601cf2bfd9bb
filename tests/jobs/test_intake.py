"""Service request intake: validation naming the field, SLA clocks, numbering, listing, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.jobs.sla import due_times
from server.settings import Settings
from tests.conftest import field_of
from tests.world import World

Client = AsyncTestClient[Litestar]


def _body(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "phone",
        "category": "fault",
        "urgency": "high",
        "customer_id": str(world.customers[0]),
        "site_id": str(world.sites[0]),
        "asset_id": str(world.assets[0]),
        "contact_name": "Ms Wang",
        "contact_phone": "+86 138 0000 0000",
        "problem": "  chiller trips on high pressure  ",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_create_request(client: Client, login: Any, world: World, settings: Settings) -> None:
    h = await login("dispatcher1")
    r = await client.post("/requests", json=_body(world), headers=h)
    assert r.status_code == 201, r.text
    sr = r.json()
    local_day = datetime.now(ZoneInfo(settings.timezone)).strftime("%Y%m%d")
    assert sr["number"] == f"SR-{local_day}-0001"
    assert sr["status"] == "open" and sr["problem"] == "chiller trips on high pressure"
    assert sr["created_by"] == str(world.users["dispatcher1"])
    received = _instant(sr["received_at"])
    assert abs(received - datetime.now(UTC)) < timedelta(minutes=1)
    response, resolution = due_times(received, "high", settings)
    assert (_instant(sr["response_due"]), _instant(sr["resolution_due"])) == (response, resolution)

    # The asset is optional; numbers count up per day.
    r = await client.post("/requests", json=_body(world, asset_id=..., urgency="low"), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["number"] == f"SR-{local_day}-0002" and r.json()["asset_id"] is None
    r = await client.post("/requests", json=_body(world), headers=await login("admin"))
    assert r.status_code == 201


async def test_refused_requests_name_the_field_and_change_nothing(
    client: Client, login: Any, world: World, snapshot: Any
) -> None:
    h = await login("dispatcher1")
    before = await snapshot()
    cases = [
        (_body(world, channel="fax"), "channel"),
        (_body(world, category="complaint"), "category"),
        (_body(world, urgency="urgent"), "urgency"),
        (_body(world, problem="   "), "problem"),
        (_body(world, problem="x" * 4001), "problem"),
        (_body(world, problem=...), "problem"),
        (_body(world, contact_name="x" * 121), "contact_name"),
        (_body(world, customer_id="not-a-uuid"), "customer_id"),
        (_body(world, customer_id=str(uuid4())), "customer_id"),
        # Site 1 belongs to customer 1, not customer 0.
        (_body(world, site_id=str(world.sites[1])), "site_id"),
        # Asset 2 is at site 2, not site 0.
        (_body(world, asset_id=str(world.assets[2])), "asset_id"),
        (_body(world, asset_id=str(uuid4())), "asset_id"),
        (_body(world, priority="high"), "priority"),  # unknown field
    ]
    for body, field in cases:
        r = await client.post("/requests", json=body, headers=h)
        assert r.status_code == 400, (field, r.text)
        assert field_of(r) == field, (field, r.text)
    for raw in (b"{not json", b"", b"[]", b"null"):
        r = await client.post(
            "/requests", content=raw, headers={**h, "content-type": "application/json"}
        )
        assert r.status_code == 400, (raw, r.text)
    assert await snapshot() == before


async def test_request_roles(client: Client, login: Any, world: World) -> None:
    for user in ("engineer1", "logistics1", "manager1"):
        r = await client.post("/requests", json=_body(world), headers=await login(user))
        assert r.status_code == 403, user
    assert (await client.post("/requests", json=_body(world))).status_code == 401
    for user in ("engineer1", "logistics1"):
        h = await login(user)
        assert (await client.get("/requests", headers=h)).status_code == 403
        r = await client.get(f"/requests/{world.requests['e1_a']}", headers=h)
        assert r.status_code == 403


async def test_list_and_get_requests(client: Client, login: Any, world: World) -> None:
    h = await login("dispatcher1")
    r = await client.post("/requests", json=_body(world, urgency="critical"), headers=h)
    new_id = r.json()["id"]
    r = await client.get("/requests", headers=await login("manager1"))
    assert r.status_code == 200
    assert r.json()[0]["id"] == new_id  # newest first
    assert len(r.json()) == 6
    r = await client.get("/requests", params={"urgency": "critical"}, headers=h)
    assert [x["id"] for x in r.json()] == [new_id]
    r = await client.get("/requests", params={"status": "open", "urgency": "normal"}, headers=h)
    assert len(r.json()) == 5
    r = await client.get("/requests", params={"status": "resolved"}, headers=h)
    assert r.json() == []
    r = await client.get("/requests", params={"limit": 2, "offset": 5}, headers=h)
    assert len(r.json()) == 1
    for params, field in (
        ({"status": "closed"}, "status"),
        ({"urgency": "meh"}, "urgency"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        r = await client.get("/requests", params=params, headers=h)
        assert r.status_code == 400 and field_of(r) == field, (params, r.text)

    r = await client.get(f"/requests/{world.requests['e1_a']}", headers=h)
    assert r.status_code == 200
    assert [j["number"] for j in r.json()["jobs"]] == ["J-T-e1_a"]
    assert r.json()["jobs"][0]["engineer_id"] == str(world.users["engineer1"])
    assert (await client.get(f"/requests/{uuid4()}", headers=h)).status_code == 404
    assert (await client.get("/requests/SR-1", headers=h)).status_code in (400, 404)
