"""The Store contract: every Store implementation must pass these tests unchanged.

Use it from an implementation's test module::

    from tests.sync.contract import *  # noqa: F403

    @pytest.fixture
    async def store() -> ...:  # a fresh, empty store per test
        ...

    @pytest.fixture  # optional: when devices and logs must belong to existing users
    async def users() -> tuple[str, str]:
        ...  # two distinct user ids the store accepts

The tests only use the ``sync.store`` protocol, so they say what the engine relies on — and
nothing about how a store achieves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sync.changes import encode_put, encode_remove
from sync.store import START, Blob, OpRecord, Store

NOW = datetime(2025, 11, 23, 9, 0, tzinfo=UTC)
BEYOND = (2**62, 0)


@pytest.fixture
def users() -> tuple[str, str]:
    """Two user ids; stores that check users exist override this fixture."""
    return str(uuid.UUID(int=0xA11CE)), str(uuid.UUID(int=0xB0B))


@pytest.fixture
def alice(users: tuple[str, str]) -> str:
    return users[0]


@pytest.fixture
def bob(users: tuple[str, str]) -> str:
    return users[1]


def put(id: str, v: int = 1, **doc: Any) -> bytes:
    return encode_put("job", id, v, {"title": id, **doc})


def remove(id: str) -> bytes:
    return encode_remove("job", id)


def record(device_id: uuid.UUID, seq: int) -> OpRecord:
    return OpRecord(device_id, seq, uuid.uuid4(), f"{seq:064x}", b'{"seq":%d}' % seq, NOW)


_COMMITTED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def committed(store: Store[Any], user: str, position: Any) -> Any:
    """Note a position this test has committed for ``user``; ``read_all`` waits for it."""
    seen = _COMMITTED.setdefault(store, {})
    seen[user] = max(seen.get(user, START), position)
    return position


async def settle(store: Store[Any], user: str) -> None:
    """Wait until every change this test committed for ``user`` is readable.

    On PostgreSQL a committed row is read only once every older transaction in the cluster has
    ended — another process's transaction can delay it for a moment. Readers may lag; they must
    never skip. The tests assert the latter and tolerate the former.
    """
    target = _COMMITTED.get(store, {}).get(user, START)
    for _ in range(500):
        async with store.transaction(write=False) as tx:
            if max(await tx.head(user), await tx.horizon(user)) >= target:
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"changes committed up to {target} did not become readable in 5 s")


async def read_now(store: Store[Any], user: str, after: Any = START) -> list[tuple[Any, bytes]]:
    async with store.transaction(write=False) as tx:
        rows: list[tuple[Any, bytes]] = await tx.read_changes(user, after, after, 10_000)
    return rows


async def read_all(store: Store[Any], user: str, after: Any = START) -> list[tuple[Any, bytes]]:
    """Everything committed after ``after``, once this test's commits are readable."""
    await settle(store, user)
    return await read_now(store, user, after)


async def write(store: Store[Any], user: str, key: str, change: bytes) -> Any:
    async with store.transaction() as tx:
        op = "remove" if b'"op":"remove"' in change else "put"
        position = await tx.write_change(user, key, op, change)
    return committed(store, user, position)


# -- transactions ------------------------------------------------------------------------------
async def test_commit_makes_writes_visible(store: Store[Any], alice: str) -> None:
    await write(store, alice, "job:a", put("a"))
    assert [c for _, c in await read_all(store, alice)] == [put("a")]


async def test_exception_rolls_back_the_whole_transaction(store: Store[Any], alice: str) -> None:
    device = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.claim_device(device, alice)
            await tx.save_ops(device, [record(device, 1)], 1)
            await tx.write_change(alice, "job:a", "put", put("a"))
            await tx.put_blob(Blob("0" * 64, "image/png", b"x"))
            raise RuntimeError("boom")
    async with store.transaction(write=False) as tx:
        assert await tx.device(device) is None
        assert await tx.op_records(device, 1, 1) == []
        assert await tx.read_changes(alice, START, START, 10) == []
        assert await tx.missing_blobs(["0" * 64]) == ["0" * 64]


async def test_savepoint_rolls_back_only_its_own_writes(store: Store[Any], alice: str) -> None:
    async with store.transaction() as tx:
        await tx.write_change(alice, "job:a", "put", put("a"))
        with pytest.raises(KeyError):
            async with tx.savepoint():
                await tx.write_change(alice, "job:b", "put", put("b"))
                await tx.write_change(alice, "job:a", "put", put("a", 2))
                raise KeyError("rejected")
        p = await tx.write_change(alice, "job:c", "put", put("c"))
    committed(store, alice, p)
    assert [c for _, c in await read_all(store, alice)] == [put("a"), put("c")]


async def test_nested_savepoints(store: Store[Any], alice: str) -> None:
    async with store.transaction() as tx, tx.savepoint():
        await tx.write_change(alice, "job:a", "put", put("a"))
        with pytest.raises(ValueError):
            async with tx.savepoint():
                await tx.write_change(alice, "job:b", "put", put("b"))
                raise ValueError
        async with tx.savepoint():
            p = await tx.write_change(alice, "job:c", "put", put("c"))
    committed(store, alice, p)
    assert [c for _, c in await read_all(store, alice)] == [put("a"), put("c")]


async def test_read_transaction_reads(store: Store[Any], alice: str) -> None:
    await write(store, alice, "job:a", put("a"))
    await settle(store, alice)
    async with store.transaction(write=False) as tx:
        assert await tx.head(alice) > START
        assert await tx.horizon(alice) == START
        assert await tx.holders("job:a") == [alice]
        assert await tx.get_blob("0" * 64) is None


# -- devices and op records --------------------------------------------------------------------
async def test_claim_device_binds_the_first_user(store: Store[Any], alice: str, bob: str) -> None:
    device = uuid.uuid4()
    async with store.transaction() as tx:
        first = await tx.claim_device(device, alice)
    async with store.transaction() as tx:
        again = await tx.claim_device(device, bob)
    assert (first.user_id, first.last_seq) == (alice, 0)
    assert (again.user_id, again.last_seq) == (alice, 0)
    async with store.transaction(write=False) as tx:
        seen = await tx.device(device)
        assert await tx.device(uuid.uuid4()) is None
    assert seen is not None and seen.user_id == alice


async def test_op_records_round_trip_and_range(store: Store[Any], alice: str) -> None:
    device, other = uuid.uuid4(), uuid.uuid4()
    records = [record(device, s) for s in (1, 2, 3, 4)]
    async with store.transaction() as tx:
        await tx.claim_device(device, alice)
        await tx.claim_device(other, alice)
        await tx.save_ops(device, records[:2], 2)
    async with store.transaction() as tx:
        await tx.save_ops(device, records[2:], 4)
        await tx.save_ops(other, [record(other, 1)], 1)
    async with store.transaction() as tx:
        assert await tx.op_records(device, 2, 3) == records[1:3]
        assert await tx.op_records(device, 1, 10) == records
        assert await tx.op_records(device, 5, 9) == []
        state = await tx.claim_device(device, alice)
    assert state.last_seq == 4
    stored = records[0]
    assert isinstance(stored.result, bytes) and stored.received_at == NOW


async def test_save_ops_without_records_sets_last_seq(store: Store[Any], alice: str) -> None:
    device = uuid.uuid4()
    async with store.transaction() as tx:
        await tx.claim_device(device, alice)
        await tx.save_ops(device, [], 7)
    async with store.transaction() as tx:
        assert (await tx.claim_device(device, alice)).last_seq == 7


async def test_claim_device_serialises_concurrent_transactions(
    store: Store[Any], alice: str
) -> None:
    """Two pushes of one device must not both see last_seq 0 (the lost-update race)."""
    device = uuid.uuid4()

    async def bump() -> None:
        async with store.transaction() as tx:
            state = await tx.claim_device(device, alice)
            await asyncio.sleep(0.01)  # let the other transaction try to interleave
            seq = state.last_seq + 1
            await tx.save_ops(device, [record(device, seq)], seq)

    await asyncio.gather(bump(), bump(), bump())
    async with store.transaction() as tx:
        assert (await tx.claim_device(device, alice)).last_seq == 3
        assert [r.seq for r in await tx.op_records(device, 1, 9)] == [1, 2, 3]


# -- replica logs ------------------------------------------------------------------------------
async def test_write_change_replaces_the_row_at_a_higher_position(
    store: Store[Any], alice: str
) -> None:
    p1 = await write(store, alice, "job:a", put("a"))
    p2 = await write(store, alice, "job:b", put("b"))
    p3 = await write(store, alice, "job:a", put("a", 2))
    assert START < p1 < p2 < p3
    rows = await read_all(store, alice)
    assert rows == [(p2, put("b")), (p3, put("a", 2))]


async def test_positions_grow_within_a_transaction(store: Store[Any], alice: str, bob: str) -> None:
    async with store.transaction() as tx:
        p1 = await tx.write_change(alice, "job:a", "put", put("a"))
        p2 = await tx.write_change(bob, "job:a", "put", put("a"))
        p3 = await tx.write_change(alice, "job:b", "put", put("b"))
    committed(store, alice, p3)
    assert p1 < p2 < p3
    assert [p for p, _ in await read_all(store, alice)] == [p1, p3]


async def test_read_changes_after_and_limit(store: Store[Any], alice: str) -> None:
    positions = [await write(store, alice, f"job:{i}", put(str(i))) for i in range(5)]
    await settle(store, alice)
    async with store.transaction(write=False) as tx:
        page = await tx.read_changes(alice, positions[1], positions[1], 2)
        assert page == [(positions[2], put("2")), (positions[3], put("3"))]
        assert await tx.read_changes(alice, positions[4], positions[4], 10) == []
        assert len(await tx.read_changes(alice, START, START, 3)) == 3


async def test_read_changes_skips_removes_up_to_removes_after(
    store: Store[Any], alice: str
) -> None:
    p_old = await write(store, alice, "job:gone", remove("gone"))
    p_put = await write(store, alice, "job:a", put("a"))
    p_new = await write(store, alice, "job:x", remove("x"))
    await settle(store, alice)
    async with store.transaction(write=False) as tx:
        assert await tx.read_changes(alice, START, START, 10) == [
            (p_old, remove("gone")),
            (p_put, put("a")),
            (p_new, remove("x")),
        ]
        assert await tx.read_changes(alice, START, p_put, 10) == [
            (p_put, put("a")),
            (p_new, remove("x")),
        ]
        assert await tx.read_changes(alice, START, BEYOND, 10) == [(p_put, put("a"))]
        # removes_after below after: after wins
        assert await tx.read_changes(alice, p_put, START, 10) == [(p_new, remove("x"))]


async def test_remove_replaces_put_and_put_replaces_remove(store: Store[Any], alice: str) -> None:
    await write(store, alice, "job:a", put("a"))
    p2 = await write(store, alice, "job:a", remove("a"))
    assert await read_all(store, alice) == [(p2, remove("a"))]
    p3 = await write(store, alice, "job:a", put("a", 3))
    assert await read_all(store, alice) == [(p3, put("a", 3))]


async def test_logs_are_per_user(store: Store[Any], alice: str, bob: str) -> None:
    await write(store, alice, "job:a", put("a"))
    await write(store, bob, "job:b", put("b"))
    assert [c for _, c in await read_all(store, alice)] == [put("a")]
    assert [c for _, c in await read_all(store, bob)] == [put("b")]
    assert await read_all(store, str(uuid.uuid4())) == []


async def test_changes_come_back_byte_for_byte(store: Store[Any], alice: str) -> None:
    change = encode_put("article", "a-1", 7, {"title": "泵密封更换 — é", "n": [1, 2], "x": None})
    await write(store, alice, "article:a-1", change)
    assert [c for _, c in await read_all(store, alice)] == [change]


async def test_head(store: Store[Any], alice: str, bob: str) -> None:
    async with store.transaction(write=False) as tx:
        assert await tx.head(alice) == START
    await write(store, alice, "job:a", put("a"))
    p2 = await write(store, alice, "job:b", remove("b"))
    await write(store, bob, "job:c", put("c"))
    await settle(store, alice)
    async with store.transaction(write=False) as tx:
        assert await tx.head(alice) == p2


async def test_holders_lists_users_holding_a_put(store: Store[Any], alice: str, bob: str) -> None:
    await write(store, alice, "job:a", put("a"))
    await write(store, bob, "job:a", put("a"))
    await write(store, bob, "job:b", put("b"))
    async with store.transaction(write=False) as tx:
        assert sorted(await tx.holders("job:a")) == sorted([alice, bob])
    await write(store, bob, "job:a", remove("a"))
    async with store.transaction(write=False) as tx:
        assert await tx.holders("job:a") == [alice]
        assert await tx.holders("job:zzz") == []


async def test_rolled_back_change_never_appears(store: Store[Any], alice: str) -> None:
    p1 = await write(store, alice, "job:a", put("a"))
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.write_change(alice, "job:b", "put", put("b"))
            raise RuntimeError
    p3 = await write(store, alice, "job:c", put("c"))
    assert await read_all(store, alice) == [(p1, put("a")), (p3, put("c"))]
    assert await read_all(store, alice, p1) == [(p3, put("c"))]


async def test_reader_never_skips_a_change_that_commits_late(store: Store[Any], alice: str) -> None:
    """Commit inversion: A writes first but commits after B. A reader that saw B must still
    see A later — a plain sequence cursor fails this on PostgreSQL."""
    a_written, b_committed = asyncio.Event(), asyncio.Event()

    async def writer_a() -> None:
        async with store.transaction() as tx:
            p = await tx.write_change(alice, "job:a", "put", put("a"))
            a_written.set()
            with contextlib.suppress(TimeoutError):  # a single-writer store blocks B meanwhile
                await asyncio.wait_for(b_committed.wait(), 0.2)
        committed(store, alice, p)

    async def writer_b() -> None:
        await a_written.wait()
        async with store.transaction() as tx:
            p = await tx.write_change(alice, "job:b", "put", put("b"))
        committed(store, alice, p)
        b_committed.set()

    async def reader() -> list[tuple[Any, bytes]]:
        await a_written.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(b_committed.wait(), 0.3)
        return await read_now(store, alice)  # while A may still be open

    _, _, first = await asyncio.gather(writer_a(), writer_b(), reader())
    after = first[-1][0] if first else START
    seen = {c for _, c in first} | {c for _, c in await read_all(store, alice, after)}
    assert seen == {put("a"), put("b")}


async def test_readers_see_every_change_under_concurrent_writers(
    store: Store[Any], alice: str
) -> None:
    done = asyncio.Event()

    async def writer(n: int) -> None:
        for i in range(15):
            async with store.transaction() as tx:
                p = await tx.write_change(alice, f"job:{n}-{i}", "put", put(f"{n}-{i}"))
                await asyncio.sleep(0)
            committed(store, alice, p)

    async def reader() -> set[bytes]:
        seen: set[bytes] = set()
        after = START
        while True:
            finished = done.is_set()
            rows = await (read_all if finished else read_now)(store, alice, after)
            seen |= {c for _, c in rows}
            after = rows[-1][0] if rows else after
            if finished:
                return seen
            await asyncio.sleep(0)

    async def writers() -> None:
        await asyncio.gather(*(writer(n) for n in range(4)))
        done.set()

    _, seen = await asyncio.gather(writers(), reader())
    assert seen == {put(f"{n}-{i}") for n in range(4) for i in range(15)}


# -- compaction --------------------------------------------------------------------------------
async def test_purge_removes_only_old_removes_and_moves_the_horizon(
    store: Store[Any], alice: str, bob: str
) -> None:
    await write(store, alice, "job:a", put("a"))
    p_old = await write(store, alice, "job:old", remove("old"))
    p_bob = await write(store, bob, "job:old", remove("old"))
    await asyncio.sleep(0.05)
    cutoff = datetime.now(UTC)
    await asyncio.sleep(0.05)
    p_new = await write(store, alice, "job:new", remove("new"))
    async with store.transaction() as tx:
        assert await tx.purge_removes(cutoff) == 2
    async with store.transaction(write=False) as tx:
        assert await tx.horizon(alice) == p_old
        assert await tx.horizon(bob) == p_bob
    assert [c for _, c in await read_all(store, alice)] == [put("a"), remove("new")]
    async with store.transaction() as tx:
        assert await tx.purge_removes(cutoff) == 0
        assert await tx.purge_removes(datetime.now(UTC) + timedelta(days=1)) == 1
    async with store.transaction(write=False) as tx:
        assert await tx.horizon(alice) == p_new
    assert [c for _, c in await read_all(store, alice)] == [put("a")]


async def test_horizon_never_moves_back(store: Store[Any], alice: str) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    await write(store, alice, "job:x", remove("x"))
    p2 = await write(store, alice, "job:y", remove("y"))
    async with store.transaction() as tx:
        await tx.purge_removes(later)
    await write(store, alice, "job:a", put("a"))  # puts never move the horizon
    async with store.transaction() as tx:
        assert await tx.purge_removes(later) == 0
        assert await tx.horizon(alice) == p2


async def test_purge_rolls_back(store: Store[Any], alice: str) -> None:
    p = await write(store, alice, "job:x", remove("x"))
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.purge_removes(datetime.now(UTC) + timedelta(days=1))
            raise RuntimeError
    async with store.transaction(write=False) as tx:
        assert await tx.horizon(alice) == START
    assert await read_all(store, alice) == [(p, remove("x"))]


# -- blobs -------------------------------------------------------------------------------------
async def test_blobs_are_stored_once(store: Store[Any]) -> None:
    blob = Blob("a" * 64, "image/png", b"\x89PNG\r\n\x1a\nfake")
    async with store.transaction() as tx:
        assert await tx.put_blob(blob) is True
    async with store.transaction() as tx:
        assert await tx.put_blob(Blob("a" * 64, "image/jpeg", b"other")) is False
    async with store.transaction(write=False) as tx:
        assert await tx.get_blob("a" * 64) == blob
        assert await tx.get_blob("b" * 64) is None


async def test_missing_blobs_keeps_request_order(store: Store[Any]) -> None:
    async with store.transaction() as tx:
        await tx.put_blob(Blob("b" * 64, "image/png", b"b"))
    async with store.transaction(write=False) as tx:
        assert await tx.missing_blobs(["c" * 64, "b" * 64, "a" * 64]) == ["c" * 64, "a" * 64]
        assert await tx.missing_blobs([]) == []


__all__ = ["alice", "bob", "users"] + [name for name in dir() if name.startswith("test_")]
