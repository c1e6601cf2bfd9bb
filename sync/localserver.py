"""LocalServer: the sync protocol served in process — engine + MemoryStore + toy handler.

It implements ``sync.transport.Transport``, so a ``DeviceClient`` talks to it exactly as it
would to the Litestar server over HTTP: same paths, bearer tokens, status codes, bodies and
problem documents. That makes it the fake the client tests and the simulator run against, and
a small executable reading of PROTOCOL.md §1. Unexpected exceptions propagate (a test should
see the bug), where a real server would answer 500.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final

import msgspec

from sync import blobs, pull, push, toyhandler
from sync.changes import Change, PutChange
from sync.errors import NotFound, SyncError, Unauthorized, problem_json
from sync.memory import MemoryStore, MemoryTx
from sync.outcome import ApplyHandler
from sync.store import START, Position
from sync.transport import Response

JSON: Final = {"content-type": "application/json"}
PROBLEM: Final = {"content-type": "application/problem+json"}
_BEYOND: Final[Position] = (2**64, 0)  # after every position: skip all removes
_CHANGE_DECODER: Final = msgspec.json.Decoder(Change)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalServer:
    def __init__(
        self,
        store: MemoryStore | None = None,
        *,
        handler: ApplyHandler[MemoryTx] = toyhandler.apply,
        key: bytes | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.clock = clock
        self.store = store or MemoryStore(clock)
        self.handler = handler
        self.key = key or secrets.token_bytes(32)
        self._tokens: dict[str, str] = {}

    # -- authentication (a stand-in for the server's JWT access tokens) ------------------
    def issue_token(self, user_id: str) -> str:
        token = secrets.token_urlsafe(16)
        self._tokens[token] = user_id
        return token

    def revoke_token(self, token: str) -> None:
        self._tokens.pop(token, None)

    def _user(self, headers: Mapping[str, str]) -> str:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        user = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if user is None:
            raise Unauthorized("missing, invalid or expired access token")
        return user

    # -- the Transport protocol -----------------------------------------------------------
    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            return await self._route(method, path, body, headers)
        except SyncError as error:
            return Response(error.status, PROBLEM, problem_json(error, instance=path))

    async def _route(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        user = self._user(headers)
        now = self.clock()
        match method, path.strip("/").split("/"):
            case "POST", ["sync", "pull"]:
                page = await pull.pull(self.store, user, body, key=self.key, now=now)
                return Response(200, JSON, page)
            case "POST", ["sync", "push"]:
                answer = await push.push(self.store, user, body, self.handler, now=now)
                return Response(200, JSON, answer)
            case "POST", ["sync", "blobs", "missing"]:
                return Response(200, JSON, await blobs.missing_blobs(self.store, body))
            case "PUT", ["sync", "blobs", sha256]:
                content_type = headers.get("content-type", "")
                await blobs.put_blob(self.store, sha256, content_type, body)
                return Response(204, {}, b"")
            case "GET", ["sync", "blobs", sha256]:
                blobs.check_hash(sha256)
                async with self.store.transaction(write=False) as tx:
                    blob = await tx.get_blob(sha256)
                if blob is None:
                    raise NotFound("no such blob")
                return Response(200, {"content-type": blob.content_type}, blob.data)
            case _:
                raise NotFound(f"no route {method} {path}")

    # -- what tests check against -----------------------------------------------------------
    async def scope(self, user_id: str) -> dict[str, PutChange]:
        """The server's view of ``user_id``'s replica, to compare a synced client against."""
        async with self.store.transaction(write=False) as tx:
            rows = await tx.read_changes(user_id, START, _BEYOND, 2**31)
        changes = (_CHANGE_DECODER.decode(change) for _, change in rows)
        return {c.key: c for c in changes if isinstance(c, PutChange)}
