"""Customer sign-off links: who may issue them, and the one-time, expiring, version-scoped use."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.feedback.models import Feedback
from server.reports.form import stored_report_hash
from server.reports.models import Signature, SignoffLink, WorkReport
from server.syncing.models import BlobRecord
from server.syncing.replication import commit
from tests.conftest import Snapshot, field_of
from tests.images import png
from tests.world import World

Client = AsyncTestClient[Litestar]
Sessions = async_sessionmaker[AsyncSession]


def sign_body(token: str, image: bytes | None = None, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": token,
        "signer_name": "王芳",
        "signature_png": base64.b64encode(image if image is not None else png()).decode(),
        "attitude": 5,
        "efficiency": 4,
        "quality": 5,
        "comment": "师傅很专业",
    }
    body.update(over)
    return body


async def issue(client: Client, login: Any, world: World, who: str = "engineer1") -> dict[str, Any]:
    report_id = world.reports["e1_done"]  # version 1: its row id is the logical report id
    r = await client.post(
        f"/reports/{report_id}/signoff-links", json={"version": 1}, headers=await login(who)
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_who_may_issue_a_link(client: Client, login: Any, world: World) -> None:
    path = f"/reports/{world.reports['e1_done']}/signoff-links"
    expected = {
        "engineer1": 201,  # their own job's report
        "engineer2": 404,  # another engineer's job: indistinguishable from a missing report
        "dispatcher1": 201,
        "admin": 201,
        "manager1": 403,
        "logistics1": 403,
    }
    for user, status in expected.items():
        r = await client.post(path, json={}, headers=await login(user))
        assert r.status_code == status, (user, r.text)
    assert (await client.post(path, json={})).status_code == 401
    missing = f"/reports/{uuid4()}/signoff-links"
    r = await client.post(missing, json={}, headers=await login("dispatcher1"))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_token_is_high_entropy_and_stored_hashed(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    link = await issue(client, login, world)
    token = link["token"]
    assert link["path"] == f"/signoff.html#{token}"
    assert len(token) >= 43  # 32 random bytes, base64url
    assert link["report_version"] == 1
    assert UUID(link["report_id"]) == world.reports["e1_done"]
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(hours=71) < expires - datetime.now(UTC) <= timedelta(hours=72)
    async with sessions() as db:
        rows = (await db.execute(select(SignoffLink))).scalars().all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert all(token not in str(vars(r)) for r in rows)


async def test_customer_views_signs_and_rates_once(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    token = (await issue(client, login, world))["token"]
    r = await client.post("/signoff/view", json={"token": token})  # no login: the token is it
    assert r.status_code == 200, r.text
    view = r.json()
    async with sessions() as db:
        version = await db.get_one(WorkReport, world.reports["e1_done"])
        assert view["report_sha256"] == stored_report_hash(version)
    assert view["job_number"] == "J-T-e1_done"
    assert view["customer_name"] == "Customer 0"
    assert view["engineer_name"] == "Engineer1"
    assert view["diagnosis"] == "compressor noise" and view["labour_minutes"] == 90
    assert view["report_version"] == 1 and view["parts"] == []

    image = png()
    r = await client.post("/signoff/sign", json=sign_body(token, image))
    assert r.status_code == 201, r.text
    assert r.json()["report_sha256"] == view["report_sha256"]
    async with sessions() as db:
        version = await db.get_one(WorkReport, world.reports["e1_done"])
        assert version.signed
        sig = (await db.execute(select(Signature))).scalar_one()
        assert sig.report_id == version.id and sig.channel == "link"
        assert sig.image_sha256 == hashlib.sha256(image).hexdigest()
        assert sig.report_sha256 == view["report_sha256"] and sig.signer_name == "王芳"
        blob = await db.get_one(BlobRecord, sig.image_sha256)
        assert bytes(blob.data) == image and blob.content_type == "image/png"
        fb = (await db.execute(select(Feedback))).scalar_one()
        assert (fb.attitude, fb.efficiency, fb.quality, fb.channel) == (5, 4, 5, "link")
        assert fb.job_id == world.jobs["e1_done"] and fb.comment == "师傅很专业"

    for path, body in (("/signoff/sign", sign_body(token)), ("/signoff/view", {"token": token})):
        r = await client.post(path, json=body)
        assert r.status_code == 410 and r.json()["code"] == "link_used", r.text
    # a signed report gets no new link
    r = await client.post(
        f"/reports/{world.reports['e1_done']}/signoff-links",
        json={},
        headers=await login("dispatcher1"),
    )
    assert r.status_code == 409 and r.json()["code"] == "report_signed"


async def test_two_concurrent_uses_sign_once(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    token = (await issue(client, login, world))["token"]
    answers = await asyncio.gather(
        *(client.post("/signoff/sign", json=sign_body(token, png(width=2 + i))) for i in range(3))
    )
    assert sorted(a.status_code for a in answers) == [201, 410, 410]
    async with sessions() as db:
        assert len((await db.execute(select(Signature))).scalars().all()) == 1
        assert len((await db.execute(select(Feedback))).scalars().all()) == 1


async def test_expired_link_is_refused_and_changes_nothing(
    client: Client,
    login: Any,
    world: World,
    sessions: Sessions,
    snapshot: Callable[[], Awaitable[Snapshot]],
) -> None:
    token = (await issue(client, login, world))["token"]
    async with sessions() as db:
        past = datetime.now(UTC) - timedelta(minutes=1)
        await db.execute(update(SignoffLink).values(expires_at=past))
        await db.commit()
    before = await snapshot()
    for path, body in (("/signoff/view", {"token": token}), ("/signoff/sign", sign_body(token))):
        r = await client.post(path, json=body)
        assert r.status_code == 410 and r.json()["code"] == "link_expired", r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await snapshot() == before


async def test_a_newer_version_makes_the_link_report_changed(
    client: Client, login: Any, world: World, sessions: Sessions
) -> None:
    token = (await issue(client, login, world))["token"]
    async with sessions() as db:
        v1 = await db.get_one(WorkReport, world.reports["e1_done"])
        db.add(
            WorkReport(
                report_id=v1.report_id,
                job_id=v1.job_id,
                version=2,
                author_id=v1.author_id,
                diagnosis="compressor noise and vibration",
                root_cause_category=v1.root_cause_category,
                root_cause=v1.root_cause,
                prevention=v1.prevention,
                actions=v1.actions,
                labour_minutes=100,
                parts=[],
                content_sha256="0" * 64,
                submitted_at=datetime.now(UTC),
                received_at=datetime.now(UTC),
            )
        )
        await commit(db)
    for path, body in (("/signoff/view", {"token": token}), ("/signoff/sign", sign_body(token))):
        r = await client.post(path, json=body)
        assert r.status_code == 409 and r.json()["code"] == "report_changed", r.text
    # issuing for a version that is no longer the latest is refused the same way
    r = await client.post(
        f"/reports/{world.reports['e1_done']}/signoff-links",
        json={"version": 1},
        headers=await login("engineer1"),
    )
    assert r.status_code == 409 and r.json()["code"] == "report_changed"
    assert r.json()["latest_version"] == 2
    fresh = await client.post(
        f"/reports/{world.reports['e1_done']}/signoff-links",
        json={"version": 2},
        headers=await login("engineer1"),
    )
    assert fresh.status_code == 201 and fresh.json()["report_version"] == 2
    view = await client.post("/signoff/view", json={"token": fresh.json()["token"]})
    assert view.status_code == 200 and view.json()["labour_minutes"] == 100


async def test_bad_input_is_refused_clearly_and_keeps_the_link_usable(
    client: Client,
    login: Any,
    world: World,
    snapshot: Callable[[], Awaitable[Snapshot]],
) -> None:
    token = (await issue(client, login, world))["token"]
    r = await client.post("/signoff/view", json={"token": "A" * 43})
    assert r.status_code == 404 and r.json()["code"] == "link_invalid"
    r = await client.post("/signoff/view", json={"token": "not a token!"})
    assert r.status_code == 400 and field_of(r) == "token"
    before = await snapshot()
    bad = [
        (sign_body(token, b"GIF89a not a png"), "signature_png"),
        (sign_body(token, signature_png="%%%"), "signature_png"),
        (sign_body(token, b"\x89PNG\r\n\x1a\n" + b"\0" * (600 * 1024)), "signature_png"),
        (sign_body(token, attitude=6), "attitude"),
        (sign_body(token, signer_name=""), "signer_name"),
        ({**sign_body(token), "extra": 1}, "extra"),
    ]
    for body, field in bad:
        r = await client.post("/signoff/sign", json=body)
        assert r.status_code == 400, r.text
        assert field_of(r) == field, r.text
    assert await snapshot() == before
    r = await client.post("/signoff/sign", json=sign_body(token))
    assert r.status_code == 201, r.text
