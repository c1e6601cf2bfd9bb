"""The catalogue, availability and the engineer's van over HTTP."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.inventory.models import Part, StockLevel, StockLocation
from server.syncing.replication import commit
from tests.world import World

Client = AsyncTestClient[Litestar]


async def skus(client: Client, headers: dict[str, str], query: str) -> list[str]:
    r = await client.get(f"/parts?{query}", headers=headers)
    assert r.status_code == 200, r.text
    return [p["sku"] for p in r.json()]


async def test_catalogue_search(
    client: Client, login: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as db:
        db.add(
            Part(
                sku="CMP-77",
                name="压缩机轴承",
                name_en="Compressor bearing",
                compatible_models=["HX-200", "HX-300"],
            )
        )
        await commit(db)
    headers = await login("dispatcher1")
    assert await skus(client, headers, "q=轴承") == ["CMP-77"]  # Chinese name
    assert await skus(client, headers, "q=BEARING") == ["CMP-77"]  # English, any case
    assert await skus(client, headers, "q=cmp") == ["CMP-77"]  # SKU prefix
    assert await skus(client, headers, "q=MP-77") == []  # …a prefix, not any substring
    assert await skus(client, headers, "q=HX-300") == ["CMP-77"]  # compatible model code
    assert await skus(client, headers, "q=HX-3") == []  # a whole code, not part of one
    assert await skus(client, headers, "model=EL-9") == ["P-003", "P-004", "P-005"]
    assert await skus(client, headers, "q=零件&model=HX-200&limit=2&offset=1") == ["P-001", "P-002"]
    assert await skus(client, headers, "q=%25") == []  # LIKE wildcards are literal
    r = await client.get(f"/parts/{world.parts[2]}", headers=await login("engineer2"))
    assert r.status_code == 200 and r.json()["compatible_models"] == ["HX-200"]


async def test_catalogue_rejects_bad_queries(client: Client, login: Any, world: World) -> None:
    headers = await login("engineer1")
    for query, field in (
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("q=" + "x" * 81, "q"),
        ("limit=ten", "limit"),
    ):
        r = await client.get(f"/parts?{query}", headers=headers)
        assert r.status_code == 400, query
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"] == field
    assert (await client.get("/parts/not-a-uuid", headers=headers)).status_code == 404
    r = await client.get(f"/parts/{world.users['engineer1']}", headers=headers)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert (await client.get("/parts")).status_code == 401


async def test_availability_own_van_first_then_nearest(
    client: Client, login: Any, world: World
) -> None:
    part = world.parts[0]  # WH-1 50, WH-2 20, VAN-1 3 (engineer1), VAN-2 1 (engineer2)
    r = await client.get(f"/parts/{part}/availability", headers=await login("engineer1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["origin_lat"], body["origin_lon"]) == (31.23, 121.47)  # from their van
    got = [(s["code"], s["own_van"], s["available"]) for s in body["locations"]]
    assert got == [
        ("VAN-1", True, 3),
        ("WH-1", False, 50),
        ("VAN-2", False, 1),
        ("WH-2", False, 20),
    ]
    distances = [s["distance_km"] for s in body["locations"][1:]]
    assert distances == sorted(distances) and body["locations"][0]["distance_km"] == 0

    # From another point the order follows that point; the own van still leads.
    near_wh2 = f"/parts/{part}/availability?lat=31.39&lon=121.59"
    r = await client.get(near_wh2, headers=await login("engineer2"))
    assert [s["code"] for s in r.json()["locations"]] == ["VAN-2", "WH-2", "VAN-1", "WH-1"]
    r = await client.get(near_wh2 + "&radius_km=5&limit=2", headers=await login("engineer2"))
    assert [s["code"] for s in r.json()["locations"]] == ["VAN-2", "WH-2"]


async def test_availability_lists_only_locations_with_stock(
    client: Client, login: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as db:  # all of WH-2's stock of part 0 is promised elsewhere
        level = (
            await db.execute(
                select(StockLevel).where(
                    StockLevel.part_id == world.parts[0],
                    StockLevel.location_id == world.locations["WH-2"],
                )
            )
        ).scalar_one()
        level.reserved = 20
        await commit(db)
    r = await client.get(f"/parts/{world.parts[1]}/availability", headers=await login("engineer1"))
    # Own van shown even empty; only WH-1 holds part 1.
    assert [(s["code"], s["on_hand"]) for s in r.json()["locations"]] == [("VAN-1", 0), ("WH-1", 5)]
    r = await client.get(f"/parts/{world.parts[0]}/availability", headers=await login("engineer1"))
    assert "WH-2" not in [s["code"] for s in r.json()["locations"]]


async def test_availability_without_a_van(client: Client, login: Any, world: World) -> None:
    headers = await login("engineer3")  # no van; home base 31.10, 121.30
    r = await client.get(f"/parts/{world.parts[0]}/availability", headers=headers)
    body = r.json()
    assert (body["origin_lat"], body["origin_lon"]) == (31.10, 121.30)
    assert not any(s["own_van"] for s in body["locations"])
    r = await client.get(f"/parts/{world.parts[0]}/availability?lat=31.2", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "lon"
    r = await client.get(f"/parts/{world.parts[0]}/availability?lat=91&lon=0", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "lat"
    r = await client.get(f"/parts/{world.users['admin']}/availability", headers=headers)
    assert r.status_code == 404


async def test_my_van(
    client: Client, login: Any, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    r = await client.get("/me/van", headers=await login("engineer2"))
    body = r.json()
    assert body["van"]["code"] == "VAN-2"
    assert [(lv["sku"], lv["on_hand"], lv["below_reorder_point"]) for lv in body["levels"]] == [
        ("P-000", 1, True)
    ]
    assert {lv["location_id"] for lv in body["levels"]} == {str(world.locations["VAN-2"])}
    r = await client.get("/me/van", headers=await login("engineer3"))
    assert r.json() == {"van": None, "levels": []}
    async with sessions() as db:  # a van handed to engineer3 shows up at once
        van = await db.get_one(StockLocation, world.locations["VAN-2"])
        van.engineer_id = world.users["engineer3"]
        await commit(db)
    r = await client.get("/me/van", headers=await login("engineer3"))
    assert r.json()["van"]["code"] == "VAN-2"
