"""The migrations create exactly the schema the models describe, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from advanced_alchemy.alembic.commands import AlembicCommands
from sqlalchemy import text

from server.database import alchemy_config, create_engine, metadata
from server.settings import load_settings
from tests.conftest import require_pg


def _reset(url: str) -> None:
    """Empty the private PostgreSQL database so the first migration starts from nothing."""
    settings = load_settings(environ={}, database_url=url, secret_key="k")

    async def run() -> None:
        engine = create_engine(settings, pool=False)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        await engine.dispose()

    asyncio.run(run())


def test_upgrade_from_empty_matches_models(backend: str, tmp_path: Path) -> None:
    if backend == "postgres":
        url = require_pg()
        _reset(url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/migrated.db"
    settings = load_settings(environ={}, database_url=url, secret_key="k")
    commands = AlembicCommands(
        sqlalchemy_config=alchemy_config(settings, create_engine(settings, pool=False))
    )
    commands.upgrade("head")
    # Raises when the models and the migrated schema differ (a model changed without a migration).
    commands.check()

    async def tables() -> set[str]:
        engine = create_engine(settings, pool=False)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
        await engine.dispose()
        return names

    assert set(metadata.tables) <= asyncio.run(tables())


@pytest.mark.parametrize("target", ["base"])
def test_downgrade_to_base_on_sqlite(tmp_path: Path, target: str) -> None:
    settings = load_settings(
        environ={}, database_url=f"sqlite+aiosqlite:///{tmp_path}/d.db", secret_key="k"
    )
    commands = AlembicCommands(
        sqlalchemy_config=alchemy_config(settings, create_engine(settings, pool=False))
    )
    commands.upgrade("head")
    commands.downgrade(target)
