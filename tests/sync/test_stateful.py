"""Random interleavings of device work, faults, restarts, dispatcher edits and compaction.

At quiescence (everyone pushed and pulled, no faults) the properties of DESIGN.md §5 must hold:
every queued operation has exactly one result and was applied at most once; every replica equals
the server's view of its scope (so deletes never resurrect); stock equals the sum of movements.
The default run is small; ``-m slow`` runs the large profile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from sync import toyhandler
from sync.client import DeviceClient
from sync.errors import Unavailable
from sync.localserver import LocalServer
from sync.localstore import MemoryLocalStore
from sync.operations import JobNote, JobStatus, JobTarget, PartConsume
from tests.sync.devices import Clock, Network, new_client

T = TypeVar("T")
USERS = ("alice", "bob")
JOBS = ("j1", "j2", "j3", "j4")
users = st.sampled_from(USERS)
jobs = st.sampled_from(JOBS)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = Clock()
        self.server = LocalServer(key=b"s" * 32, clock=self.clock)
        self.locals = {u: MemoryLocalStore() for u in USERS}
        self.networks = {u: Network(self.server) for u in USERS}
        self.clients: dict[str, DeviceClient] = {}
        self.queued: dict[str, set[str]] = {u: set() for u in USERS}
        self.run(self._seed())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    async def _seed(self) -> None:
        async with self.server.store.transaction() as tx:
            for i, job in enumerate(JOBS):
                await toyhandler.create_job(tx, job, USERS[i % 2])
            for user in USERS:
                await toyhandler.add_location(tx, f"van-{user}", user)
                await toyhandler.receive_stock(tx, f"van-{user}", "P-1", 3, [user])
        for user in USERS:
            await self._open(user)

    async def _open(self, user: str) -> None:
        self.clients[user] = await new_client(
            self.server, user, network=self.networks[user], local=self.locals[user]
        )

    # -- device work -------------------------------------------------------------------------
    @rule(user=users, job=jobs, to=st.sampled_from(JobTarget.__args__))  # type: ignore[attr-defined]
    def move_job(self, user: str, job: str, to: str) -> None:
        client = self.clients[user]
        base = (client.doc(f"job:{job}") or {"status": "assigned"})["status"]
        op = self.run(client.queue(JobStatus, job_id=job, to=to, base_status=base))
        self.queued[user].add(str(op.id))

    @rule(user=users, job=jobs, text=st.text(max_size=5))
    def write_note(self, user: str, job: str, text: str) -> None:
        client = self.clients[user]
        version = (client.doc(f"job:{job}") or {"version": 0})["version"]
        op = self.run(client.queue(JobNote, job_id=job, text=text, base_version=version))
        self.queued[user].add(str(op.id))

    @rule(user=users, qty=st.integers(1, 2))
    def consume(self, user: str, qty: int) -> None:
        op = self.run(
            self.clients[user].queue(PartConsume, part_id="P-1", location_id=f"van-{user}", qty=qty)
        )
        self.queued[user].add(str(op.id))

    @rule(user=users, lose=st.integers(0, 2), fail=st.booleans(), offline=st.booleans())
    def sync(self, user: str, lose: int, fail: bool, offline: bool) -> None:
        network = self.networks[user]
        network.lose, network.fail, network.offline = lose, [503] if fail else [], offline
        try:
            self.run(self.clients[user].sync())
        except Unavailable:
            assert offline
        finally:
            network.lose, network.fail, network.offline = 0, [], False

    @rule(user=users)
    def restart(self, user: str) -> None:
        self.run(self._open(user))

    # -- the office and the housekeeping -----------------------------------------------------------
    @rule(job=jobs, user=users)
    def reassign(self, job: str, user: str) -> None:
        self.run(self._update(job, engineer=user))

    @rule(job=jobs, status=st.sampled_from(["assigned", "escalated", "cancelled"]))
    def dispatcher_sets_status(self, job: str, status: str) -> None:
        self.run(self._update(job, status=status))

    async def _update(self, job: str, **changes: str) -> None:
        async with self.server.store.transaction() as tx:
            await toyhandler.update_job(tx, job, **changes)

    @rule()
    def compact(self) -> None:
        self.clock.advance(days=31)

        async def purge() -> None:
            async with self.server.store.transaction() as tx:
                await tx.purge_removes(self.clock() - timedelta(days=30))

        self.run(purge())

    # -- properties --------------------------------------------------------------------------------
    @invariant()
    def no_operation_is_ever_lost(self) -> None:
        for user, client in self.clients.items():
            known = {str(op.id) for op in client.outbox} | set(client.results)
            assert self.queued[user] <= known

    def teardown(self) -> None:
        try:
            self.run(self._quiesce_and_check())
        finally:
            self.loop.close()

    async def _quiesce_and_check(self) -> None:
        for _ in range(2):  # the second round brings each device the other's changes
            for client in self.clients.values():
                await client.sync()
        for user, client in self.clients.items():
            assert client.outbox == ()
            assert self.queued[user] <= set(client.results)
            assert dict(client.replica) == await self.server.scope(user)
        async with self.server.store.transaction(write=False) as tx:
            movements = dict(tx.rows("movements"))
            for user, client in self.clients.items():
                location = f"van-{user}"
                ledger = sum(d for loc, _, d, _ in movements.values() if loc == location)
                assert toyhandler.stock_level(tx, location, "P-1") == ledger
                for op_id in self.queued[user]:
                    result = client.results[op_id]
                    if result.result is not None and "level" in result.result:
                        assert (op_id in movements) == (result.status == "applied")


TestSyncMachine = SyncMachine.TestCase
TestSyncMachine.settings = settings(max_examples=15, stateful_step_count=15, deadline=None)


@pytest.mark.slow
def test_sync_machine_large_profile() -> None:
    run_state_machine_as_test(
        SyncMachine, settings=settings(max_examples=400, stateful_step_count=50, deadline=None)
    )
