"""A demo data set seeded once per module and backend, and fresh databases to seed again.

Seeding takes seconds, so the read-only checks share one seeded database per backend. On
PostgreSQL it is a database of its own next to the session's private one (``tests/conftest.py``),
so other tests' truncations never touch it; it is dropped afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.database import create_engine, load_models, metadata
from server.demo import seed_demo
from server.settings import Settings, load_settings
from tests.conftest import require_pg

TODAY = date(2026, 11, 23)  # a Monday


@dataclass(frozen=True)
class Seeded:
    url: str
    counts: dict[str, int]


def demo_settings(url: str) -> Settings:
    return load_settings(environ={}, database_url=url)


def make_engine(url: str) -> AsyncEngine:
    load_models()
    return create_engine(demo_settings(url), pool=False)


async def create_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


def _admin(url: str) -> tuple[str, str]:
    base, _, name = url.rpartition("/")
    return base.replace("postgresql+asyncpg://", "postgresql://") + "/postgres", name


async def fresh_database(backend: str, where: Path, suffix: str) -> str:
    """An empty database with the schema: a SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{where}/demo-{suffix}.db"
    else:
        url = f"{require_pg()}_demo_{suffix}"
        await _pg_database(url, create=True)
    await create_schema(url)
    return url


async def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        await _pg_database(url, create=False)


async def _pg_database(url: str, *, create: bool) -> None:
    admin, name = _admin(url)
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _seed(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return await seed_demo(engine, today=TODAY, settings=demo_settings(url))
    finally:
        await engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    backend = str(request.param)
    if backend == "postgres":
        require_pg()  # skips here, with the reason, when PostgreSQL is unreachable
    url = asyncio.run(fresh_database(backend, tmp_path_factory.mktemp("demo"), "seeded"))
    try:
        yield Seeded(url, asyncio.run(_seed(url)))
    finally:
        asyncio.run(drop_database(url))


@pytest.fixture
def demo_backend(seeded: Seeded) -> str:
    return "postgres" if seeded.url.startswith("postgresql") else "sqlite"


@pytest.fixture
async def conn(seeded: Seeded) -> AsyncIterator[AsyncConnection]:
    """A read connection to the seeded database."""
    engine = make_engine(seeded.url)
    async with engine.connect() as connection:
        yield connection
    await engine.dispose()
