"""Where a device keeps its state between runs: replica, cursor, outbox, pending files.

The reference client saves one ``DeviceSnapshot`` after every step that changes it (an
operation queued, a batch acknowledged, a page applied), so a crash at any point restarts from a
state the protocol can continue from: unacknowledged operations are still queued and are simply
pushed again (the server answers replays), and the cursor always matches the replica it was saved
with. ``MemoryLocalStore`` round-trips through bytes like a real one; ``JsonFileLocalStore`` writes
a file atomically (temp file, fsync, rename) for the simulator.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Final, Protocol

import msgspec

from sync.changes import PutChange
from sync.messages import OpResult
from sync.operations import Operation

MAX_KEPT_RESULTS: Final = 1000


class PendingBlob(msgspec.Struct, frozen=True):
    content_type: str
    data: bytes


class DeviceSnapshot(msgspec.Struct, kw_only=True):
    device_id: uuid.UUID
    next_seq: int = 1
    cursor: str | None = None
    outbox: list[Operation] = []
    replica: dict[str, PutChange] = {}
    results: dict[str, OpResult] = {}  # by operation id, newest last, at most MAX_KEPT_RESULTS
    blobs: dict[str, PendingBlob] = {}  # files not yet known to be on the server, by sha256
    blob_errors: dict[str, str] = {}  # files the server refused (corrupt): sha256 -> error code
    refused_versions: tuple[int, int] | None = None  # (protocol, schema) that got 426


class LocalStore(Protocol):
    async def load(self) -> DeviceSnapshot | None: ...

    async def save(self, snapshot: DeviceSnapshot) -> None: ...


_DECODER = msgspec.json.Decoder(DeviceSnapshot)


class MemoryLocalStore:
    def __init__(self) -> None:
        self.data: bytes | None = None

    async def load(self) -> DeviceSnapshot | None:
        return None if self.data is None else _DECODER.decode(self.data)

    async def save(self, snapshot: DeviceSnapshot) -> None:
        self.data = msgspec.json.encode(snapshot)


class JsonFileLocalStore:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    async def load(self) -> DeviceSnapshot | None:
        return await asyncio.to_thread(self._load)

    async def save(self, snapshot: DeviceSnapshot) -> None:
        await asyncio.to_thread(self._save, msgspec.json.encode(snapshot))

    def _load(self) -> DeviceSnapshot | None:
        try:
            return _DECODER.decode(self.path.read_bytes())
        except FileNotFoundError:
            return None

    def _save(self, data: bytes) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
