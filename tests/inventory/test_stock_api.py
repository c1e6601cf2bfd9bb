"""Stock levels, the ledger, hand-recorded movements and transfers over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.inventory import ledger
from server.syncing import replication
from server.syncing.models import ReplicaChange
from server.syncing.replication import commit
from tests.inventory.snapshot import ledger_state
from tests.world import World

Client = AsyncTestClient[Litestar]
Sessions = async_sessionmaker[AsyncSession]


def receipt(world: World, **change: Any) -> dict[str, Any]:
    body = {
        "part_id": str(world.parts[2]),
        "location_id": str(world.locations["WH-2"]),
        "kind": "receipt",
        "qty_delta": 12,
        "note": "PO-889",
    }
    return body | change


async def test_levels_and_reorder_flag(client: Client, login: Any, world: World) -> None:
    headers = await login("dispatcher1")
    r = await client.get("/stock/levels", headers=headers)
    rows = {(lv["location_code"], lv["sku"]): lv for lv in r.json()}
    assert len(rows) == 5
    assert rows[("WH-1", "P-000")]["below_reorder_point"] is False  # 50 vs 10
    assert rows[("WH-1", "P-001")]["below_reorder_point"] is True  # 5 vs 10
    r = await client.get("/stock/levels?below_reorder=true", headers=headers)
    assert sorted((lv["location_code"], lv["sku"]) for lv in r.json()) == [
        ("VAN-1", "P-000"),
        ("VAN-2", "P-000"),
        ("WH-1", "P-001"),
    ]
    r = await client.get(
        f"/stock/levels?location_id={world.locations['WH-1']}&part_id={world.parts[1]}",
        headers=headers,
    )
    assert [(lv["on_hand"], lv["available"]) for lv in r.json()] == [(5, 5)]
    r = await client.get("/stock/levels?location_id=nope", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "location_id"


async def test_record_movement_and_read_ledger(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    headers = await login("logistics1")
    at = (world.now - timedelta(hours=1)).isoformat()
    r = await client.post("/stock/movements", json=receipt(world, at=at), headers=headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["kind"], made["qty_delta"], made["overdraw"]) == ("receipt", 12, False)
    assert made["actor_id"] == str(world.users["logistics1"])
    r = await client.post(
        "/stock/movements",
        json=receipt(world, kind="adjustment", qty_delta=-2, note="count"),
        headers=await login("manager1"),
    )
    assert r.status_code == 201
    r = await client.get(
        f"/stock/levels?location_id={world.locations['WH-2']}&part_id={world.parts[2]}",
        headers=headers,
    )
    assert r.json()[0]["on_hand"] == 10

    r = await client.get(f"/stock/movements?part_id={world.parts[2]}", headers=headers)
    assert [m["kind"] for m in r.json()] == ["adjustment", "receipt"]  # newest first
    r = await client.get("/stock/movements?kind=receipt&limit=2", headers=headers)
    assert len(r.json()) == 2 and all(m["kind"] == "receipt" for m in r.json())
    since = (world.now - timedelta(days=1)).isoformat()
    r = await client.get("/stock/movements", params={"since": since}, headers=headers)
    assert {m["kind"] for m in r.json()} == {"receipt", "adjustment"} and len(r.json()) == 2
    r = await client.get("/stock/movements", params={"until": since}, headers=headers)
    assert len(r.json()) == 5  # the world's receipts, three days ago
    r = await client.get("/stock/movements?since=2025-01-01T00:00:00", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "since"
    r = await client.get("/stock/movements?kind=theft", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kind"
    async with sessions() as db:
        assert await ledger.verify_ledger(db) == []


BAD_BODIES: list[tuple[str, Any, str | None]] = [
    ("malformed JSON", b'{"part_id": ', None),
    ("not an object", b"[1, 2]", None),
    ("unknown field", {"extra": 1}, "extra"),
    ("bad uuid", {"part_id": "not-a-uuid"}, "part_id"),
    ("consumption by hand", {"kind": "consumption", "qty_delta": -1}, "kind"),
    ("transfer by hand", {"kind": "transfer_in"}, "kind"),
    ("zero", {"qty_delta": 0}, "qty_delta"),
    ("negative receipt", {"qty_delta": -3}, "qty_delta"),
    ("huge", {"qty_delta": 10**9}, "qty_delta"),
    ("naive time", {"at": "2025-01-01T00:00:00"}, "at"),
    ("future time", {"at": "2999-01-01T00:00:00Z"}, "at"),
    ("long note", {"note": "x" * 301}, "note"),
    ("unknown part", {"part_id": "0190a000-0000-7000-8000-000000000000"}, "part_id"),
    ("unknown location", {"location_id": "0190a000-0000-7000-8000-000000000000"}, "location_id"),
]


async def test_bad_movements_are_400_naming_the_field_and_change_nothing(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    headers = await login("logistics1")
    before = await ledger_state(sessions)
    for case, change, field in BAD_BODIES:
        if isinstance(change, bytes):
            r = await client.post(
                "/stock/movements",
                content=change,
                headers=headers | {"content-type": "application/json"},
            )
        else:
            body = receipt(world) | change
            r = await client.post("/stock/movements", json=body, headers=headers)
        assert r.status_code == 400, (case, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), case
        if field:
            assert r.json()["errors"][0]["field"] == field, (case, r.text)
    # A negative adjustment below zero is a state conflict, not bad syntax.
    r = await client.post(
        "/stock/movements",
        json=receipt(world, kind="adjustment", qty_delta=-21, part_id=str(world.parts[0])),
        headers=headers,
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "qty_delta"
    assert await ledger_state(sessions) == before


async def test_transfers(client: Client, login: Any, world: World, sessions: Sessions) -> None:
    headers = await login("logistics1")
    body = {
        "part_id": str(world.parts[1]),
        "from_location_id": str(world.locations["WH-1"]),
        "to_location_id": str(world.locations["VAN-2"]),
        "qty": 4,
    }
    r = await client.post("/stock/transfers", json=body, headers=headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["out"]["qty_delta"] == -4 and made["into"]["qty_delta"] == 4
    assert made["out"]["transfer_ref"] == made["into"]["transfer_ref"] == made["transfer_ref"]

    before = await ledger_state(sessions)
    for change, status, field in [
        ({"qty": 2}, 409, "qty"),  # WH-1 has 1 left: a planned transfer may not overdraw
        ({"qty": 0}, 400, "qty"),
        ({"to_location_id": str(world.locations["WH-1"])}, 400, "to_location_id"),
        ({"from_location_id": str(world.users["admin"])}, 400, "from_location_id"),
        ({"to_location_id": str(world.users["admin"])}, 400, "to_location_id"),
        ({"part_id": str(world.users["admin"])}, 400, "part_id"),
        ({"qty": 1, "via": "truck"}, 400, "via"),
    ]:
        r = await client.post("/stock/transfers", json=body | change, headers=headers)
        assert r.status_code == status, (change, r.text)
        assert r.json()["errors"][0]["field"] == field, change
    assert await ledger_state(sessions) == before
    async with sessions() as db:
        assert await ledger.verify_ledger(db) == []


async def test_locations_and_ledger_check(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    r = await client.get("/locations", headers=await login("dispatcher1"))
    assert [loc["code"] for loc in r.json()] == ["WH-1", "WH-2", "VAN-1", "VAN-2"]
    assert r.json()[0]["lat"] == 31.22
    r = await client.get("/locations?kind=van", headers=await login("logistics1"))
    assert [loc["code"] for loc in r.json()] == ["VAN-1", "VAN-2"]
    r = await client.get("/locations?kind=boat", headers=await login("logistics1"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kind"
    admin = await login("admin")
    assert (await client.get("/stock/ledger-check", headers=admin)).json() == []
    async with sessions() as db:
        await ledger.record_movement(
            db,
            part_id=world.parts[0],
            location_id=world.locations["VAN-1"],
            kind="consumption",
            qty_delta=-5,
            at=datetime.now(UTC),
        )
        await commit(db)
    assert (await client.get("/stock/ledger-check", headers=admin)).json() == []


async def test_only_stock_staff_change_stock(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    before = await ledger_state(sessions)
    transfer = {
        "part_id": str(world.parts[0]),
        "from_location_id": str(world.locations["WH-1"]),
        "to_location_id": str(world.locations["VAN-1"]),
        "qty": 1,
    }
    for username in ("engineer1", "dispatcher1"):
        headers = await login(username)
        r = await client.post("/stock/movements", json=receipt(world), headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        r = await client.post("/stock/transfers", json=transfer, headers=headers)
        assert r.status_code == 403
    assert await ledger_state(sessions) == before


async def test_stock_changes_reach_the_engineers_replica(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    """Levels move through Core statements, so the ledger must mark them for replication."""
    engineer = str(world.users["engineer1"])
    key = f"stock:{world.locations['VAN-1']}/{world.parts[1]}"
    async with sessions() as db:
        await replication.reconcile(db, engineer)  # the engineer's first pull builds the replica
        await commit(db)
    transfer = {
        "part_id": str(world.parts[1]),
        "from_location_id": str(world.locations["WH-1"]),
        "to_location_id": str(world.locations["VAN-1"]),
        "qty": 2,
    }
    r = await client.post("/stock/transfers", json=transfer, headers=await login("logistics1"))
    assert r.status_code == 201
    async with sessions() as db:
        change = (
            await db.execute(
                select(ReplicaChange.change).where(
                    ReplicaChange.user_id == engineer, ReplicaChange.doc_key == key
                )
            )
        ).scalar_one()
    assert b'"on_hand":2' in change
