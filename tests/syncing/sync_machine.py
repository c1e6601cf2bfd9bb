"""The state machine of ``test_stateful_sync.py``: devices, the office, faults and restarts.

Each example builds its own ``Rig`` (loop, database, data, app, devices). Rules queue work
offline (``sync_work.DeviceWork``), sync through faults, restart devices (sometimes dying
mid-sync) and the server, reassign and cancel jobs, receive stock, purge tombstones, hold a
writer open past a later commit, and run pushes, pulls and office edits all at once. ``Audit``
follows what scopes the test changed and judges every pull page.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import select

from server.inventory import ledger
from server.jobs.models import Job
from server.syncing.replication import commit
from server.syncing.store import SqlStore
from sync.errors import Unavailable
from tests.syncing.sync_audit import (
    ENGINEERS,
    VANS,
    Audit,
    DeviceCrash,
    check_quiescence,
)
from tests.syncing.sync_harness import Dev, Rig
from tests.syncing.sync_work import DeviceWork, devices, jobs

engineers = st.sampled_from(ENGINEERS)
places = st.sampled_from(("WH-1", "WH-2", *VANS.values()))


class SyncSystem(DeviceWork, Rig, RuleBasedStateMachine):
    def __init__(self, pg_url: str | None) -> None:
        super().__init__()
        self.cancels = 0
        self.seen: dict[str, Any] = {}  # op id -> the first answer a device saw
        self.start_rig(pg_url)
        self.run(self._track())

    async def _track(self) -> None:
        async with self.sessions() as db:
            rows = (await db.execute(select(Job))).scalars().all()
        self.holder = {str(j.id): str(j.engineer_id) if j.engineer_id else None for j in rows}
        refs = {str(j.id): (str(j.customer_id), str(j.site_id), str(j.asset_id)) for j in rows}
        self.audit = Audit(self.world, refs)
        for user in ENGINEERS:
            self.audit.ever[user] = {j for j, e in self.holder.items() if e == self.audit.uid(user)}
            self.audit.epoch[user] = 0

    @initialize(warm=st.integers(0, 3))
    def first_sync(self, warm: int) -> None:
        """Mostly (warm > 0) one device per engineer syncs first, so every replica exists and
        changes fan out from the first step; else every replica is built under the rules."""
        for dev in self.devs if warm else ():
            if dev.name in ("d1a", "d2a", "d3"):
                self.run(dev.client.sync())

    # -- network, syncing, restarts ------------------------------------------------------------
    @rule(d=devices, online=st.booleans())
    def set_network(self, d: int, online: bool) -> None:
        self.devs[d].transport.offline = not online

    def _pick(self, d: int, *, online: bool) -> Dev:
        candidates = [dev for dev in self.devs if dev.transport.offline != online]
        return candidates[d % len(candidates)]

    @precondition(lambda self: any(not dev.transport.offline for dev in self.devs))
    @rule(d=devices, lose=st.integers(0, 2), dup=st.integers(0, 2), expire=st.booleans())
    def sync(self, d: int, lose: int, dup: int, expire: bool) -> None:
        """Files, push, pull — with answers lost after processing (the client retries and
        gets replays), requests delivered twice, and maybe an expired token (401, refresh)."""
        dev = self._pick(d, online=True)
        dev.transport.lose, dev.transport.dup = lose, dup
        if expire:
            dev.login.expire()
        try:
            self.run(dev.client.sync())
        finally:
            dev.transport.lose = dev.transport.dup = 0

    @rule()
    def sync_everyone_online(self) -> None:
        """Every device with a network syncs in turn (fan-out between engineers and devices)."""
        for dev in self.devs:
            if not dev.transport.offline:
                self.run(dev.client.sync())

    @precondition(lambda self: any(dev.transport.offline for dev in self.devs))
    @rule(d=devices)
    def sync_while_offline(self, d: int) -> None:
        dev = self._pick(d, online=False)
        before = dev.client.outbox
        with pytest.raises(Unavailable):
            self.run(dev.client.sync(), expected=(Unavailable,))
        assert dev.client.outbox == before

    @rule(d=devices, crash_at=st.none() | st.integers(1, 4))
    def restart_device(self, d: int, crash_at: int | None) -> None:
        """Re-open the app from its saved state — perhaps after it died mid-sync, after the
        server had committed what it could not read."""
        dev = self.devs[d]
        if crash_at is not None and not dev.transport.offline:
            dev.transport.crash_at = crash_at
            try:
                self.run(dev.client.sync(), expected=(DeviceCrash,))
            except DeviceCrash:
                pass
            finally:
                dev.transport.crash_at = None
        self.run(self.open(dev))

    @rule()
    def restart_server(self) -> None:
        self.run(self.restart())

    @rule()
    def compact(self) -> None:
        """Purge every tombstone: devices behind one must reset, pushing their outbox first."""

        async def purge() -> None:
            async with SqlStore(self.sessions).transaction() as tx:
                await tx.purge_removes(datetime.now(UTC) + timedelta(seconds=1))

        self.run(purge())

    # -- the office ----------------------------------------------------------------------------
    def _enters(self, user: str, job_id: str) -> None:
        if self.holder[job_id] != self.audit.uid(user):
            self.audit.ever[user].add(job_id)
            self.audit.epoch[user] += 1

    async def _assign(self, job: str, user: str, *, concurrent: bool = False) -> None:
        job_id = self.jid(job)
        if concurrent:  # a pull beside it may see the job arrive before we hear back
            self._enters(user, job_id)
        start = datetime.now(UTC) + timedelta(hours=2)
        end = start + timedelta(hours=1)
        body = {"engineer_id": self.audit.uid(user)}
        body |= {"scheduled_start": start.isoformat(), "scheduled_end": end.isoformat()}
        r = await self.post("dispatcher1", f"/jobs/{job_id}/assign", body)
        assert r.status_code in (200, 409), r.text  # 409: a closed job or one being worked on
        if r.status_code == 200:
            self._enters(user, job_id)
            self.holder[job_id] = self.audit.uid(user)

    @rule(job=jobs, user=engineers)
    def assign(self, job: str, user: str) -> None:
        self.run(self._assign(job, user))

    @precondition(lambda self: self.cancels < 2)
    @rule(job=jobs)
    def cancel(self, job: str) -> None:
        r = self.run(self.post("dispatcher1", f"/jobs/{self.jid(job)}/cancel", {}))
        assert r.status_code in (200, 409), r.text
        self.cancels += r.status_code == 200

    @rule(place=places, part=st.integers(0, 5), qty=st.integers(1, 5))
    def receive_stock(self, place: str, part: int, qty: int) -> None:
        self.run(self.receive(place, part, qty))

    @rule(d=devices, qty=st.integers(1, 3))
    def slow_writer(self, d: int, qty: int) -> None:
        """A writer slower than a later one: a stock receipt written straight to the database
        holds its transaction open while, on PostgreSQL, a later receipt commits and a device
        pulls; then it replicates and commits. The device's next pull must still bring it
        (replica positions are taken under the replica-log lock, in commit order; PROTOCOL.md
        §11). SQLite has one writer at a time: there it is just a receipt from outside the API."""
        dev, pg = self.devs[d], not self.settings.is_sqlite

        async def write() -> None:
            await self.staff["logistics1"].token()  # logging in writes: do it before
            async with self.sessions() as db:
                where = {
                    "part_id": self.world.parts[1],
                    "location_id": self.world.locations["WH-2"],
                }
                at = datetime.now(UTC)
                await ledger.record_movement(db, kind="receipt", qty_delta=qty, at=at, **where)
                await db.flush()
                if pg:
                    await self.receive("WH-1", 0, 1)
                    if dev.transport.pulled and not dev.transport.offline:
                        await dev.client.pull()
                await commit(db)

        self.run(write())

    @rule(a=devices, b=devices, job=jobs, user=engineers, job2=jobs, user2=engineers, place=places)
    def concurrently(
        self, a: int, b: int, job: str, user: str, job2: str, user2: str, place: str
    ) -> None:
        """A push, a pull, a reassignment or two and a stock receipt, all at once."""
        tasks = [self._assign(job, user, concurrent=True), self.receive(place, 0, 1)]
        if job2 != job:
            tasks.append(self._assign(job2, user2, concurrent=True))
        if not self.devs[a].transport.offline:
            tasks.append(self.devs[a].client.push())
        puller = self.devs[b]
        if b != a and not puller.transport.offline:
            tasks.append(puller.client.pull())

        async def together() -> None:
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    raise outcome

        self.run(together())

    # -- properties ----------------------------------------------------------------------------
    @invariant()
    def nothing_lost_leaked_or_changed(self) -> None:
        """No queued operation ever vanishes; an answer, once seen, never changes; no pull page
        leaked or resurrected anything, no request failed with 5xx (``Audit``)."""
        assert not self.audit.violations, self.audit.violations
        for dev in self.devs:
            results = dev.client.results
            assert set(dev.queued) <= {str(op.id) for op in dev.client.outbox} | set(results)
            for op_id in set(dev.queued) & set(results):
                assert results[op_id] == self.seen.setdefault(op_id, results[op_id]), dev.name

    def teardown(self) -> None:
        try:
            if not self.broken:
                self.run(check_quiescence(self))
        finally:
            self.stop_rig()
