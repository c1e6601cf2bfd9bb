"""Fixtures of the sync engine tests: a clock and an in-process server with a small world."""

from __future__ import annotations

import pytest

from sync import toyhandler
from sync.localserver import LocalServer
from tests.sync.devices import Clock

KEY = b"cursor-key-for-tests-0123456789abcdef"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def server(clock: Clock) -> LocalServer:
    """Jobs j1, j2 for alice, j3 for bob; alice's van holds 2 x P-1; a depot holds 10 x P-1."""
    server = LocalServer(key=KEY, clock=clock)
    async with server.store.transaction() as tx:
        await toyhandler.create_job(tx, "j1", "alice", title="Pump P-12 leaking")
        await toyhandler.create_job(tx, "j2", "alice", title="Annual service")
        await toyhandler.create_job(tx, "j3", "bob", title="Compressor noise")
        await toyhandler.add_location(tx, "van-alice", "alice")
        await toyhandler.add_location(tx, "depot", None)
        await toyhandler.receive_stock(tx, "van-alice", "P-1", 2, ["alice"])
        await toyhandler.receive_stock(tx, "depot", "P-1", 10)
    return server
