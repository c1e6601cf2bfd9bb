"""A real device over HTTP: the reference client (``sync.client``) wired to httpx and to the
server's login, used by the end-to-end tests, the benchmark and ``python -m server device``.

``HttpTransport`` is the client's only IO (one exchange per call; no retries — ``Channel``
retries). ``PasswordLogin`` logs in once and refreshes with the rotating refresh token, as the
PWA does. Either can take an ASGI app instead of a URL, for in-process tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from sync.errors import Unauthorized, Unavailable
from sync.transport import Channel, Response


class HttpTransport:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        try:
            r = await self.client.request(method, path, content=body, headers=dict(headers))
        except httpx.TransportError as exc:  # no answer came back: the Channel retries
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
        return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)


class PasswordLogin:
    """A TokenSource: one login, then rotating refreshes."""

    def __init__(self, client: httpx.AsyncClient, username: str, password: str) -> None:
        self._client = client
        self._credentials = {"username": username, "password": password}
        self._access: str | None = None
        self._refresh: str | None = None
        self.user: dict[str, Any] = {}

    async def token(self, *, refresh: bool = False) -> str:
        if self._access is None:
            await self._exchange("/auth/login", self._credentials)
        elif refresh:
            await self._exchange("/auth/refresh", {"refresh_token": self._refresh})
        assert self._access is not None
        return self._access

    async def _exchange(self, path: str, body: Mapping[str, Any]) -> None:
        try:
            r = await self._client.post(path, json=dict(body))
        except httpx.TransportError as exc:
            raise Unavailable(str(exc)) from exc
        if r.status_code == 401:
            raise Unauthorized(r.json().get("detail", "login refused"))
        if r.status_code >= 400:
            raise Unavailable(f"{path} answered {r.status_code}")
        tokens = r.json()
        self._access, self._refresh, self.user = (
            tokens["access_token"],
            tokens["refresh_token"],
            tokens["user"],
        )


async def simulate(
    url: str, username: str, password: str, state: str, *, notes: int = 0, offline: bool = False
) -> dict[str, Any]:
    """One run of a simulated device (``python -m server device``): open the device saved in
    ``state`` (a JSON file; a new device if missing), queue ``notes`` job notes on its first
    open job, and sync unless ``offline``. Queued work survives between runs in the file."""
    from collections import Counter

    from sync.client import DeviceClient
    from sync.localstore import JsonFileLocalStore
    from sync.operations import JobNote

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        channel = Channel(HttpTransport(http), PasswordLogin(http, username, password))
        device = await DeviceClient.open(channel, JsonFileLocalStore(state))
        jobs = [
            key
            for key, doc in device.replica.items()
            if key.startswith("job:") and doc.doc.get("status") not in ("completed", "cancelled")
        ]
        for i in range(notes if jobs else 0):
            key = jobs[0]
            await device.queue(
                JobNote,
                job_id=key.split(":", 1)[1],
                text=f"simulated note {i + 1}",
                base_version=device.replica[key].v,
            )
        if not offline:
            await device.sync()
        kinds = Counter(key.split(":", 1)[0] for key in device.replica)
        return {
            "device_id": str(device.device_id),
            "replica": dict(sorted(kinds.items())),
            "outbox": len(device.outbox),
            "requests": channel.requests,
            "rejected": [
                {"seq": r.seq, "code": r.code, "message": r.message}
                for r in device.results.values()
                if r.status == "rejected"
            ],
        }
