"""Commit inversion on PostgreSQL, made deterministic with two explicit transactions.

PROTOCOL.md §2.3 (guarantees 1 and 5) and DESIGN.md §5: a pull cursor must never skip a
committed change, although PostgreSQL transactions commit out of order. The scenario:

1. transaction A writes a change first, so it holds the smaller position, and stays open;
2. transaction B writes after A and commits;
3. a reader pulls (the real ``sync.pull.pull`` engine and its signed cursor);
4. A commits; the reader pulls again from the cursor it was given.

The SQL store's positions are ``(txid, seq)`` and its reads keep to ``txid <
pg_snapshot_xmin(...)``, so at step 3 B is held back behind the still-running A and step 4
delivers both. A naive store that reads ``seq > cursor ORDER BY seq`` hands out B at step 3;
its cursor then lies past A's sequence number and A is never delivered. The same property
check passes for the real store and fails for the naive one, which proves that the xmin bound
— not luck of timing — is what keeps the guarantee.

The interleaving is driven by asyncio events between separate sessions (separate PostgreSQL
connections); nothing waits on a timer to order the steps. The only polling is ``settle``:
on a shared PostgreSQL server another session's old transaction may delay visibility (never
order) for a moment, which the protocol allows and the test must tolerate.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.database import begin_write
from server.jobs.models import Job
from server.syncing.device import HttpTransport, PasswordLogin
from server.syncing.documents import render
from server.syncing.models import ReplicaChange
from server.syncing.replication import TOUCHED, replicate
from server.syncing.store import SqlStore, SqlTx
from sync.changes import PULL_PAGE_DECODER, encode_put
from sync.client import DeviceClient
from sync.localstore import MemoryLocalStore
from sync.pull import pull
from sync.store import START, Position
from sync.transport import Channel, RetryPolicy
from sync.versions import PROTOCOL_MAX, SCHEMA_MAX
from tests.world import World

pytestmark = pytest.mark.postgres

Sessions = async_sessionmaker[AsyncSession]
KEY = b"commit-inversion-cursor-key-0123456789"
SAFETY_NET = 30.0  # seconds: fails a hung scenario instead of blocking the run; never orders steps


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: SQLite has one writer at a time, so its commits cannot invert."""
    return str(request.param)


# -- the strawman: a plain sequence cursor ------------------------------------------------------
class NaiveTx(SqlTx):
    """The SQL store minus the xmin bound: ``seq > cursor ORDER BY seq``. Wrong on PostgreSQL."""

    async def read_changes(
        self, user_id: str, after: Position, removes_after: Position, limit: int
    ) -> list[tuple[Position, bytes]]:
        removes_after = max(after, removes_after)
        rows = await self.db.execute(
            select(ReplicaChange.seq, ReplicaChange.change)
            .where(
                ReplicaChange.user_id == user_id,
                ReplicaChange.seq > after[1],
                or_(ReplicaChange.op == "put", ReplicaChange.seq > removes_after[1]),
            )
            .order_by(ReplicaChange.seq)
            .limit(limit)
        )
        return [((0, r.seq), r.change) for r in rows]

    async def head(self, user_id: str) -> Position:
        seq = await self.db.scalar(
            select(func.max(ReplicaChange.seq)).where(ReplicaChange.user_id == user_id)
        )
        return START if seq is None else (0, int(seq))


class NaiveStore(SqlStore):
    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[SqlTx]:
        if write:
            async with super().transaction() as tx:
                yield NaiveTx(tx.db)
            return
        async with self._sessions() as db:  # the strawman reads through a plain session
            yield NaiveTx(db)


# -- helpers ------------------------------------------------------------------------------------
def put(name: str) -> bytes:
    return encode_put("job", name, 1, {"title": name})


async def settle(sessions: Sessions, user_id: str, target: Position) -> None:
    """Wait until the real store can read everything up to ``target`` (cluster-wide xmin has
    passed it). Visibility may lag behind other sessions' transactions; it never reorders."""
    real = SqlStore(sessions)
    for _ in range(1000):
        async with real.transaction(write=False) as tx:
            if await tx.head(user_id) >= target:
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"position {target} did not become readable within 10 s")


async def _newest(sessions: Sessions, user_id: str) -> Position:
    """The newest committed position of the user's log, read without the xmin bound."""
    async with sessions() as db:
        row = (
            await db.execute(
                select(ReplicaChange.txid, ReplicaChange.seq)
                .where(ReplicaChange.user_id == user_id)
                .order_by(ReplicaChange.txid.desc(), ReplicaChange.seq.desc())
                .limit(1)
            )
        ).first()
    return START if row is None else (row.txid, row.seq)


async def pull_pages(store: SqlStore, user_id: str, cursor: str | None) -> tuple[str, list[str]]:
    """Pull through the real engine until ``has_more`` is false: (new cursor, keys delivered)."""
    keys: list[str] = []
    while True:
        body = msgspec.json.encode(
            {"protocol": PROTOCOL_MAX, "schema": SCHEMA_MAX, "cursor": cursor, "limit": 1000}
        )
        answer = await pull(store, user_id, body, key=KEY, now=datetime.now(UTC))
        page = PULL_PAGE_DECODER.decode(answer)
        keys += [change.key for change in page.changes]
        cursor = page.cursor
        if not page.has_more:
            return cursor, keys


@dataclass
class Outcome:
    a: Position  # A wrote first ...
    b: Position  # ... B second
    first: list[str]  # delivered by the pull between B's commit and A's commit
    later: list[str]  # delivered by the pull after A's commit
    log: set[str]  # every committed put in the log at the end


async def commit_inversion(store: SqlStore, sessions: Sessions, user_id: str) -> Outcome:
    """Run the scenario against ``store`` (the module docstring, steps 1-4)."""
    zero = await _write(store, user_id, "job:0")
    await settle(sessions, user_id, zero)
    cursor, _ = await pull_pages(store, user_id, None)  # a device that has caught up

    a_written, a_may_commit = asyncio.Event(), asyncio.Event()
    positions: dict[str, Position] = {}

    async def transaction_a() -> None:
        async with store.transaction() as tx:
            positions["a"] = await tx.write_change(user_id, "job:a", "put", put("a"))
            a_written.set()
            await a_may_commit.wait()  # stays open, holding the smaller position

    task_a = asyncio.create_task(transaction_a())
    try:
        async with asyncio.timeout(SAFETY_NET):
            await _first_of(a_written.wait(), task_a)
            positions["b"] = await _write(store, user_id, "job:b")  # B: written after A, committed
            cursor, first = await pull_pages(store, user_id, cursor)  # A still open
            a_may_commit.set()
            await task_a  # A commits
            await settle(sessions, user_id, max(positions.values()))
            _, later = await pull_pages(store, user_id, cursor)
    finally:
        a_may_commit.set()
        await asyncio.gather(task_a, return_exceptions=True)
    async with sessions() as db:
        log = set(
            (
                await db.execute(
                    select(ReplicaChange.doc_key).where(
                        ReplicaChange.user_id == user_id, ReplicaChange.op == "put"
                    )
                )
            ).scalars()
        )
    return Outcome(positions["a"], positions["b"], first, later, log)


async def _write(store: SqlStore, user_id: str, key: str) -> Position:
    async with store.transaction() as tx:
        return await tx.write_change(user_id, key, "put", put(key.split(":")[1]))


async def _first_of(event_wait: Awaitable[Any], task: asyncio.Task[Any]) -> None:
    """Wait for the event, but surface a writer that failed before setting it."""
    waiter = asyncio.ensure_future(event_wait)
    done, _ = await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        task.result()  # raises the writer's error
        raise AssertionError("transaction A ended before writing")


def assert_nothing_skipped(outcome: Outcome) -> None:
    """Guarantee 1: what the reader was given, once caught up, is the whole committed log."""
    delivered = set(outcome.first) | set(outcome.later)
    missing = {"job:a", "job:b"} - delivered
    assert not missing, f"committed but never delivered to the reader: {sorted(missing)}"


# -- the proofs ---------------------------------------------------------------------------------
async def test_sql_store_cursor_survives_commit_inversion(sessions: Sessions) -> None:
    outcome = await commit_inversion(SqlStore(sessions), sessions, str(uuid.uuid4()))
    assert outcome.a < outcome.b  # a genuine inversion: the smaller position committed last
    assert outcome.log >= {"job:a", "job:b"}
    assert outcome.first == []  # B is held back while A, older, may still commit
    assert outcome.later == ["job:a", "job:b"]  # ... and then both arrive, in position order
    assert_nothing_skipped(outcome)


async def test_naive_sequence_cursor_skips_the_late_commit(sessions: Sessions) -> None:
    """The same scenario and property against ``seq > cursor``: the property must fail."""
    outcome = await commit_inversion(NaiveStore(sessions), sessions, str(uuid.uuid4()))
    assert outcome.a < outcome.b
    assert outcome.log >= {"job:a", "job:b"}  # A did commit ...
    assert outcome.first == ["job:b"]  # the naive reader took B while A was open
    assert outcome.later == []  # ... and its cursor, past A's seq, never returns A
    with pytest.raises(AssertionError, match="job:a"):
        assert_nothing_skipped(outcome)


# -- end to end: the reference device over HTTP, business writes through replication ------------
async def _edit_note(
    sessions: Sessions,
    job_id: uuid.UUID,
    user_id: str,
    text: str,
    written: asyncio.Event,
    may_commit: asyncio.Event | None = None,
) -> Position:
    """A job's note written with its replica change, in a transaction that can be held open.

    The change goes to the log straight through the store, not through ``replicate``: the
    server's replica maintenance runs one transaction at a time (the replica-log lock, PROTOCOL.md
    §11), so its own positions follow commit order; the xmin bound is what the protocol asks of
    any store whose writers may commit out of order, and this writer is one."""
    async with sessions() as db:
        await begin_write(db)
        job = (await db.execute(select(Job).where(Job.id == job_id).with_for_update())).scalar_one()
        job.note, job.note_version, job.version = text, job.note_version + 1, job.version + 1
        job.updated_at = datetime.now(UTC)
        await db.flush()
        key = f"job:{job_id}"
        touched = db.info.pop(TOUCHED)  # what replicate would re-render; only the job matters
        assert key in touched
        await SqlTx(db).write_changes([(user_id, key, "put", (await render(db, [key]))[key])])
        row = (
            await db.execute(
                select(ReplicaChange.txid, ReplicaChange.seq).where(
                    ReplicaChange.user_id == user_id, ReplicaChange.doc_key == f"job:{job_id}"
                )
            )
        ).one()
        written.set()
        if may_commit is not None:
            await may_commit.wait()
        await db.commit()
    return (row.txid, row.seq)


@pytest.mark.parametrize("kind", ["sql", "naive"])
async def test_device_over_http_sees_the_late_commit_only_with_the_real_cursor(
    kind: str,
    app: Litestar,
    client: AsyncTestClient[Litestar],
    world: World,
    sessions: Sessions,
) -> None:
    if kind == "naive":
        app.state.sync_store = NaiveStore(app.state.sessions, before_commit=replicate)
    engineer = str(world.users["engineer1"])
    job_a, job_b = world.jobs["e1_a"], world.jobs["e1_b"]
    channel = Channel(
        HttpTransport(client),
        PasswordLogin(client, "engineer1", World.PASSWORD),
        RetryPolicy(attempts=2, base_delay=0.0),
    )
    device = await DeviceClient.open(channel, MemoryLocalStore())
    await device.sync()  # builds engineer1's replica log ...
    await settle(sessions, engineer, await _newest(sessions, engineer))
    await device.pull()  # ... and the initial sync holds both jobs
    assert device.doc(f"job:{job_a}") is not None and device.doc(f"job:{job_b}") is not None

    a_written, a_may_commit, b_written = asyncio.Event(), asyncio.Event(), asyncio.Event()
    task_a = asyncio.create_task(
        _edit_note(sessions, job_a, engineer, "note A", a_written, a_may_commit)
    )
    try:
        async with asyncio.timeout(SAFETY_NET):
            await _first_of(a_written.wait(), task_a)
            b = await _edit_note(sessions, job_b, engineer, "note B", b_written)  # commits
            await device.pull()  # between B's commit and A's commit
            seen_b_early = device.doc(f"job:{job_b}")["note"] == "note B"  # type: ignore[index]
            a_may_commit.set()
            a = await task_a
            await settle(sessions, engineer, max(a, b))
            await device.pull()
    finally:
        a_may_commit.set()
        await asyncio.gather(task_a, return_exceptions=True)

    assert a < b  # A holds the smaller position and committed last
    note_a = device.doc(f"job:{job_a}")["note"]  # type: ignore[index]
    note_b = device.doc(f"job:{job_b}")["note"]  # type: ignore[index]
    assert note_b == "note B"
    if kind == "sql":
        assert not seen_b_early  # held back behind the older, still-open A
        assert note_a == "note A"  # nothing skipped
    else:
        assert seen_b_early
        assert note_a != "note A"  # the naive cursor skipped A's committed change for good
