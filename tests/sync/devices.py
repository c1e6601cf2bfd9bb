"""Test devices: a settable clock, token sources and fault-injecting transports.

All are real implementations of the seams they stand in for (TokenSource, Transport); the faults
are the ones networks really have — lost responses, refused connections, 503s.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.client import DeviceClient
from sync.errors import Unauthorized, Unavailable
from sync.localserver import LocalServer
from sync.localstore import LocalStore, MemoryLocalStore
from sync.transport import Channel, Response, RetryPolicy, Transport

T0 = datetime(2025, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Tokens:
    """A login: an access token that can be refreshed while ``logged_in``."""

    def __init__(self, server: LocalServer, user: str) -> None:
        self.server, self.user = server, user
        self.current = server.issue_token(user)
        self.logged_in = True
        self.refreshes = 0

    async def token(self, *, refresh: bool = False) -> str:
        if refresh:
            if not self.logged_in:
                raise Unauthorized("the refresh token has expired: log in again")
            self.refreshes += 1
            self.current = self.server.issue_token(self.user)
        return self.current


@dataclass
class Exchange:
    method: str
    path: str
    body: bytes
    response: Response | None


@dataclass
class Network:
    """A transport in front of the server that records exchanges and injects faults.

    ``offline``: every request fails to connect. ``lose``: the next N responses are lost after
    the server has processed the request (the classic cause of replays). ``fail``: the next
    requests (to paths starting with ``fail_path``) get these statuses, unprocessed.
    """

    inner: Transport
    offline: bool = False
    lose: int = 0
    fail: list[int] = field(default_factory=list)
    fail_path: str = "/"
    exchanges: list[Exchange] = field(default_factory=list)

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        if self.offline:
            self.exchanges.append(Exchange(method, path, body, None))
            raise Unavailable("network is unreachable")
        if self.fail and path.startswith(self.fail_path):
            status = self.fail.pop(0)
            response = Response(status, {"retry-after": "1"}, b'{"code":"unavailable"}')
            self.exchanges.append(Exchange(method, path, body, response))
            return response
        response = await self.inner.request(method, path, body, headers)
        self.exchanges.append(Exchange(method, path, body, response))
        if self.lose:
            self.lose -= 1
            raise ConnectionResetError("connection reset before the response arrived")
        return response

    def paths(self) -> list[str]:
        return [
            f"{e.method} {e.path} {e.response.status if e.response else '-'}"
            for e in self.exchanges
        ]


class NoSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def new_client(
    server: LocalServer,
    user: str,
    *,
    network: Network | None = None,
    local: LocalStore | None = None,
    tokens: Tokens | None = None,
    **kw: Any,
) -> DeviceClient:
    channel = Channel(
        network or Network(server),
        tokens or Tokens(server, user),
        RetryPolicy(attempts=4),
        rng=random.Random(7),
        sleep=NoSleep(),
    )
    kw.setdefault("clock", server.clock)
    return await DeviceClient.open(channel, local or MemoryLocalStore(), **kw)
