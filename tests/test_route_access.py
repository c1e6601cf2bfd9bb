"""Every route × every role (DESIGN §7): the one table of who gets which HTTP status.

``TABLE`` has a row per (method, path template) — more than one where the object matters (an
engineer's own job, another engineer's, a missing one) — with the status expected for each of
``ROLES``: anonymous, engineer (engineer1), dispatcher (dispatcher1), logistics (logistics1),
manager (manager1) and admin. Each row builds its concrete request (path parameters, query, a
valid body) from the world, so an allowed role gets its 2xx, a refused role 403, an object the
caller may not see 404, and anonymous 401: the status is the authorization decision, not a
validation error.

Requests whose success would change what later cells see get objects made for that cell alone
(``fresh``): cancelling or assigning a job, disabling a user, logging out, rotating a refresh
token, signing through a one-time sign-off link. Everything else only adds rows (a request, a
job, a stock movement, a carrier event, a sign-off link), so one world per backend serves the
whole table, and both backends run it (a few seconds each; the largest part is
the password checks of the login cells, whose refresh tokens the refresh cells then use).

``test_every_route_has_a_row`` enumerates the application's real routes — all but the PWA's
static files, the OpenAPI schema and the automatic OPTIONS/HEAD handlers — and fails naming any
route without a row, and any row naming no route. A new endpoint therefore cannot ship without
deciding, here, who may call it.

The two "containing '/app'" rows guard a fixed defect: unanchored public-path patterns once let
such paths skip authentication (a 500 for everyone).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import pytest
from httpx import Response
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.accounts.auth import issue_access_token
from server.accounts.models import AuthSession, User
from server.app import create_app
from server.jobs.models import Job, ServiceRequest
from server.logistics.models import Shipment
from server.reports.form import stored_report_hash
from server.reports.models import SignoffLink, WorkReport
from server.reports.signoff import hash_token
from server.settings import load_settings
from server.syncing.replication import commit
from server.syncing.store import SqlStore
from sync.blobs import put_blob
from tests.images import png
from tests.world import World

Client = AsyncTestClient[Litestar]
Sessions = async_sessionmaker[AsyncSession]

ROLES = ("anonymous", "engineer", "dispatcher", "logistics", "manager", "admin")
USERNAMES: Mapping[str, str | None] = {
    "anonymous": None,
    "engineer": "engineer1",
    "dispatcher": "dispatcher1",
    "logistics": "logistics1",
    "manager": "manager1",
    "admin": "admin",
}
Statuses = tuple[int, int, int, int, int, int]  # in the order of ROLES


BLOB = png()
BLOB_SHA = hashlib.sha256(BLOB).hexdigest()  # stored before the table runs
MISSING_SHA = hashlib.sha256(b"never uploaded").hexdigest()
MISSING_ID = UUID("00000000-0000-4000-8000-000000000000")
OTHER_TRACKING = "SF0000000002"  # the extra shipment to engineer2's van (see _extend_world)
SYNC = {"protocol": 1, "schema": 1}
VIEW_TOKEN = "view-" + "v" * 40  # a sign-off link to the world's report (see _extend_world)
UNKNOWN_TOKEN = "unknown-" + "u" * 40


@dataclass(frozen=True)
class Call:
    """One concrete request: path parameters (formatted into the row's template), query, body."""

    params: Mapping[str, object] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Cell:
    """What a row's ``call`` sees: the world, the role, and the objects made for this cell."""

    world: World
    role: str
    fresh: Mapping[str, Any]

    @property
    def username(self) -> str:
        """The acting user; anonymous cells that need one (logging in) use engineer1."""
        return USERNAMES[self.role] or "engineer1"


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # Litestar's template without parameter types: /jobs/{job_id}
    expect: Statuses
    call: Callable[[Cell], Call] = lambda _c: Call()
    case: str = ""  # which object, when a route has several rows
    fresh: tuple[str, ...] = ()  # objects made per cell: see FRESH_KINDS


FRESH_KINDS = (
    "job",  # a new job assigned to engineer1 (cancel, assign)
    "link",  # the token of a sign-off link to a new report on a new job of engineer1's (sign)
    "user",  # a new active engineer (enable/disable)
    "refresh",  # a refresh token of the cell's user, from a real password login
    "session",  # the cell's Authorization comes from a login session of its own (logout)
)


def _window(days: int) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return {
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=2)).isoformat(),
    }


def _job(key: str) -> Callable[[Cell], Call]:
    return lambda c: Call({"job_id": c.world.jobs[key]})


def _shipment(key: str) -> Callable[[Cell], Call]:
    return lambda c: Call({"shipment_id": c.world.shipments[key]})


def _report(key: str) -> Callable[[Cell], Call]:
    return lambda c: Call({"report_id": c.world.reports[key]}, json={})


def _request_body(c: Cell) -> Call:
    w = c.world
    return Call(
        json={
            "channel": "phone",
            "category": "fault",
            "urgency": "normal",
            "customer_id": str(w.customers[0]),
            "site_id": str(w.sites[0]),
            "asset_id": str(w.assets[0]),
            "problem": f"route table: {c.role}",
        }
    )


def _movement(c: Cell) -> Call:
    w = c.world
    return Call(
        json={
            "part_id": str(w.parts[0]),
            "location_id": str(w.locations["WH-1"]),
            "kind": "receipt",
            "qty_delta": 1,
        }
    )


def _transfer(c: Cell) -> Call:
    w = c.world
    return Call(
        json={
            "part_id": str(w.parts[0]),
            "from_location_id": str(w.locations["WH-1"]),
            "to_location_id": str(w.locations["VAN-1"]),
            "qty": 1,
        }
    )


# fmt: off
# Statuses in the order of ROLES:
#   anonymous, engineer (engineer1), dispatcher, logistics, manager, admin
TABLE: tuple[Row, ...] = (
    # --- health ---------------------------------------------------------------------------------
    Row("GET", "/health", (200, 200, 200, 200, 200, 200)),
    Row("GET", "/ready", (200, 200, 200, 200, 200, 200)),
    # --- accounts -------------------------------------------------------------------------------
    Row("POST", "/auth/login", (200, 200, 200, 200, 200, 200),
        lambda c: Call(json={"username": c.username, "password": World.PASSWORD}),
        case="own username and password (anonymous: engineer1's)"),
    Row("POST", "/auth/refresh", (200, 200, 200, 200, 200, 200),
        lambda c: Call(json={"refresh_token": c.fresh["refresh"]}),
        case="own refresh token", fresh=("refresh",)),
    Row("POST", "/auth/logout", (401, 204, 204, 204, 204, 204), fresh=("session",)),
    Row("GET", "/auth/me", (401, 200, 200, 200, 200, 200)),
    Row("GET", "/users", (401, 403, 200, 403, 200, 200)),
    Row("POST", "/users/{user_id}/active", (401, 403, 403, 403, 403, 200),
        lambda c: Call({"user_id": c.fresh["user"]}, json={"is_active": False}),
        case="disable an engineer", fresh=("user",)),
    Row("POST", "/users/{user_id}/active", (401, 403, 403, 403, 403, 404),
        lambda c: Call({"user_id": MISSING_ID}, json={"is_active": True}),
        case="no such user"),
    # --- jobs: engineer -------------------------------------------------------------------------
    Row("GET", "/me/jobs", (401, 200, 403, 403, 403, 403)),
    Row("GET", "/jobs/{job_id}", (401, 200, 200, 403, 200, 200), _job("e1_a"),
        case="engineer1's job"),
    Row("GET", "/jobs/{job_id}", (401, 200, 200, 403, 200, 200), _job("e1_done"),
        case="engineer1's completed job"),
    Row("GET", "/jobs/{job_id}", (401, 404, 200, 403, 200, 200), _job("e2_a"),
        case="engineer2's job"),
    Row("GET", "/jobs/{job_id}", (401, 404, 200, 403, 200, 200), _job("open"),
        case="unassigned job"),
    Row("GET", "/jobs/{job_id}", (401, 404, 404, 403, 404, 404),
        lambda _c: Call({"job_id": MISSING_ID}), case="no such job"),
    # --- jobs: dispatcher -----------------------------------------------------------------------
    Row("POST", "/requests", (401, 403, 201, 403, 403, 201), _request_body),
    Row("GET", "/requests", (401, 403, 200, 403, 200, 200)),
    Row("GET", "/requests/{request_id}", (401, 403, 200, 403, 200, 200),
        lambda c: Call({"request_id": c.world.requests["e1_a"]})),
    Row("POST", "/jobs", (401, 403, 201, 403, 403, 201),
        lambda c: Call(json={"request_id": str(c.world.requests["open"]),
                             "summary": f"route table: {c.role}"})),
    Row("GET", "/jobs/{job_id}/suggestions", (401, 403, 200, 403, 200, 200), _job("open"),
        case="unassigned job"),
    Row("GET", "/jobs/{job_id}/suggestions", (401, 403, 200, 403, 200, 200), _job("e1_a"),
        case="engineer1's job"),
    Row("POST", "/jobs/{job_id}/assign", (401, 403, 200, 403, 403, 200),
        lambda c: Call({"job_id": c.fresh["job"]},
                       json={"engineer_id": str(c.world.users["engineer2"]), **_window(1)}),
        case="engineer1's job, to engineer2", fresh=("job",)),
    Row("POST", "/jobs/{job_id}/cancel", (401, 403, 200, 403, 403, 200),
        lambda c: Call({"job_id": c.fresh["job"]}, json={"reason": "route table"}),
        case="engineer1's job", fresh=("job",)),
    # --- customers ------------------------------------------------------------------------------
    Row("GET", "/customers", (401, 403, 200, 403, 200, 200),
        lambda _c: Call(query={"q": "Customer"})),
    Row("GET", "/customers/{customer_id}", (401, 403, 200, 403, 200, 200),
        lambda c: Call({"customer_id": c.world.customers[0]})),
    Row("GET", "/assets/by-serial/{serial}", (401, 403, 200, 403, 200, 200),
        lambda _c: Call({"serial": "SN-0000"}), case="a known serial"),
    Row("GET", "/assets/by-serial/{serial}", (401, 403, 404, 403, 404, 404),
        lambda _c: Call({"serial": "apple-1"}), case="unknown serial containing '/app'"),
    # --- inventory ------------------------------------------------------------------------------
    Row("GET", "/parts", (401, 200, 200, 200, 200, 200), lambda _c: Call(query={"q": "P-"})),
    Row("GET", "/parts/{part_id}", (401, 200, 200, 200, 200, 200),
        lambda c: Call({"part_id": c.world.parts[0]})),
    Row("GET", "/parts/{part_id}/availability", (401, 200, 403, 403, 403, 403),
        lambda c: Call({"part_id": c.world.parts[0]})),
    Row("GET", "/me/van", (401, 200, 403, 403, 403, 403)),
    Row("GET", "/stock/levels", (401, 403, 200, 200, 200, 200)),
    Row("GET", "/stock/movements", (401, 403, 200, 200, 200, 200)),
    Row("POST", "/stock/movements", (401, 403, 403, 201, 201, 201), _movement,
        case="a receipt"),
    Row("POST", "/stock/transfers", (401, 403, 403, 201, 201, 201), _transfer,
        case="warehouse to engineer1's van"),
    Row("GET", "/locations", (401, 403, 200, 200, 200, 200)),
    Row("GET", "/stock/ledger-check", (401, 403, 403, 403, 403, 200)),
    # --- logistics ------------------------------------------------------------------------------
    Row("GET", "/shipments", (401, 200, 200, 200, 200, 200),
        case="engineers: only to their van"),
    Row("GET", "/shipments/{shipment_id}", (401, 200, 200, 200, 200, 200), _shipment("sf"),
        case="to engineer1's van"),
    Row("GET", "/shipments/{shipment_id}", (401, 404, 200, 200, 200, 200),
        _shipment("to_van2"), case="to engineer2's van"),
    Row("GET", "/shipments/{shipment_id}", (401, 404, 404, 404, 404, 404),
        lambda _c: Call({"shipment_id": MISSING_ID}), case="no such shipment"),
    Row("GET", "/shipments/by-tracking/{tracking_number}", (401, 200, 200, 200, 200, 200),
        lambda _c: Call({"tracking_number": "SF1234567890"}), case="to engineer1's van"),
    Row("GET", "/shipments/by-tracking/{tracking_number}", (401, 404, 200, 200, 200, 200),
        lambda _c: Call({"tracking_number": OTHER_TRACKING}), case="to engineer2's van"),
    Row("GET", "/shipments/by-tracking/{tracking_number}", (401, 404, 404, 404, 404, 404),
        lambda _c: Call({"tracking_number": "apple-1"}),
        case="unknown tracking number containing '/app'"),
    Row("POST", "/shipments/{shipment_id}/events", (401, 403, 403, 201, 201, 201),
        lambda c: Call({"shipment_id": c.world.shipments["sf"]}, json={"status": "in_transit"}),
        case="in transit to engineer1's van"),
    # --- sync -----------------------------------------------------------------------------------
    Row("POST", "/sync/pull", (401, 200, 403, 403, 403, 403),
        lambda _c: Call(json={**SYNC, "cursor": None, "device_id": str(uuid4())}),
        case="initial sync, new device"),
    Row("POST", "/sync/push", (401, 200, 403, 403, 403, 403),
        lambda _c: Call(json={**SYNC, "device_id": str(uuid4()), "ops": []}),
        case="empty batch, new device"),
    Row("PUT", "/sync/blobs/{sha256}", (401, 204, 403, 403, 403, 403),
        lambda _c: Call({"sha256": BLOB_SHA}, content=BLOB, content_type="image/png")),
    Row("POST", "/sync/blobs/missing", (401, 200, 403, 403, 403, 403),
        lambda _c: Call(json={"hashes": [BLOB_SHA, MISSING_SHA]})),
    Row("GET", "/sync/blobs/{sha256}", (401, 404, 200, 403, 200, 200),
        lambda _c: Call({"sha256": BLOB_SHA}),
        case="stored file, not a signature on engineer1's jobs"),
    Row("GET", "/sync/blobs/{sha256}", (401, 404, 404, 403, 404, 404),
        lambda _c: Call({"sha256": MISSING_SHA}), case="no such file"),
    Row("GET", "/sync/rejections", (401, 403, 200, 403, 200, 200)),
    # --- reports: customer sign-off links (the link's token is the customer's only credential) --
    Row("POST", "/reports/{report_id}/signoff-links", (401, 201, 201, 403, 403, 201),
        _report("e1_done"), case="report on engineer1's job"),
    Row("POST", "/reports/{report_id}/signoff-links", (401, 404, 201, 403, 403, 201),
        _report("e2_a"), case="report on engineer2's job"),
    Row("POST", "/reports/{report_id}/signoff-links", (401, 404, 404, 403, 403, 404),
        lambda _c: Call({"report_id": MISSING_ID}, json={}), case="no such report"),
    Row("POST", "/signoff/view", (200, 200, 200, 200, 200, 200),
        lambda _c: Call(json={"token": VIEW_TOKEN}), case="a valid link"),
    Row("POST", "/signoff/view", (404, 404, 404, 404, 404, 404),
        lambda _c: Call(json={"token": UNKNOWN_TOKEN}), case="unknown token"),
    Row("POST", "/signoff/sign", (201, 201, 201, 201, 201, 201),
        lambda c: Call(json={"token": c.fresh["link"], "signer_name": "Customer",
                             "signature_png": base64.b64encode(BLOB).decode(),
                             "attitude": 5, "efficiency": 5, "quality": 5}),
        case="a valid link, used once", fresh=("link",)),
)
# fmt: on


# --- making the cells' objects --------------------------------------------------------------


async def _fresh_job(sessions: Sessions, world: World) -> UUID:
    """A new job (and its request) assigned to engineer1 tomorrow, at customer 0's site."""
    now = datetime.now(UTC).replace(microsecond=0)
    tag = uuid4().hex[:10]
    async with sessions() as db:
        request = ServiceRequest(
            number=f"SR-RT-{tag}",
            channel="phone",
            category="fault",
            urgency="normal",
            customer_id=world.customers[0],
            site_id=world.sites[0],
            asset_id=world.assets[0],
            problem="route table",
            received_at=now,
            response_due=now + timedelta(hours=8),
            resolution_due=now + timedelta(hours=40),
        )
        db.add(request)
        await db.flush()
        start = now + timedelta(days=1)
        job = Job(
            number=f"J-RT-{tag}",
            request_id=request.id,
            engineer_id=world.users["engineer1"],
            customer_id=world.customers[0],
            site_id=world.sites[0],
            asset_id=world.assets[0],
            status="assigned",
            summary="route table",
            required_skill="hvac",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            created_at=now,
            updated_at=now,
        )
        db.add(job)
        await db.flush()
        job_id = job.id
        await commit(db)
    return job_id


async def _add_report(sessions: Sessions, world: World, job_id: UUID, author: str) -> UUID:
    """Version 1 of a new work report on ``job_id``; returns its report id."""
    now = datetime.now(UTC).replace(microsecond=0)
    report_id = uuid4()
    report = WorkReport(
        id=report_id,
        report_id=report_id,
        job_id=job_id,
        version=1,
        author_id=world.users[author],
        diagnosis="route table",
        root_cause_category="wear",
        root_cause="worn",
        prevention="",
        actions="replaced",
        labour_minutes=30,
        parts=[],
        submitted_at=now,
        received_at=now,
    )
    report.content_sha256 = stored_report_hash(report)
    async with sessions() as db:
        db.add(report)
        await commit(db)
    return report_id


async def _add_link(
    sessions: Sessions, world: World, report_id: UUID, token: str | None = None
) -> str:
    """A sign-off link to (version 1 of) ``report_id``, issued by dispatcher1; its token."""
    token = token or secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with sessions() as db:
        db.add(
            SignoffLink(
                token_hash=hash_token(token),
                report_id=report_id,
                created_by=world.users["dispatcher1"],
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        await commit(db)
    return token


async def _fresh_user(sessions: Sessions) -> UUID:
    """A new active engineer who never logs in (the password hash matches no password)."""
    async with sessions() as db:
        user = User(
            username=f"rt-{uuid4().hex[:12]}",
            display_name="Route Table",
            role="engineer",
            password_hash="!",
            skills=[],
            created_at=datetime.now(UTC),
        )
        db.add(user)
        await db.flush()
        user_id = user.id
        await commit(db)
    return user_id


async def _fresh_headers(app: Litestar, sessions: Sessions, user_id: UUID) -> dict[str, str]:
    """Authorization from a login session of its own (as the ``login`` fixture signs it)."""
    async with sessions() as db:
        session = AuthSession(user_id=user_id, created_at=datetime.now(UTC))
        db.add(session)
        await db.commit()
    token = issue_access_token(app.state.jwt_auth, app.state.settings, user_id, session.id)
    return {"Authorization": f"Bearer {token}"}


async def _refresh_token(client: Client, username: str) -> str:
    r = await client.post("/auth/login", json={"username": username, "password": World.PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["refresh_token"])


async def _extend_world(sessions: Sessions, world: World) -> None:
    """Objects the table needs beyond the world: a shipment to engineer2's van, a stored file,
    a report on engineer2's job, a sign-off link to engineer1's report."""
    async with sessions() as db:
        shipment = Shipment(
            carrier="SF",
            tracking_number=OTHER_TRACKING,
            status="in_transit",
            from_location_id=world.locations["WH-2"],
            to_location_id=world.locations["VAN-2"],
            created_at=world.now - timedelta(hours=5),
            eta=world.now + timedelta(days=1),
        )
        db.add(shipment)
        await db.flush()
        world.shipments["to_van2"] = shipment.id
        await commit(db)
    # Through a store of the test's own sessions: the app's engine belongs to the client's loop.
    await put_blob(SqlStore(sessions), BLOB_SHA, "image/png", BLOB)
    world.reports["e2_a"] = await _add_report(sessions, world, world.jobs["e2_a"], "engineer2")
    await _add_link(sessions, world, world.reports["e1_done"], VIEW_TOKEN)


# --- running cells ---------------------------------------------------------------------------


@dataclass
class Runner:
    client: Client
    app: Litestar
    sessions: Sessions
    world: World
    login: Any
    # Refresh tokens from the table's own successful logins, unused so far: each is used once.
    # Reusing them spares a password check (argon2, ~0.15 s) per refresh cell.
    unused_refresh: dict[str, list[str]] = field(default_factory=dict)

    async def refresh_token(self, username: str) -> str:
        spare = self.unused_refresh.get(username)
        return spare.pop() if spare else await _refresh_token(self.client, username)

    async def cell(self, row: Row, role: str) -> Response:
        username = USERNAMES[role]
        fresh: dict[str, Any] = {}
        for kind in row.fresh:
            assert kind in FRESH_KINDS, kind
            if kind == "job":
                fresh[kind] = await _fresh_job(self.sessions, self.world)
            elif kind == "link":
                job_id = await _fresh_job(self.sessions, self.world)
                report_id = await _add_report(self.sessions, self.world, job_id, "engineer1")
                fresh[kind] = await _add_link(self.sessions, self.world, report_id)
            elif kind == "user":
                fresh[kind] = await _fresh_user(self.sessions)
            elif kind == "refresh":
                fresh[kind] = await self.refresh_token(username or "engineer1")
        if username is None:
            headers: dict[str, str] = {}
        elif "session" in row.fresh:
            user_id = self.world.users[username]
            headers = await _fresh_headers(self.app, self.sessions, user_id)
        else:
            headers = dict(await self.login(username))
        call = row.call(Cell(self.world, role, fresh))
        path = row.path.format(**{k: quote(str(v), safe="") for k, v in call.params.items()})
        if call.content_type:
            headers["Content-Type"] = call.content_type
        r = await self.client.request(
            row.method,
            path,
            params=dict(call.query),
            headers=headers,
            json=call.json,
            content=call.content,
        )
        if row.path == "/auth/login" and r.status_code == 200:
            user = str(call.json["username"])
            self.unused_refresh.setdefault(user, []).append(r.json()["refresh_token"])
        return r

    async def wrong_cells(self, rows: tuple[Row, ...]) -> list[str]:
        """Every (row, role) whose status differs from the table, described for a reader."""
        wrong = []
        for row in rows:
            for role, expected in zip(ROLES, row.expect, strict=True):
                r = await self.cell(row, role)
                if r.status_code != expected:
                    case = f" [{row.case}]" if row.case else ""
                    wrong.append(
                        f"{row.method} {row.path}{case} as {role}: expected {expected}, "
                        f"got {r.status_code} {r.text[:160]}"
                    )
        return wrong


@pytest.fixture
async def runner(
    client: Client, app: Litestar, sessions: Sessions, world: World, login: Any
) -> Runner:
    await _extend_world(sessions, world)
    return Runner(client, app, sessions, world, login)


async def test_every_route_by_every_role(runner: Runner) -> None:
    """One test walks the table so the world is built once per backend."""
    wrong = await runner.wrong_cells(TABLE)
    assert not wrong, "statuses differ from the route table:\n" + "\n".join(wrong)


# --- coverage: every route has a row, every row a route -------------------------------------

_TYPED_PARAM = re.compile(r"\{(\w+):[^}]*\}")
_IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


def normalise(path: str) -> str:
    """``/jobs/{job_id:uuid}`` -> ``/jobs/{job_id}``: the table's spelling of a route."""
    return _TYPED_PARAM.sub(r"{\1}", path)


def _framework_route(path: str, handler: Any) -> bool:
    """The PWA's static files and the OpenAPI schema: served by Litestar, not by our areas."""
    fn = getattr(handler, "fn", None)
    module = getattr(fn, "__module__", "") or ""
    if module.startswith("litestar.static_files"):
        return True
    return path == "/schema" or path.startswith("/schema/")


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, normalised path) the application answers, framework routes aside."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            # A websocket or mounted ASGI app needs a row too (method: its route type).
            found.add((type(route).__name__, normalise(route.path)))
            continue
        for method, (handler, _kwargs) in route.route_handler_map.items():
            if method in _IGNORED_METHODS or _framework_route(route.path, handler):
                continue
            found.add((method, normalise(route.path)))
    return found


def test_every_route_has_a_row(tmp_path: Path) -> None:
    settings = load_settings(
        environ={},
        database_url=f"sqlite+aiosqlite:///{tmp_path}/routes.db",
        secret_key="test-secret-key-0123456789abcdef",
        data_dir=str(tmp_path),
    )
    routes = app_routes(create_app(settings))
    rows = {(row.method, row.path) for row in TABLE}
    missing = sorted(routes - rows)
    unknown = sorted(rows - routes)
    assert not missing, "routes without a row in TABLE: " + ", ".join(
        f"{m} {p}" for m, p in missing
    )
    assert not unknown, "rows in TABLE naming no route: " + ", ".join(
        f"{m} {p}" for m, p in unknown
    )


def test_table_is_well_formed() -> None:
    """Rows are unique per (method, path, case); several rows of a route say which case each is."""
    keys = [(row.method, row.path, row.case) for row in TABLE]
    assert len(keys) == len(set(keys)), "duplicate rows"
    for row in TABLE:
        assert set(row.fresh) <= set(FRESH_KINDS), row
        assert all(s in (200, 201, 204, 401, 403, 404) for s in row.expect), row
        assert re.fullmatch(r"(/[\w.-]*(\{\w+\})?[\w.-]*)+", row.path), row.path
    per_route: dict[tuple[str, str], int] = {}
    for row in TABLE:
        per_route[(row.method, row.path)] = per_route.get((row.method, row.path), 0) + 1
    for row in TABLE:
        if per_route[(row.method, row.path)] > 1:
            assert row.case, f"{row.method} {row.path}: several rows, one without a case"
