"""Shared fixtures: every data test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``FIELDSYNC_TEST_PG_URL`` (default: the local ``test`` database). When it is
unreachable the PostgreSQL half skips with the reason — except under ``CI=true``, where an
unreachable PostgreSQL fails the run, so CI can never go green without exercising it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.accounts.auth import issue_access_token
from server.accounts.models import AuthSession
from server.app import create_app
from server.database import create_engine, load_models, metadata
from server.settings import Settings, load_settings
from server.syncing.replication import commit
from tests.world import World, build_world

PG_URL = os.environ.get(
    "FIELDSYNC_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"

load_models()


def _admin_dsn() -> str:
    return PG_URL.replace("postgresql+asyncpg://", "postgresql://")


def _create_private_db() -> tuple[str | None, str]:
    """Create a database private to this pytest process; returns (problem, url).

    Several test runs may share one PostgreSQL server (CI, teammates, parallel sessions); a
    private database per process keeps their DROP/TRUNCATE from touching each other's rows.
    """
    import asyncpg

    name = f"fieldsync_test_{os.getpid()}"

    async def create() -> None:
        conn = await asyncpg.connect(_admin_dsn(), timeout=3)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        asyncio.run(create())
    except Exception as exc:  # any failure to connect is a reason to skip
        return f"{type(exc).__name__}: {exc}", ""
    base, _, _ = PG_URL.rpartition("/")
    return None, f"{base}/{name}"


def _drop_private_db(url: str) -> None:
    import asyncpg

    name = url.rpartition("/")[2]

    async def drop() -> None:
        conn = await asyncpg.connect(_admin_dsn(), timeout=3)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


_PG: dict[str, str | None] = {}
_PG_SCHEMA_READY = False


def require_pg() -> str:
    if "url" not in _PG:
        _PG["problem"], _PG["url"] = _create_private_db()
    problem = _PG["problem"]
    if problem is not None:
        message = f"PostgreSQL at {PG_URL} unreachable ({problem})"
        if IN_CI:
            pytest.fail(message + " — CI requires it")
        pytest.skip(message + "; set FIELDSYNC_TEST_PG_URL to run these tests")
    return str(_PG["url"])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _PG.get("url") and _PG.get("problem") is None:
        _drop_private_db(str(_PG["url"]))


async def reset_pg(engine: AsyncEngine) -> None:
    """Create the schema once per session, then empty the tables between tests (cheaper)."""
    global _PG_SCHEMA_READY
    async with engine.begin() as conn:
        if not _PG_SCHEMA_READY:
            await conn.run_sync(metadata.create_all)
            _PG_SCHEMA_READY = True
        else:
            # DELETE beats TRUNCATE on tables this small (no file swaps per table).
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Settings:
    url = require_pg() if backend == "postgres" else f"sqlite+aiosqlite:///{tmp_path}/test.db"
    return load_settings(
        environ={},
        database_url=url,
        secret_key="test-secret-key-0123456789abcdef",
        data_dir=str(tmp_path),
        login_rate_per_minute=1000,
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(settings)
    if settings.is_sqlite:
        async with eng.begin() as conn:
            await conn.run_sync(metadata.create_all)
    else:
        await reset_pg(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    """A small fixed data set (see tests/world.py), committed."""
    async with sessions() as db:
        w = await build_world(db)
        await commit(db)
    return w


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar, world: World) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
def login(app: Litestar, world: World, sessions: async_sessionmaker[AsyncSession]) -> Any:
    """``await login("engineer1")`` -> Authorization headers for that user of the world.

    Opens a real login session and signs a real token exactly as ``/auth/login`` does, minus the
    password check (argon2 costs ~0.2 s a login, on purpose); every request still goes through
    full authentication. ``tests/accounts`` covers the password path itself.
    """
    cache: dict[str, dict[str, str]] = {}

    async def _login(username: str) -> dict[str, str]:
        if username not in cache:
            user_id = world.users[username]
            async with sessions() as db:
                session = AuthSession(user_id=user_id, created_at=datetime.now(UTC))
                db.add(session)
                await db.commit()
            token = issue_access_token(app.state.jwt_auth, app.state.settings, user_id, session.id)
            cache[username] = {"Authorization": f"Bearer {token}"}
        return cache[username]

    return _login


Snapshot = dict[str, list[tuple[str, ...]]]
LOGIN_TABLES = {"auth_sessions", "refresh_tokens"}  # logging in writes these, nothing else does


@pytest.fixture
def snapshot(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], Awaitable[Snapshot]]:
    """Every row of every table but the login ones: proves a refused write changed nothing."""

    async def take() -> Snapshot:
        out: Snapshot = {}
        async with sessions() as db:
            for table in metadata.sorted_tables:
                if table.name in LOGIN_TABLES:
                    continue
                rows = (await db.execute(select(table))).all()
                out[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
        return out

    return take


def field_of(r: Response) -> Any:
    """The field a problem+json validation answer names first."""
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r.json()["errors"][0]["field"]
