"""The stateful sync proof's world, server, logins and rig (see ``test_stateful_sync.py``).

- :func:`build_data`: ``tests.world`` plus a van for engineer3 and two jobs sharing assets with
  other engineers' jobs (so one engineer's work shows in another's service history).
- :class:`Server`: the real Litestar app served in-process (``httpx.ASGITransport``) on the
  example's own event loop, so device pushes and office edits can really run concurrently. Its
  lifespan runs in one long-lived task, so a server restart disposes the engine cleanly.
- :class:`DirectLogin`: real login sessions and tokens, without the deliberate argon2 cost.
- :class:`Rig`: one example's environment (loop, database, data, server, office, devices).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.accounts.auth import issue_access_token
from server.accounts.models import AuthSession
from server.app import create_app
from server.database import create_engine, metadata
from server.inventory.models import StockLevel, StockLocation, StockMovement
from server.jobs.models import Job, ServiceRequest
from server.settings import Settings, load_settings
from server.syncing.replication import commit
from sync.client import DeviceClient
from sync.localstore import JsonFileLocalStore, LocalStore, MemoryLocalStore
from sync.operations import Operation, ReportSubmit
from sync.transport import Channel, RetryPolicy
from tests.conftest import reset_pg
from tests.syncing.sync_audit import DEVICES, FaultyTransport
from tests.world import World, build_world

T = TypeVar("T")

Sessions = async_sessionmaker[AsyncSession]


async def build_data(sessions: Sessions) -> World:
    """The world, plus VAN-3 (engineer3, 2 of part 0) and two assigned jobs: e2_b (engineer2,
    asset 2 like e1_b) and e3_a (engineer3, asset 0 like e1_a); committed."""
    async with sessions() as db:
        w = await build_world(db)
        van = StockLocation(
            code="VAN-3",
            name="VAN-3",
            kind="van",
            engineer_id=w.users["engineer3"],
            lat=31.1,
            lon=121.3,
        )
        db.add(van)
        await db.flush()
        w.locations["VAN-3"] = van.id
        part = w.parts[0]
        db.add(
            StockMovement(
                part_id=part,
                location_id=van.id,
                kind="receipt",
                qty_delta=2,
                at=w.now,
                recorded_at=w.now,
            )
        )
        db.add(
            StockLevel(
                part_id=part,
                location_id=van.id,
                on_hand=2,
                reserved=0,
                reorder_point=1,
                updated_at=w.now,
            )
        )
        for key, engineer, i in (("e2_b", "engineer2", 2), ("e3_a", "engineer3", 0)):
            place = {"customer_id": w.customers[i], "site_id": w.sites[i], "asset_id": w.assets[i]}
            req = ServiceRequest(
                number=f"SR-S-{key}",
                channel="phone",
                category="fault",
                urgency="normal",
                problem=f"problem {key}",
                received_at=w.now,
                response_due=w.now + timedelta(hours=8),
                resolution_due=w.now + timedelta(hours=40),
                **place,
            )
            db.add(req)
            await db.flush()
            job = Job(
                number=f"J-S-{key}",
                request_id=req.id,
                engineer_id=w.users[engineer],
                status="assigned",
                summary=f"job {key}",
                required_skill="hvac",
                scheduled_start=w.now + timedelta(hours=4),
                scheduled_end=w.now + timedelta(hours=5),
                created_at=w.now,
                updated_at=w.now,
                **place,
            )
            db.add(job)
            await db.flush()
            w.jobs[key], w.requests[key] = job.id, req.id
        await commit(db)
    return w


class Server:
    """One run of the app on the current event loop; ``close`` then a new one is a restart."""

    def __init__(self, settings: Settings) -> None:
        self.app: Litestar = create_app(settings)
        transport = httpx.ASGITransport(app=self.app)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://fieldsync.test")
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Server:
        ready = asyncio.Event()

        async def serve() -> None:
            async with self.app.lifespan():  # on the way out: the app's engine is disposed
                ready.set()
                await self._stop.wait()

        self._task = asyncio.create_task(serve())
        await ready.wait()
        return self

    async def close(self) -> None:
        await self.http.aclose()
        self._stop.set()
        if self._task is not None:
            await self._task


class DirectLogin:
    """A TokenSource: a real login session and access token, minus argon2 (like conftest's
    ``login``); every request still goes through full authentication. Tokens outlive server
    restarts (same secret); :meth:`expire` makes the next request a 401, then a refresh."""

    def __init__(self, owner: Any, user_id: UUID) -> None:
        self._owner, self._user_id = owner, user_id  # owner: .sessions, .settings, .server
        self._token: str | None = None

    def expire(self) -> None:
        self._token = "expired.access.token"

    async def token(self, *, refresh: bool = False) -> str:
        if self._token is None or refresh:
            async with self._owner.sessions() as db:
                session = AuthSession(user_id=self._user_id, created_at=datetime.now(UTC))
                db.add(session)
                await db.commit()
            jwt_auth = self._owner.server.app.state.jwt_auth
            self._token = issue_access_token(
                jwt_auth, self._owner.settings, self._user_id, session.id
            )
        return self._token


@dataclass
class Dev:
    name: str
    user: str
    local: LocalStore
    transport: FaultyTransport
    login: DirectLogin
    client: DeviceClient = field(init=False)
    queued: dict[str, Operation] = field(default_factory=dict)  # by op id
    reports: dict[UUID, list[ReportSubmit]] = field(default_factory=dict)  # this device's submits


class Rig:
    """One example's world: its own event loop, database (a SQLite file, or the private
    PostgreSQL database emptied), data, app, office logins and devices (``DEVICES``; d1b keeps
    its state in a JSON file like the simulator, the others in memory, both via bytes)."""

    def start_rig(self, pg_url: str | None) -> None:
        self.runner = asyncio.Runner()
        self.tmp = tempfile.mkdtemp(prefix="fieldsync-stateful-")
        self.settings = load_settings(
            environ={},
            database_url=pg_url or f"sqlite+aiosqlite:///{self.tmp}/sync.db",
            secret_key="stateful-secret-key-0123456789abcdef",
            data_dir=self.tmp,
        )
        self.broken = False
        self._tick = 0
        try:
            self.run(self._build())
        except BaseException:
            self.stop_rig()
            raise

    def run(self, coro: Coroutine[Any, Any, T], expected: tuple[type[Exception], ...] = ()) -> T:
        """Run on the example's loop; an unexpected failure skips the final checks."""
        try:
            return self.runner.run(coro)
        except expected:
            raise
        except BaseException:
            self.broken = True
            raise

    async def _build(self) -> None:
        self.engine = create_engine(self.settings)
        if self.settings.is_sqlite:
            async with self.engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
        else:
            await reset_pg(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.world = w = await build_data(self.sessions)
        self.t0 = datetime.now(UTC)
        self.server = await Server(self.settings).start()
        self.staff = {u: DirectLogin(self, w.users[u]) for u in ("dispatcher1", "logistics1")}
        self.devs: list[Dev] = []
        for name, user in DEVICES:
            file = JsonFileLocalStore(f"{self.tmp}/{name}.json") if name == "d1b" else None
            transport = FaultyTransport(self, name, user)
            dev = Dev(
                name, user, file or MemoryLocalStore(), transport, DirectLogin(self, w.users[user])
            )
            await self.open(dev)
            self.devs.append(dev)

    async def open(self, dev: Dev) -> None:
        """(Re)start the app on the device from its saved state."""
        channel = Channel(dev.transport, dev.login, RetryPolicy(attempts=4, base_delay=0.0))
        dev.client = await DeviceClient.open(channel, dev.local, clock=self.clock)

    def clock(self) -> datetime:
        """Device time: now-ish and strictly increasing, so every ``at`` is distinct."""
        self._tick += 1
        return self.t0 + timedelta(milliseconds=self._tick)

    def jid(self, job: str) -> str:
        return str(self.world.jobs[job])

    async def post(self, user: str, path: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {await self.staff[user].token()}"}
        return await self.server.http.post(path, json=body, headers=headers)

    async def receive(self, place: str, part: int, qty: int) -> None:
        """Logistics books a stock receipt at a warehouse or van."""
        body: dict[str, Any] = {"part_id": str(self.world.parts[part]), "kind": "receipt"}
        body |= {"location_id": str(self.world.locations[place]), "qty_delta": qty}
        r = await self.post("logistics1", "/stock/movements", body)
        assert r.status_code == 201, r.text

    async def restart(self) -> None:
        await self.server.close()
        self.server = await Server(self.settings).start()

    def stop_rig(self) -> None:
        async def close() -> None:
            if hasattr(self, "server"):
                await self.server.close()
            if hasattr(self, "engine"):
                await self.engine.dispose()

        try:
            self.runner.run(close())
        finally:
            self.runner.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
