"""The pull engine: paging, cursors, initial sync, removes, resets, limits."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from sync.changes import (
    PULL_PAGE_DECODER,
    PullPage,
    PutChange,
    RemoveChange,
    encode_put,
    encode_remove,
)
from sync.cursor import Cursor, decode_cursor, encode_cursor
from sync.errors import (
    BadCursor,
    BadRequest,
    DeviceMismatch,
    PayloadTooLarge,
    ResetRequired,
    UpgradeRequired,
)
from sync.memory import MemoryStore
from sync.messages import MAX_PAGE
from sync.pull import pull
from tests.sync.devices import T0, Clock

KEY = b"k" * 32
ALICE, BOB = "alice", "bob"


class Log:
    """A MemoryStore with a clock, written to like the server's handlers do."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.store = MemoryStore(self.clock)

    async def put(self, id: str, v: int = 1, user: str = ALICE) -> None:
        async with self.store.transaction() as tx:
            await tx.write_change(user, f"job:{id}", "put", encode_put("job", id, v, {"v": v}))

    async def remove(self, id: str, user: str = ALICE) -> None:
        async with self.store.transaction() as tx:
            await tx.write_change(user, f"job:{id}", "remove", encode_remove("job", id))

    async def purge(self, older_than_days: float = 30) -> int:
        async with self.store.transaction() as tx:
            return await tx.purge_removes(self.clock() - timedelta(days=older_than_days))

    async def pull(
        self, cursor: str | None = None, limit: int = 1000, user: str = ALICE, **kw: Any
    ) -> PullPage:
        data = msgspec.json.encode(
            {"protocol": 1, "schema": 1, "cursor": cursor, "limit": limit} | kw
        )
        return PULL_PAGE_DECODER.decode(
            await pull(self.store, user, data, key=KEY, now=self.clock())
        )

    async def pull_all(self, cursor: str | None = None, limit: int = 2) -> tuple[list[Any], str]:
        changes: list[Any] = []
        while True:
            page = await self.pull(cursor, limit)
            changes += page.changes
            cursor = page.cursor
            if not page.has_more:
                return changes, cursor


@pytest.fixture
def log() -> Log:
    return Log()


def ids(changes: list[Any]) -> list[tuple[str, str]]:
    return [(c.__struct_config__.tag, c.id) for c in changes]


async def test_pages_follow_the_log_and_has_more(log: Log) -> None:
    for i in range(5):
        await log.put(str(i))
    first = await log.pull(limit=2)
    assert ids(first.changes) == [("put", "0"), ("put", "1")] and first.has_more
    second = await log.pull(first.cursor, limit=2)
    assert ids(second.changes) == [("put", "2"), ("put", "3")] and second.has_more
    third = await log.pull(second.cursor, limit=2)
    assert ids(third.changes) == [("put", "4")] and not third.has_more
    empty = await log.pull(third.cursor, limit=2)
    assert empty.changes == [] and not empty.has_more
    await log.put("5")
    assert ids((await log.pull(empty.cursor)).changes) == [("put", "5")]


async def test_exactly_limit_rows_left_means_no_more(log: Log) -> None:
    for i in range(4):
        await log.put(str(i))
    page = await log.pull(limit=4)
    assert len(page.changes) == 4 and not page.has_more


async def test_an_updated_document_arrives_once_with_its_latest_content(log: Log) -> None:
    await log.put("a")
    await log.put("b")
    page = await log.pull()
    await log.put("a", 2)
    await log.put("a", 3)
    changes = (await log.pull(page.cursor)).changes
    assert changes == [PutChange(kind="job", id="a", v=3, body=msgspec.Raw(b'{"v":3}'))]
    assert changes[0].doc == {"v": 3}


async def test_initial_sync_sends_no_tombstones(log: Log) -> None:
    await log.put("a")
    await log.remove("gone")
    await log.put("b")
    changes, _ = await log.pull_all(limit=1)
    assert ids(changes) == [("put", "a"), ("put", "b")]


async def test_removes_after_the_initial_sync_started_are_delivered(log: Log) -> None:
    await log.put("a")
    await log.remove("old")
    await log.put("b")
    await log.put("c")
    first = await log.pull(limit=1)  # delivers a
    await log.remove("a")  # a was delivered, then deleted: the client must hear of it
    await log.remove("c")  # not delivered yet: harmless either way
    changes, _ = await log.pull_all(first.cursor, limit=1)
    assert ids(changes) == [("put", "b"), ("remove", "a"), ("remove", "c")]


async def test_incremental_pull_delivers_removes(log: Log) -> None:
    await log.put("a")
    _, cursor = await log.pull_all()
    await log.remove("a")
    assert (await log.pull(cursor)).changes == [RemoveChange(kind="job", id="a")]


async def test_spliced_page_is_the_stored_bytes(log: Log) -> None:
    await log.put("a")
    await log.remove("x")
    data = msgspec.json.encode({"protocol": 1, "schema": 1, "cursor": None})
    raw = await pull(log.store, ALICE, data, key=KEY, now=T0)
    assert encode_put("job", "a", 1, {"v": 1}) in raw
    decoded = msgspec.json.decode(raw)
    assert set(decoded) == {"cursor", "has_more", "changes"}


async def test_limit_is_capped_and_validated(log: Log) -> None:
    async with log.store.transaction() as tx:
        for i in range(MAX_PAGE + 1):
            await tx.write_change(ALICE, f"job:{i}", "put", encode_put("job", str(i), 1, {}))
    page = await log.pull(limit=MAX_PAGE * 10)
    assert len(page.changes) == MAX_PAGE and page.has_more
    for bad in (0, -1):
        with pytest.raises(BadRequest):
            await log.pull(limit=bad)


@pytest.mark.parametrize(
    "data",
    [b"nope", b'{"protocol":1,"schema":1,"extra":true}', b'{"protocol":1,"schema":1,"limit":"9"}'],
)
async def test_malformed_pull(log: Log, data: bytes) -> None:
    with pytest.raises(BadRequest):
        await pull(log.store, ALICE, data, key=KEY, now=T0)


async def test_versions_are_checked_first(log: Log) -> None:
    with pytest.raises(UpgradeRequired):
        await pull(log.store, ALICE, b'{"protocol":2,"schema":1,"cursor":42}', key=KEY, now=T0)


async def test_pull_body_size_is_bounded(log: Log) -> None:
    with pytest.raises(PayloadTooLarge):
        await pull(log.store, ALICE, b" " * 5000, key=KEY, now=T0)


# -- cursors ---------------------------------------------------------------------------------------
async def test_cursor_is_bound_to_its_user(log: Log) -> None:
    await log.put("a")
    page = await log.pull()
    with pytest.raises(BadCursor):
        await log.pull(page.cursor, user=BOB)


def _flip(cursor: str, at: int) -> str:
    return cursor[:at] + ("B" if cursor[at] != "B" else "C") + cursor[at + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-2],
        lambda c: _flip(c, 0),  # version
        lambda c: _flip(c, 20),  # position
        lambda c: _flip(c, len(c) - 3),  # tag
        lambda c: c + "AAAA",
        lambda c: "%%%",
        lambda c: "短",
        lambda c: "A" * 600,
    ],
)
async def test_garbled_cursors_are_bad(log: Log, mangle: Any) -> None:
    await log.put("a")
    page = await log.pull()
    with pytest.raises(BadCursor) as caught:
        await log.pull(mangle(page.cursor))
    assert caught.value.status == 400 and caught.value.code == "bad_cursor"


async def test_cursor_carries_position_and_floor(log: Log) -> None:
    await log.put("a")
    await log.put("b")
    page = await log.pull(limit=1)
    cursor = decode_cursor(page.cursor, ALICE, KEY)
    assert cursor.position == (0, 1) and cursor.floor == (0, 2)
    assert cursor.issued_at == int(log.clock().timestamp())


async def test_rotated_key_still_reads_old_cursors(log: Log) -> None:
    await log.put("a")
    old = encode_cursor(Cursor(ALICE, (0, 0), (0, 1), 0), b"o" * 32)
    data = msgspec.json.encode({"protocol": 1, "schema": 1, "cursor": old})
    with pytest.raises(BadCursor):
        await pull(log.store, ALICE, data, key=KEY, now=T0)
    await pull(log.store, ALICE, data, key=KEY, now=T0, old_keys=(b"o" * 32,))


# -- compaction and reset -------------------------------------------------------------------------
async def test_cursor_behind_a_purged_remove_must_reset(log: Log) -> None:
    await log.put("a")
    _, cursor = await log.pull_all()
    await log.remove("a")
    log.clock.advance(days=31)
    assert await log.purge() == 1
    with pytest.raises(ResetRequired) as caught:
        await log.pull(cursor)
    assert (caught.value.status, caught.value.code) == (409, "reset_required")
    changes, _ = await log.pull_all(None)  # the reset: pull from null
    assert changes == []


async def test_cursor_past_the_purged_remove_carries_on(log: Log) -> None:
    await log.put("a")
    await log.remove("a")
    _, cursor = await log.pull_all()  # saw the remove before it was purged
    log.clock.advance(days=31)
    await log.purge()
    await log.put("b")
    assert ids((await log.pull(cursor)).changes) == [("put", "b")]


async def test_initial_sync_is_not_reset_by_tombstones_it_never_needed(log: Log) -> None:
    for i in range(3):
        await log.put(str(i))
    await log.remove("x")
    await log.remove("y")  # the newest rows are tombstones
    log.clock.advance(days=31)
    await log.purge()
    changes, _ = await log.pull_all(None, limit=1)
    assert ids(changes) == [("put", "0"), ("put", "1"), ("put", "2")]
    await log.remove("z")
    log.clock.advance(days=31)
    first = await log.pull(None, limit=1)  # a purge during an initial sync that spans pages
    await log.purge()
    rest, _ = await log.pull_all(first.cursor, limit=1)
    assert ids(first.changes + rest) == [("put", "0"), ("put", "1"), ("put", "2")]


async def test_purge_after_the_initial_sync_started_resets_it(log: Log) -> None:
    await log.put("a")
    await log.put("b")
    first = await log.pull(None, limit=1)
    await log.remove("a")  # written after the sync started, may concern the client
    log.clock.advance(days=31)
    await log.purge()
    with pytest.raises(ResetRequired):
        await log.pull(first.cursor, limit=1)


# -- devices ---------------------------------------------------------------------------------------
async def test_pull_binds_a_new_device_and_refuses_another_user(log: Log) -> None:
    device = str(uuid.uuid4())
    await log.pull(device_id=device)
    await log.pull(device_id=device)
    with pytest.raises(DeviceMismatch):
        await log.pull(device_id=device, user=BOB)
    async with log.store.transaction(write=False) as tx:
        state = await tx.device(uuid.UUID(device))
    assert state is not None and state.user_id == ALICE
