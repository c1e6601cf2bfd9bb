"""The SQL store passes the same contract suite as the memory store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.syncing.store import SqlStore
from tests.sync.contract import *  # noqa: F403
from tests.world import World


@pytest.fixture
def store(sessions: async_sessionmaker[AsyncSession], world: World) -> SqlStore:
    return SqlStore(sessions)


@pytest.fixture
def users(world: World) -> tuple[str, str]:
    """Devices reference real users, so the contract's two users are the world's engineers."""
    return str(world.users["engineer1"]), str(world.users["engineer2"])
