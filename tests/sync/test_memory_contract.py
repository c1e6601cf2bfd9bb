"""MemoryStore against the Store contract, plus what only MemoryStore promises."""

from __future__ import annotations

import pytest

from sync.memory import MemoryStore
from tests.sync.contract import *  # noqa: F403
from tests.sync.contract import put

ALICE = "alice"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


async def test_read_only_transaction_refuses_writes(store: MemoryStore) -> None:
    async with store.transaction(write=False) as tx:
        with pytest.raises(RuntimeError, match="read-only"):
            await tx.write_change(ALICE, "job:a", "put", put("a"))


async def test_a_closed_transaction_cannot_be_used(store: MemoryStore) -> None:
    async with store.transaction() as tx:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        await tx.head(ALICE)


async def test_business_tables_roll_back_with_savepoints(store: MemoryStore) -> None:
    async with store.transaction() as tx:
        tx.set_row("jobs", "j1", {"status": "assigned"})
        with pytest.raises(ValueError):
            async with tx.savepoint():
                tx.set_row("jobs", "j1", {"status": "on_site"})
                tx.set_row("jobs", "j2", {"status": "assigned"})
                raise ValueError
        assert tx.row("jobs", "j1") == {"status": "assigned"}
        assert tx.rows("jobs") == [("j1", {"status": "assigned"})]
