"""How a device reaches the server: the Transport seam and the Channel that uses it.

``Transport`` is the client's only IO seam — one HTTP exchange, nothing more. The server's tests
plug an httpx-backed transport; ``sync.localserver.LocalServer`` is an in-process one. A
transport raises ``Unavailable`` (or ``OSError``/``TimeoutError``) when no response came back.

``Channel`` adds what every call needs: the bearer token (refreshed once on 401), retries with
exponential backoff and full jitter on transport errors, 408/429/5xx (honouring Retry-After),
and problem documents turned back into ``SyncError`` exceptions. Retrying is always safe here:
pull is read-only, push is idempotent by (device, seq), blob uploads are content-addressed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sync.errors import SyncError, Unauthorized, Unavailable, error_from_problem

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes


class Transport(Protocol):
    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response: ...


class TokenSource(Protocol):
    async def token(self, *, refresh: bool = False) -> str:
        """The current access token; with ``refresh``, a new one (``Unauthorized`` if the
        login itself has expired — the caller keeps its outbox and asks the user to log in)."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**retry)]."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**retry))


def _retry_after(headers: Mapping[str, str]) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", "0")))
    except ValueError:
        return 0.0  # an HTTP date: fall back to our own backoff


class Channel:
    def __init__(
        self,
        transport: Transport,
        tokens: TokenSource,
        retry: RetryPolicy | None = None,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._transport = transport
        self._tokens = tokens
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._sleep = sleep
        self.requests = 0  # exchanges attempted, for tests and benchmarks

    async def call(
        self, method: str, path: str, body: bytes, content_type: str = "application/json"
    ) -> bytes:
        """The body of a 2xx answer; raises the server's ``SyncError`` or ``Unavailable``."""
        refresh = refreshed = False
        failures = 0
        while True:
            headers = {
                "authorization": f"Bearer {await self._tokens.token(refresh=refresh)}",
                "content-type": content_type,
                "accept": "application/json",
            }
            refresh = False
            wait = 0.0
            self.requests += 1
            try:
                response = await self._transport.request(method, path, body, headers)
            except (Unavailable, OSError, TimeoutError) as exc:
                error: SyncError = exc if isinstance(exc, Unavailable) else Unavailable(str(exc))
            else:
                if response.status < 400:
                    return response.body
                error = error_from_problem(response.status, response.body)
                if response.status == 401:
                    if refreshed:
                        raise Unauthorized(error.detail)
                    refresh = refreshed = True
                    continue
                if response.status not in RETRY_STATUSES:
                    raise error
                wait = _retry_after(response.headers)
            failures += 1
            if failures >= self._retry.attempts:
                raise Unavailable(f"gave up after {failures} attempts: {error.detail}") from error
            await self._sleep(max(wait, self._retry.delay(failures - 1, self._rng)))
