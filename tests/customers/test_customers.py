"""Customer directory and asset lookup: search, detail with sites and assets, warranty, roles."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.customers.assets import warranty_status
from tests.world import World

Client = AsyncTestClient[Litestar]


def test_warranty_end_day_is_still_covered() -> None:
    end = date(2026, 11, 23)
    assert warranty_status(end, date(2026, 11, 22)) == "in_warranty"
    assert warranty_status(end, end) == "in_warranty"
    assert warranty_status(end, date(2026, 11, 24)) == "expired"


async def test_search(client: Client, login: Any, world: World) -> None:
    h = await login("dispatcher1")
    r = await client.get("/customers", headers=h)
    assert r.status_code == 200
    assert [c["name"] for c in r.json()] == [f"Customer {i}" for i in range(4)]
    r = await client.get("/customers", params={"q": " customer 2 "}, headers=h)
    assert [c["id"] for c in r.json()] == [str(world.customers[2])]
    assert r.json()[0]["phone"] == "+86-21-5555-0002"
    r = await client.get("/customers", params={"q": "CUSTOMER", "limit": 2, "offset": 2}, headers=h)
    assert [c["name"] for c in r.json()] == ["Customer 2", "Customer 3"]
    # LIKE wildcards in the query are plain characters.
    for q in ("%", "_", "Customer_1"):
        r = await client.get("/customers", params={"q": q}, headers=h)
        assert r.json() == [], q
    for params, field in (
        ({"q": "x" * 101}, "q"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        r = await client.get("/customers", params=params, headers=h)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field, params


async def test_detail_and_serial_lookup(client: Client, login: Any, world: World) -> None:
    for user in ("dispatcher1", "manager1", "admin"):
        h = await login(user)
        r = await client.get(f"/customers/{world.customers[1]}", headers=h)
        assert r.status_code == 200, (user, r.text)
    d = r.json()
    assert d["customer"]["name"] == "Customer 1"
    [site] = d["sites"]
    assert site["id"] == str(world.sites[1]) and (site["lat"], site["lon"]) == (31.25, 121.45)
    [asset] = site["assets"]
    assert asset["serial"] == "SN-0001" and asset["product_model"]["code"] == "EL-9"
    assert asset["warranty_end"] == "2024-01-01" and asset["warranty_status"] == "expired"
    assert (await client.get(f"/customers/{uuid4()}", headers=h)).status_code == 404
    assert (await client.get("/customers/Customer-1", headers=h)).status_code in (400, 404)

    r = await client.get("/assets/by-serial/SN-0000", headers=h)
    assert r.status_code == 200
    found = r.json()
    assert found["asset"]["id"] == str(world.assets[0])
    assert found["asset"]["warranty_status"] == "in_warranty"
    assert found["customer_id"] == str(world.customers[0]) and found["site_name"] == "Site 0"
    assert (await client.get("/assets/by-serial/SN-9999", headers=h)).status_code == 404
    assert (await client.get("/assets/by-serial/sn-0000", headers=h)).status_code == 404
    r = await client.get("/assets/by-serial/" + "S" * 81, headers=h)
    assert r.status_code == 400


async def test_roles(client: Client, login: Any, world: World) -> None:
    urls = ["/customers", f"/customers/{world.customers[0]}", "/assets/by-serial/SN-0000"]
    for user in ("engineer1", "logistics1"):
        h = await login(user)
        for url in urls:
            assert (await client.get(url, headers=h)).status_code == 403, (user, url)
    for url in urls:
        assert (await client.get(url)).status_code == 401, url
