"""Shipments over HTTP: who sees which, the carrier status machine, and delivery into stock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.errors import Conflict
from server.inventory import ledger
from server.inventory.models import StockLevel, StockMovement
from server.logistics import shipments
from server.logistics.models import Shipment, ShipmentEvent, ShipmentLine
from server.syncing.replication import commit
from tests.inventory.snapshot import ledger_state
from tests.world import World

Client = AsyncTestClient[Litestar]
Sessions = async_sessionmaker[AsyncSession]


async def add_shipment(
    sessions: Sessions, world: World, *, to: str, tracking: str, status: str = "picked"
) -> UUID:
    async with sessions() as db:
        s = Shipment(
            carrier="JD",
            tracking_number=tracking,
            status=status,
            from_location_id=world.locations["WH-2"],
            to_location_id=world.locations[to],
            created_at=world.now,
        )
        db.add(s)
        await db.flush()
        db.add_all(
            [
                ShipmentLine(shipment_id=s.id, part_id=world.parts[0], qty=3),
                ShipmentLine(shipment_id=s.id, part_id=world.parts[5], qty=1),
            ]
        )
        db.add(ShipmentEvent(shipment_id=s.id, status=status, at=world.now, place="WH-2"))
        await commit(db)
        return s.id


async def level(sessions: Sessions, part: UUID, location: UUID) -> int:
    async with sessions() as db:
        found = (
            await db.execute(
                select(StockLevel.on_hand).where(
                    StockLevel.part_id == part, StockLevel.location_id == location
                )
            )
        ).scalar_one_or_none()
    return found or 0


async def test_engineers_see_only_shipments_to_their_van(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    to_van2 = await add_shipment(sessions, world, to="VAN-2", tracking="JD0002")
    sf = world.shipments["sf"]  # to VAN-1
    e1, e2, e3 = [await login(u) for u in ("engineer1", "engineer2", "engineer3")]
    r = await client.get("/shipments", headers=e1)
    assert [s["tracking_number"] for s in r.json()] == ["SF1234567890"]
    r = await client.get(f"/shipments?to_location_id={world.locations['VAN-2']}", headers=e1)
    assert r.json() == []
    assert (await client.get(f"/shipments/{sf}", headers=e1)).status_code == 200
    for url in (f"/shipments/{sf}", "/shipments/by-tracking/SF1234567890"):
        r = await client.get(url, headers=e2)
        assert r.status_code == 404 and r.json()["code"] == "not_found", url
        assert (await client.get(url, headers=e3)).status_code == 404  # no van at all
    assert (await client.get(f"/shipments/{to_van2}", headers=e2)).status_code == 200
    assert (await client.get("/shipments", headers=e3)).json() == []

    r = await client.get("/shipments", headers=await login("dispatcher1"))
    assert [s["tracking_number"] for s in r.json()] == ["JD0002", "SF1234567890"]  # newest first
    r = await client.get("/shipments?status=in_transit", headers=await login("dispatcher1"))
    assert [s["tracking_number"] for s in r.json()] == ["SF1234567890"]
    r = await client.get("/shipments?status=lost", headers=await login("dispatcher1"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "status"


async def test_detail_has_lines_and_history_in_time_order(
    client: Client, login: Any, world: World
) -> None:
    headers = await login("logistics1")
    sf = world.shipments["sf"]
    late_scan = (world.now - timedelta(hours=22)).isoformat()  # between picked and in_transit
    r = await client.post(
        f"/shipments/{sf}/events",
        json={"status": "in_transit", "at": late_scan, "place": "上海转运中心"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    r = await client.get("/shipments/by-tracking/SF1234567890", headers=headers)
    body = r.json()
    assert body["shipment"]["id"] == str(sf) and body["shipment"]["status"] == "in_transit"
    assert body["lines"] == [
        {"part_id": str(world.parts[1]), "sku": "P-001", "part_name": "零件 1", "qty": 2}
    ]
    assert [(e["status"], e["place"]) for e in body["events"]] == [
        ("picked", ""),
        ("in_transit", "上海转运中心"),
        ("in_transit", ""),
    ]
    assert (await client.get("/shipments/by-tracking/NOPE", headers=headers)).status_code == 404
    r = await client.get("/shipments/by-tracking/" + "X" * 61, headers=headers)
    assert r.status_code == 400


async def test_status_machine_and_delivery_into_stock(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    headers = await login("logistics1")
    sid = await add_shipment(sessions, world, to="VAN-2", tracking="JD0003")
    van2 = world.locations["VAN-2"]
    url = f"/shipments/{sid}/events"

    async def post(status: str, **extra: Any) -> Any:
        return await client.post(url, json={"status": status} | extra, headers=headers)

    assert (await post("damaged")).status_code == 409  # not from picked
    assert (await post("in_transit", place="Hub")).status_code == 201
    assert (await post("picked")).status_code == 409  # never back to picked
    assert (await post("delayed", note="typhoon")).status_code == 201
    assert (await post("damaged", note="box crushed")).status_code == 201
    before = await ledger_state(sessions)
    r = await post("delivered", place="VAN-2")
    assert r.status_code == 201, r.text
    assert r.json()["shipment"]["status"] == "delivered" and r.json()["shipment"]["delivered_at"]
    assert await level(sessions, world.parts[0], van2) == 1 + 3
    assert await level(sessions, world.parts[5], van2) == 1  # first stock of that part there

    # Delivered is final: nothing after it, and stock is received exactly once.
    after = await ledger_state(sessions)
    assert after[0] == before[0] + 2
    for status in ("delivered", "in_transit", "damaged"):
        r = await post(status)
        assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"
    assert await ledger_state(sessions) == after
    async with sessions() as db:
        moves = (
            (await db.execute(select(StockMovement).where(StockMovement.shipment_id == sid)))
            .scalars()
            .all()
        )
        assert {(m.kind, m.location_id, m.qty_delta) for m in moves} == {
            ("transfer_in", van2, 3),
            ("transfer_in", van2, 1),
        }
        assert {m.transfer_ref for m in moves} == {shipments.transfer_ref(sid)}
        events = (
            await db.execute(select(func.count()).where(ShipmentEvent.shipment_id == sid))
        ).scalar_one()
        assert events == 5
        assert await ledger.verify_ledger(db) == []


async def test_racing_deliveries_receive_once(world: World, sessions: Sessions) -> None:
    sid = world.shipments["sf"]

    async def deliver() -> bool:
        async with sessions() as db:
            try:
                await shipments.add_event(
                    db,
                    shipment_id=sid,
                    status="delivered",
                    at=datetime.now(UTC),
                    place="",
                    note="",
                    actor_id=None,
                )
            except Conflict:
                await db.rollback()
                return False
            await commit(db)
            return True

    results = await asyncio.gather(*(deliver() for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert await level(sessions, world.parts[1], world.locations["VAN-1"]) == 2


async def test_bad_events_are_rejected_and_change_nothing(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    headers = await login("logistics1")
    sf = world.shipments["sf"]
    url = f"/shipments/{sf}/events"
    before = await ledger_state(sessions)
    for body, field in [
        ({"status": "lost"}, "status"),
        ({"status": "delivered", "who": "me"}, "who"),
        ({"status": "delivered", "at": "2025-01-01T10:00:00"}, "at"),
        ({"status": "delivered", "at": "2999-01-01T10:00:00+08:00"}, "at"),
        ({"status": "delivered", "place": "x" * 161}, "place"),
        ({}, "status"),
    ]:
        r = await client.post(url, json=body, headers=headers)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, body
    r = await client.post(
        url, content=b"{not json", headers=headers | {"content-type": "application/json"}
    )
    assert r.status_code == 400
    r = await client.post(
        "/shipments/not-a-uuid/events", json={"status": "delivered"}, headers=headers
    )
    assert r.status_code in (404, 405)
    r = await client.post(
        f"/shipments/{world.parts[0]}/events", json={"status": "delivered"}, headers=headers
    )
    assert r.status_code == 404
    for user in ("engineer1", "dispatcher1"):
        r = await client.post(url, json={"status": "delivered"}, headers=await login(user))
        assert r.status_code == 403, user
    assert await ledger_state(sessions) == before
    r = await client.get(f"/shipments/{sf}", headers=headers)
    assert r.json()["shipment"]["status"] == "in_transit" and len(r.json()["events"]) == 2
