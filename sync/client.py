"""The reference device client: a replica, an outbox, and the sync loop of PROTOCOL.md §10.

What must stay true, whatever fails and whenever the process dies:

- An operation leaves the outbox only when the server has answered it (applied or rejected);
  the answer is kept in ``results`` so the user sees rejections.
- A reset (``reset_required``/``bad_cursor``) pushes the outbox first and wipes the replica only
  once the outbox is empty; if the push cannot finish, nothing is wiped.
- ``upgrade_required`` keeps the outbox and stops all syncing until the app runs a newer
  protocol/schema; an expired login (``unauthorized``) keeps everything too.
- The saved cursor always belongs to the saved replica (both are saved together per page).

The replica holds the server's view only; showing queued operations optimistically is the UI's
business.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import msgspec

from sync.blobs import CONTENT_TYPES, sniff
from sync.changes import PULL_PAGE_DECODER, PutChange, RemoveChange, is_known_kind
from sync.errors import (
    ERRORS,
    BadCursor,
    BadRequest,
    BlobTypeInvalid,
    PayloadTooLarge,
    ResetRequired,
    SyncError,
    UpgradeRequired,
)
from sync.localstore import MAX_KEPT_RESULTS, DeviceSnapshot, LocalStore, PendingBlob
from sync.messages import (
    DEFAULT_PAGE,
    MAX_BATCH,
    MAX_HASHES,
    MAX_PUSH_BYTES,
    MISSING_RESPONSE_DECODER,
    OP_RESULT_DECODER,
    PUSH_RESPONSE_DECODER,
    MissingBlobsRequest,
    OpResult,
    PullRequest,
    PushRequest,
    Stopped,
)
from sync.operations import OPERATION_DECODER, Operation, OperationBase
from sync.transport import Channel
from sync.versions import PROTOCOL_MAX, SCHEMA_MAX

OpT = TypeVar("OpT", bound=OperationBase)
_ENCODER = msgspec.json.Encoder()
_FRAME_BYTES = 256  # room for the push envelope around the operations


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeviceClient:
    """One installation of the app: open it with ``DeviceClient.open``, queue, then sync."""

    def __init__(
        self,
        channel: Channel,
        local: LocalStore,
        state: DeviceSnapshot,
        *,
        protocol: int = PROTOCOL_MAX,
        schema: int = SCHEMA_MAX,
        page_limit: int = DEFAULT_PAGE,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.channel = channel
        self._local = local
        self._state = state
        self._versions = (protocol, schema)
        self._page_limit = page_limit
        self._clock = clock

    @classmethod
    async def open(
        cls, channel: Channel, local: LocalStore, *, device_id: uuid.UUID | None = None, **kw: Any
    ) -> DeviceClient:
        """The device saved in ``local``, or a new one (with a new device id) if none is."""
        state = await local.load()
        if state is None:
            state = DeviceSnapshot(device_id=device_id or uuid.uuid4())
            await local.save(state)
        return cls(channel, local, state, **kw)

    # -- what the UI reads ------------------------------------------------------------------
    @property
    def device_id(self) -> uuid.UUID:
        return self._state.device_id

    @property
    def outbox(self) -> tuple[Operation, ...]:
        return tuple(self._state.outbox)

    @property
    def replica(self) -> Mapping[str, PutChange]:
        return self._state.replica

    @property
    def blob_errors(self) -> Mapping[str, str]:
        return self._state.blob_errors

    @property
    def results(self) -> Mapping[str, OpResult]:
        """Server answers by operation id (newest last)."""
        return self._state.results

    def doc(self, key: str) -> dict[str, Any] | None:
        change = self._state.replica.get(key)
        return None if change is None else change.doc

    # -- what the UI does -------------------------------------------------------------------
    async def queue(self, op_type: type[OpT], **fields: Any) -> OpT:
        """Queue an operation; the client fills ``seq``, ``id`` and (unless given) ``at``.

        The operation goes through the wire decoder first, which validates it exactly as the
        server will (refused here rather than rejected there) and normalises its members.
        """
        fields.setdefault("at", self._clock())
        draft = op_type(seq=self._state.next_seq, id=uuid.uuid4(), **fields)
        try:
            op = OPERATION_DECODER.decode(_ENCODER.encode(draft))
        except (msgspec.ValidationError, msgspec.EncodeError, TypeError) as exc:
            raise BadRequest(f"{op_type.__name__}: {exc}") from None
        self._state.outbox.append(op)
        self._state.next_seq += 1
        await self._save()
        return cast(OpT, op)

    async def attach_blob(self, data: bytes, content_type: str) -> str:
        """Keep a file for upload; returns its SHA-256, which operations refer to."""
        if content_type not in CONTENT_TYPES or sniff(data) != content_type:
            raise BadRequest(f"not a {content_type} image")
        sha256 = hashlib.sha256(data).hexdigest()
        self._state.blobs[sha256] = PendingBlob(content_type, data)
        await self._save()
        return sha256

    # -- syncing ----------------------------------------------------------------------------
    async def sync(self) -> None:
        """Files first (so operations rarely need ``pending_blob``), then push, then pull."""
        await self.upload_blobs()
        await self.push()
        await self.pull()

    async def push(self) -> list[OpResult]:
        """Push the whole outbox, batch by batch; returns the results received."""
        received: list[OpResult] = []
        while self._state.outbox:
            ops = self._next_batch()
            request = PushRequest(
                protocol=self._versions[0],
                schema=self._versions[1],
                device_id=self.device_id,
                ops=[msgspec.Raw(op) for op in ops],
            )
            reply = PUSH_RESPONSE_DECODER.decode(await self._call("/sync/push", request))
            results = [OP_RESULT_DECODER.decode(raw) for raw in reply.results]
            self._acknowledge(results)
            await self._save()
            received.extend(results)
            if reply.stopped is not None:
                raise _stop_error(reply.stopped)
            if not results:
                raise SyncError("server answered a push without processing anything")
        return received

    async def pull(self) -> int:
        """Pull until ``has_more`` is false; returns the number of changes received."""
        try:
            return await self._pull_pages()
        except (ResetRequired, BadCursor):
            await self.push()  # a reset never discards queued operations
            self._state.replica, self._state.cursor = {}, None
            await self._save()
            return await self._pull_pages()

    async def upload_blobs(self) -> int:
        """Upload files the server does not have; returns how many were uploaded. A file the server
        refuses (corrupt) is dropped and listed in ``blob_errors``."""
        uploaded = 0
        pending = list(self._state.blobs)
        for i in range(0, len(pending), MAX_HASHES):
            hashes = pending[i : i + MAX_HASHES]
            answer = await self._call("/sync/blobs/missing", MissingBlobsRequest(hashes=hashes))
            missing = set(MISSING_RESPONSE_DECODER.decode(answer).missing)
            for sha256 in hashes:
                blob = self._state.blobs[sha256]
                if sha256 in missing:
                    try:
                        await self._send(
                            "PUT", f"/sync/blobs/{sha256}", blob.data, blob.content_type
                        )
                        uploaded += 1
                    except (BadRequest, BlobTypeInvalid, PayloadTooLarge) as refused:
                        # a corrupt file must not block the queue: drop it, tell the user
                        self._state.blob_errors[sha256] = refused.code
                del self._state.blobs[sha256]
                await self._save()
        return uploaded

    # -- internals --------------------------------------------------------------------------
    async def _pull_pages(self) -> int:
        """Pull page after page, asking for the next page as soon as a page's cursor is known:
        the request travels and the server reads while this device stores the page it has
        (one request ahead at most; the saved cursor still always matches the saved replica,
        and an answer that arrives for a page never stored is simply dropped)."""
        received = 0
        ahead = self._ask_page(self._state.cursor)
        try:
            while True:
                page = PULL_PAGE_DECODER.decode(await self._answer(ahead))
                if page.has_more:
                    ahead = self._ask_page(page.cursor)
                replica = self._state.replica
                for change in page.changes:
                    if not is_known_kind(change):
                        continue
                    match change:
                        case PutChange():
                            replica[change.key] = change
                        case RemoveChange():
                            replica.pop(change.key, None)
                self._state.cursor = page.cursor
                await self._save()
                received += len(page.changes)
                if not page.has_more:
                    return received
        finally:
            _drop(ahead)

    def _ask_page(self, cursor: str | None) -> asyncio.Future[bytes]:
        """Send a pull request now; its answer is awaited (``_answer``) later."""
        self._check_versions()
        request = PullRequest(
            protocol=self._versions[0],
            schema=self._versions[1],
            cursor=cursor,
            limit=self._page_limit,
            device_id=self.device_id,
        )
        body = _ENCODER.encode(request)
        return asyncio.ensure_future(self.channel.call("POST", "/sync/pull", body))

    def _next_batch(self) -> list[bytes]:
        batch: list[bytes] = []
        size = _FRAME_BYTES
        for op in self._state.outbox[:MAX_BATCH]:
            encoded = _ENCODER.encode(op)
            if batch and size + len(encoded) + 1 > MAX_PUSH_BYTES:
                break
            batch.append(encoded)
            size += len(encoded) + 1
        return batch

    def _acknowledge(self, results: list[OpResult]) -> None:
        done = {r.seq for r in results}
        self._state.outbox = [op for op in self._state.outbox if op.seq not in done]
        kept = self._state.results
        for result in results:
            kept.pop(str(result.id), None)
            kept[str(result.id)] = result
        while len(kept) > MAX_KEPT_RESULTS:
            del kept[next(iter(kept))]

    async def _call(self, path: str, message: msgspec.Struct) -> bytes:
        return await self._send("POST", path, _ENCODER.encode(message), "application/json")

    async def _send(self, method: str, path: str, body: bytes, content_type: str) -> bytes:
        self._check_versions()
        return await self._answer(self.channel.call(method, path, body, content_type))

    def _check_versions(self) -> None:
        if self._state.refused_versions == self._versions:
            raise UpgradeRequired("the server refused this app version; update the app")

    async def _answer(self, exchange: Awaitable[bytes]) -> bytes:
        """The answer's body; a refusal of this app version is remembered (and saved)."""
        try:
            return await exchange
        except UpgradeRequired:
            self._state.refused_versions = self._versions
            await self._save()
            raise

    async def _save(self) -> None:
        await self._local.save(self._state)


def _drop(exchange: asyncio.Future[bytes]) -> None:
    """Abandon an exchange nobody will read: cancel it if it is still running, and retrieve
    its error if it already failed (so asyncio does not report it as never retrieved)."""
    if not exchange.done():
        exchange.cancel()
    elif not exchange.cancelled():
        exchange.exception()


def _stop_error(stopped: Stopped) -> SyncError:
    cls = ERRORS.get(stopped.code, SyncError)
    return cls(stopped.detail, seq=stopped.seq, expected_seq=stopped.expected_seq)
