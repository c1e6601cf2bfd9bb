"""An engineer's device on the real path: login, the reference client, an httpx transport.

``sync.client.DeviceClient`` (the reference client of PROTOCOL.md §10) talks through
``sync.transport.Channel`` to ``server.syncing.device.HttpTransport`` (httpx) with tokens from
a real ``POST /auth/login``. The bench wraps the transport to count requests and bytes and to
time every exchange, and lets one login serve several devices of the same engineer (logging in
costs an argon2 hash on purpose; N simulated devices of one engineer share its login).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import httpx
import msgspec

from server.syncing.device import HttpTransport, PasswordLogin
from sync.changes import PutChange
from sync.client import DeviceClient
from sync.localstore import DeviceSnapshot
from sync.messages import MAX_BATCH
from sync.transport import Channel, Response, RetryPolicy

PASSWORD = "fieldsync-demo"  # noqa: S105 - the documented demo login


def http_client(url: str, connections: int = 20, timeout: float = 120.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits)


class MeteredTransport:
    """Counts exchanges, response bytes and non-2xx answers; times each exchange by path."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._inner = HttpTransport(client)
        self.requests = 0
        self.bytes_in = 0
        self.errors: list[str] = []
        self.latency: dict[str, list[float]] = defaultdict(list)

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        self.requests += 1
        t0 = time.perf_counter()
        try:
            response = await self._inner.request(method, path, body, headers)
        except Exception as exc:
            self.errors.append(f"{path}: {type(exc).__name__}: {exc}")
            raise
        self.latency[path].append(time.perf_counter() - t0)
        self.bytes_in += len(response.body)
        if response.status >= 400:
            self.errors.append(f"{path}: HTTP {response.status} {response.body[:200]!r}")
        return response


class SharedLogin:
    """One engineer's login, shared by their devices (the first caller logs in)."""

    def __init__(self, client: httpx.AsyncClient, username: str) -> None:
        self.username = username
        self._login = PasswordLogin(client, username, PASSWORD)
        self._lock = asyncio.Lock()

    async def token(self, *, refresh: bool = False) -> str:
        async with self._lock:
            return await self._login.token(refresh=refresh)

    @property
    def user_id(self) -> str:
        return str(self._login.user["id"])


class BenchDevice(DeviceClient):
    """The reference client, with the push batch capped so every system in a comparison sends
    the same batch size (the reference client sends up to ``MAX_BATCH`` = 1000 at once)."""

    max_batch: int = MAX_BATCH

    def _next_batch(self) -> list[bytes]:
        return super()._next_batch()[: self.max_batch]


async def open_device(
    transport: MeteredTransport,
    login: SharedLogin,
    *,
    page: int = 1000,
    batch: int = MAX_BATCH,
    local: ReplicaStore | None = None,
    retries: int = 1,
) -> BenchDevice:
    """A device with a new device id (or the one saved in ``local``). ``retries=1`` means no
    retry: a failure surfaces as an error instead of hiding behind the Channel's backoff."""
    channel = Channel(transport, login, RetryPolicy(attempts=retries, base_delay=0.05))
    device = await BenchDevice.open(channel, local or ReplicaStore(), page_limit=page)
    device.max_batch = batch
    return device


class _TrackedReplica(dict[str, PutChange]):
    """The replica dict, remembering which keys changed since the last save."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.dirty: set[str] = set()

    def __setitem__(self, key: str, value: PutChange) -> None:
        self.dirty.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.dirty.add(key)
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.dirty.add(key)
        return super().pop(key, *default)


class ReplicaStore:
    """A device store that writes what changed, as a real one does (the PWA's IndexedDB store
    puts the changed documents of a page, not the whole replica): the replica lives in an
    in-memory SQLite table — like the ceiling's device and PouchDB's memory adapter — and the
    small rest of the state (cursor, outbox, results) is encoded whole on each save.
    ``sync.localstore.MemoryLocalStore`` re-encodes the whole replica on every save (quadratic
    over an initial sync: 100 pages of 100 re-encode 500k documents); the bench reports
    FieldSync's sync, not that test double's cost."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS replica (key TEXT PRIMARY KEY, body BLOB)")
        self._lock = threading.Lock()
        self.meta: bytes | None = None

    async def load(self) -> DeviceSnapshot | None:
        if self.meta is None:
            return None
        state = _SNAPSHOT.decode(self.meta)
        rows = self.db.execute("SELECT body FROM replica").fetchall()
        state.replica = _TrackedReplica((c.key, c) for c in (_PUT.decode(b) for (b,) in rows))
        return state

    async def save(self, snapshot: DeviceSnapshot) -> None:
        replica = snapshot.replica
        if isinstance(replica, _TrackedReplica):
            changed, replica.dirty = replica.dirty, set()
            wipe = False
        else:  # a new dict (first save, or the client wiped its replica): write it all
            changed, replica, wipe = set(replica), _TrackedReplica(replica), True
        puts = [(k, _ENC.encode(replica[k])) for k in changed if k in replica]
        gone = [(k,) for k in changed if k not in replica]
        snapshot.replica = {}
        try:
            meta = _ENC.encode(snapshot)
        finally:
            snapshot.replica = replica
        # the disk write runs off the event loop, as a device's storage does (IndexedDB is
        # asynchronous): the app stays responsive and the next page's request is on its way
        await asyncio.to_thread(self._write, wipe, puts, gone)
        self.meta = meta

    def _write(self, wipe: bool, puts: list[tuple[str, bytes]], gone: list[tuple[str]]) -> None:
        with self._lock:
            self.db.execute("BEGIN")
            if wipe:
                self.db.execute("DELETE FROM replica")
            self.db.executemany("INSERT OR REPLACE INTO replica VALUES (?, ?)", puts)
            self.db.executemany("DELETE FROM replica WHERE key = ?", gone)
            self.db.execute("COMMIT")

    def copy(self) -> ReplicaStore:
        """Another installation's disk holding exactly this saved state (for the replay)."""
        other = ReplicaStore()
        self.db.backup(other.db)
        other.meta = self.meta
        return other


_ENC = msgspec.json.Encoder()
_SNAPSHOT = msgspec.json.Decoder(DeviceSnapshot)
_PUT = msgspec.json.Decoder(PutChange)


def local_store(device: DeviceClient) -> ReplicaStore:
    store = device._local  # the bench copies the saved state to replay the same outbox later
    assert isinstance(store, ReplicaStore)
    return store


def replica_docs(device: DeviceClient, kind: str) -> list[tuple[str, dict[str, Any], int]]:
    """``(id, doc, v)`` of every replica document of one kind, in key order."""
    prefix = kind + ":"
    return [
        (key[len(prefix) :], change.doc, change.v)
        for key, change in sorted(device.replica.items())
        if key.startswith(prefix)
    ]
