"""End to end over HTTP: the reference device client against the real app and database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.inventory.models import StockLevel, StockMovement
from server.reports.models import Signature, WorkReport
from server.syncing.device import HttpTransport, PasswordLogin
from server.syncing.models import ReplicaChange
from server.syncing.scope import scope_keys
from sync.canonical import report_hash
from sync.client import DeviceClient
from sync.localstore import MemoryLocalStore
from sync.operations import (
    FeedbackSubmit,
    JobStatus,
    PartConsume,
    ReportSubmit,
    SignatureCapture,
)
from sync.transport import Channel, RetryPolicy
from tests.images import png
from tests.world import World

Client = AsyncTestClient[Litestar]
Sessions = async_sessionmaker[AsyncSession]


async def device(client: Client, username: str = "engineer1") -> DeviceClient:
    channel = Channel(
        HttpTransport(client),
        PasswordLogin(client, username, World.PASSWORD),
        RetryPolicy(attempts=2, base_delay=0.0),
    )
    return await DeviceClient.open(channel, MemoryLocalStore())


async def sync_until(d: DeviceClient, done: Callable[[], bool], within: float = 15.0) -> None:
    """Sync until ``done()`` holds. On PostgreSQL a committed change becomes readable only when
    every older transaction in the cluster has ended (that is what keeps cursors from skipping
    late commits), so under a busy cluster — parallel test workers — it may lag a moment."""
    deadline = asyncio.get_running_loop().time() + within
    await d.sync()
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "change never became visible"
        await asyncio.sleep(0.05)
        await d.sync()


async def _count(sessions: Sessions, what: Any) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(what)) or 0)


async def test_initial_sync_holds_exactly_the_scope(
    client: Client, world: World, sessions: Sessions
) -> None:
    d = await device(client)
    async with sessions() as db:
        expected = await scope_keys(db, str(world.users["engineer1"]))
    await sync_until(d, lambda: set(d.replica) == expected)
    job = d.doc(f"job:{world.jobs['e1_a']}")
    assert job is not None and job["status"] == "assigned"
    assert d.doc(f"job:{world.jobs['e2_a']}") is None  # never sent: another engineer's


async def test_offline_work_reaches_the_server_once(
    client: Client, world: World, sessions: Sessions
) -> None:
    d = await device(client)
    await d.sync()
    job_id = str(world.jobs["e1_a"])
    van, part = str(world.locations["VAN-1"]), str(world.parts[0])
    report_id = uuid4()
    await d.queue(JobStatus, job_id=job_id, to="en_route", base_status="assigned")
    await d.queue(JobStatus, job_id=job_id, to="on_site", base_status="en_route")
    await d.queue(JobStatus, job_id=job_id, to="work_started", base_status="on_site")
    report = await d.queue(
        ReportSubmit,
        report_id=report_id,
        job_id=job_id,
        diagnosis="noise",
        root_cause_category="wear",
        root_cause="bearing",
        prevention="oil",
        actions="replaced",
        labour_minutes=45,
        parts=[{"part_id": part, "qty": 5}],
    )
    await d.queue(PartConsume, job_id=job_id, part_id=part, location_id=van, qty=5)
    image = await d.attach_blob(png(), "image/png")
    await d.queue(
        SignatureCapture,
        signature_id=uuid4(),
        report_id=report_id,
        report_version=1,
        signer_name="张先生",
        image_sha256=image,
        report_sha256=report_hash(report.report_fields()),
    )
    await d.queue(
        FeedbackSubmit,
        feedback_id=uuid4(),
        job_id=job_id,
        attitude=5,
        efficiency=4,
        quality=5,
        comment="好",
    )
    await d.sync()
    statuses = [r.status for r in d.results.values()]
    assert statuses == ["applied"] * 7, [(r.code, r.message) for r in d.results.values()]
    consume = next(r for r in d.results.values() if r.result and "level" in r.result)
    assert consume.result == {"level": -2} and consume.flags == ["overdraw"]
    assert not d.outbox
    # The replica followed: job status, the van's stock level, the signed report (on PostgreSQL
    # it may take another pull: see sync_until).
    await sync_until(
        d,
        lambda: (
            (d.doc(f"job:{job_id}") or {}).get("status") == "work_started"
            and (d.doc(f"stock:{van}/{part}") or {}).get("on_hand") == -2
            and (d.doc(f"report:{report_id}") or {}).get("signed") is True
        ),
    )
    async with sessions() as db:
        level = await db.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.location_id == world.locations["VAN-1"],
                StockLevel.part_id == world.parts[0],
            )
        )
        sums = await db.scalar(
            select(func.sum(StockMovement.qty_delta)).where(
                StockMovement.location_id == world.locations["VAN-1"],
                StockMovement.part_id == world.parts[0],
            )
        )
        signature = (await db.execute(select(Signature))).scalar_one()
    assert level == sums == -2
    assert signature.image_sha256 == image
    blob = await client.get(f"/sync/blobs/{image}", headers=await _staff(client))
    assert blob.status_code == 200 and blob.content == png()


async def _staff(client: Client) -> dict[str, str]:
    r = await client.post(
        "/auth/login", json={"username": "dispatcher1", "password": World.PASSWORD}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_a_lost_response_is_answered_again_identically(
    client: Client, world: World, sessions: Sessions
) -> None:
    d = await device(client)
    token = await PasswordLogin(client, "engineer1", World.PASSWORD).token()
    auth = {"Authorization": f"Bearer {token}"}
    op = {
        "op": "part.consume",
        "seq": 1,
        "id": str(uuid4()),
        "at": datetime.now(UTC).isoformat(),
        "job_id": str(world.jobs["e1_a"]),
        "part_id": str(world.parts[0]),
        "location_id": str(world.locations["VAN-1"]),
        "qty": 1,
    }
    body = {"protocol": 1, "schema": 1, "device_id": str(d.device_id), "ops": [op]}
    first = await client.post("/sync/push", json=body, headers=auth)
    movements = await _count(sessions, StockMovement)
    again = await client.post("/sync/push", json=body, headers=auth)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content  # byte for byte
    assert await _count(sessions, StockMovement) == movements  # applied once


async def test_reassigned_job_rejects_and_keeps_the_report(
    client: Client,
    world: World,
    sessions: Sessions,
    login: Callable[[str], Awaitable[dict[str, str]]],
) -> None:
    d = await device(client)
    await d.sync()
    job_id = str(world.jobs["e1_b"])
    await d.queue(
        ReportSubmit,
        report_id=uuid4(),
        job_id=job_id,
        diagnosis="offline diagnosis",
        root_cause_category="wear",
        root_cause="x",
        prevention="y",
        actions="z",
        labour_minutes=5,
    )
    # Meanwhile the dispatcher gives the job to engineer2.
    start = datetime.now(UTC) + timedelta(hours=2)
    r = await client.post(
        f"/jobs/{job_id}/assign",
        json={
            "engineer_id": str(world.users["engineer2"]),
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=1)).isoformat(),
        },
        headers=await login("dispatcher1"),
    )
    assert r.status_code == 200, r.text
    await sync_until(d, lambda: d.doc(f"job:{job_id}") is None)  # left the replica
    (result,) = d.results.values()
    assert result.status == "rejected" and result.code == "not_assigned"
    assert await _count(sessions, WorkReport) == 1  # only the world's report: not applied...
    review = await client.get("/sync/rejections", headers=await login("dispatcher1"))
    assert review.status_code == 200
    (kept,) = review.json()
    assert kept["operation"]["diagnosis"] == "offline diagnosis"  # ...but kept for review
    assert kept["username"] == "engineer1" and kept["result"]["code"] == "not_assigned"


async def test_protocol_errors_are_clear(
    client: Client, world: World, login: Callable[[str], Awaitable[dict[str, str]]]
) -> None:
    engineer = await login("engineer1")
    r = await client.post(
        "/sync/pull", json={"protocol": 1, "schema": 1}, headers=await login("dispatcher1")
    )
    assert r.status_code == 403
    r = await client.post("/sync/pull", json={"protocol": 99, "schema": 1}, headers=engineer)
    assert r.status_code == 426 and r.json()["code"] == "upgrade_required"
    r = await client.post(
        "/sync/pull", json={"protocol": 1, "schema": 1, "cursor": "garbage"}, headers=engineer
    )
    assert r.status_code == 400 and r.json()["code"] == "bad_cursor"
    r = await client.post("/sync/pull", content=b"{nope", headers=engineer)
    assert r.status_code == 400
    gap = {
        "protocol": 1,
        "schema": 1,
        "device_id": str(uuid4()),
        "ops": [
            {
                "op": "job.note",
                "seq": 3,
                "id": str(uuid4()),
                "at": datetime.now(UTC).isoformat(),
                "job_id": str(world.jobs["e1_a"]),
                "text": "x",
                "base_version": 1,
            }
        ],
    }
    r = await client.post("/sync/push", json=gap, headers=engineer)
    assert r.status_code == 200
    assert (
        r.json()["stopped"]["code"] == "out_of_order" and r.json()["stopped"]["expected_seq"] == 1
    )
    r = await client.put(
        f"/sync/blobs/{'0' * 64}", content=png(), headers={**engineer, "content-type": "image/png"}
    )
    assert r.status_code == 400 and r.json()["code"] == "blob_hash_mismatch"


async def test_replica_rows_are_not_written_for_users_who_never_synced(
    client: Client, world: World, sessions: Sessions
) -> None:
    d = await device(client)
    await d.sync()
    async with sessions() as db:
        users = set((await db.execute(select(ReplicaChange.user_id).distinct())).scalars())
    assert users == {str(world.users["engineer1"])}


REPORT_TEXT = {
    "diagnosis": "a",
    "root_cause_category": "wear",
    "root_cause": "b",
    "prevention": "c",
    "actions": "d",
    "labour_minutes": 1,
}
"""A report's fields other than its ids and parts, for tests that only need some report."""


async def test_signature_bound_to_the_exact_content(client: Client, world: World) -> None:
    d = await device(client)
    await d.sync()
    report_id = uuid4()
    job_id = str(world.jobs["e1_a"])
    await d.queue(ReportSubmit, report_id=report_id, job_id=job_id, **REPORT_TEXT)
    await d.queue(
        SignatureCapture,
        signature_id=uuid4(),
        report_id=report_id,
        report_version=1,
        signer_name="x",
        image_sha256="a" * 64,
        report_sha256="b" * 64,
    )
    await d.sync()
    submit, sign = d.results.values()
    assert submit.status == "applied"
    assert sign.status == "rejected" and sign.code == "report_hash_mismatch"


async def test_report_versions_share_one_id_and_sign_offline(client: Client, world: World) -> None:
    d = await device(client)
    await d.sync()
    job_id, report_id = str(world.jobs["e1_a"]), uuid4()
    fields = {"job_id": job_id, **REPORT_TEXT}
    await d.queue(ReportSubmit, report_id=report_id, **fields)
    second = await d.queue(ReportSubmit, report_id=report_id, **{**fields, "actions": "d2"})
    await d.queue(ReportSubmit, report_id=uuid4(), **fields)  # another id on the same job
    # Signed offline: the device predicts version 2 (its second submit of this report).
    await d.queue(
        SignatureCapture,
        signature_id=uuid4(),
        report_id=report_id,
        report_version=2,
        signer_name="x",
        image_sha256="a" * 64,
        report_sha256=report_hash(second.report_fields()),
    )
    await sync_until(d, lambda: (d.doc(f"report:{report_id}") or {}).get("signed") is True)
    v1, v2, other, sign = d.results.values()
    assert (v1.result, v2.result) == (
        {"version": 1, "report_sha256": v1.result["report_sha256"]},  # type: ignore[index]
        {"version": 2, "report_sha256": report_hash(second.report_fields())},
    )
    assert other.status == "rejected" and other.code == "invalid_reference"
    assert sign.status == "applied" and sign.flags == ["pending_blob"]
    doc = d.doc(f"report:{report_id}")
    assert doc is not None and doc["version"] == 2 and doc["signed"] is True
    assert doc["actions"] == "d2"
