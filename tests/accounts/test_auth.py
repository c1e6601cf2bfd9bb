"""Login, token rotation and revocation, role guards, rate limiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import msgspec
import pytest
from litestar import Litestar
from litestar.exceptions import NotAuthorizedException
from litestar.testing import AsyncTestClient

from server.accounts import auth
from server.accounts.auth import VerifiedToken
from server.app import create_app
from tests.world import World

Client = AsyncTestClient[Litestar]


async def _login(
    client: Client, username: str = "engineer1", password: str = World.PASSWORD
) -> Any:
    return await client.post("/auth/login", json={"username": username, "password": password})


def _bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


async def test_login_returns_tokens_and_user(client: Client) -> None:
    r = await _login(client)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert body["user"]["role"] == "engineer" and "password_hash" not in body["user"]
    me = await client.get("/auth/me", headers=_bearer(body))
    assert me.json()["username"] == "engineer1"


async def test_wrong_password_and_unknown_user_look_the_same(client: Client) -> None:
    bad = await _login(client, password="nope")
    unknown = await _login(client, username="ghost")
    assert bad.status_code == unknown.status_code == 401
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["detail"] == unknown.json()["detail"]


async def test_refresh_rotates_and_reuse_revokes_the_family(client: Client) -> None:
    first = (await _login(client)).json()
    r = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/auth/me", headers=_bearer(second))).status_code == 200
    # The old token again: a leak. The whole login is revoked, newer tokens included.
    reuse = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and "reused" in reuse.json()["detail"]
    assert (await client.get("/auth/me", headers=_bearer(second))).status_code == 401
    again = await client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 401


async def test_logout_ends_the_session_at_once(client: Client) -> None:
    body = (await _login(client)).json()
    other = (await _login(client)).json()  # a second device stays logged in
    assert (await client.post("/auth/logout", headers=_bearer(body))).status_code == 204
    assert (await client.get("/auth/me", headers=_bearer(body))).status_code == 401
    assert (
        await client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    ).status_code == 401
    assert (await client.get("/auth/me", headers=_bearer(other))).status_code == 200


async def test_disabling_a_user_ends_all_sessions(client: Client, world: World) -> None:
    engineer = (await _login(client)).json()
    admin = (await _login(client, "admin")).json()
    uid = world.users["engineer1"]
    r = await client.post(f"/users/{uid}/active", json={"is_active": False}, headers=_bearer(admin))
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert (await client.get("/auth/me", headers=_bearer(engineer))).status_code == 401
    assert (await _login(client)).status_code == 401
    r = await client.post(f"/users/{uid}/active", json={"is_active": True}, headers=_bearer(admin))
    assert (await _login(client)).status_code == 200


async def test_only_admin_disables_users(client: Client, world: World) -> None:
    manager = (await _login(client, "manager1")).json()
    uid = world.users["engineer2"]
    r = await client.post(
        f"/users/{uid}/active", json={"is_active": False}, headers=_bearer(manager)
    )
    assert r.status_code == 403
    assert (await _login(client, "engineer2")).status_code == 200


async def test_tampered_and_missing_tokens(client: Client) -> None:
    body = (await _login(client)).json()
    token = body["access_token"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for headers in ({}, {"Authorization": f"Bearer {tampered}"}, {"Authorization": "Basic x"}):
        r = await client.get("/auth/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_login_input_is_validated(client: Client) -> None:
    r = await client.post("/auth/login", json={"username": "engineer1"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "password"
    r = await client.post("/auth/login", json={"username": "a", "password": "b", "extra": 1})
    assert r.status_code == 400
    r = await client.post(
        "/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    r = await client.post("/auth/login", json={"username": "x" * 65, "password": "b"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "username"


async def test_login_is_rate_limited(app: Litestar, world: World) -> None:
    strict = create_app(msgspec.structs.replace(app.state.settings, login_rate_per_minute=3))
    async with AsyncTestClient(app=strict) as c:
        codes = [(await _login(c, password="wrong")).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]


# -- the verified-token cache (server.accounts.auth.VerifiedToken) ---------------------------
SECRET = "s" * 48
CLAIMS = ["sub", "exp", "iss"]


def _signed(exp: datetime, secret: str = SECRET, **extra: Any) -> str:
    now = int(datetime.now(UTC).timestamp())
    payload = {"sub": "u1", "exp": int(exp.timestamp()), "iat": now, "iss": "fieldsync", **extra}
    return jwt.encode(payload, secret, algorithm="HS256")


def _decode(token: str, secret: str = SECRET) -> VerifiedToken:
    return VerifiedToken.decode(token, secret, "HS256", issuer=["fieldsync"], require_claims=CLAIMS)


class _Later(datetime):
    """``datetime`` whose ``now`` is an hour ahead: the clock moved on, the cache did not."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime.now(tz) + timedelta(hours=1)


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VerifiedToken, "_verified", {})


@pytest.mark.usefixtures("fresh_cache")
def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _signed(datetime.now(UTC) + timedelta(minutes=10))
    assert _decode(token).sub == "u1"
    assert _decode(token) is _decode(token)  # verified once, remembered
    monkeypatch.setattr(auth, "datetime", _Later)
    with pytest.raises(NotAuthorizedException):
        _decode(token)
    assert not VerifiedToken._verified  # and forgotten


@pytest.mark.usefixtures("fresh_cache")
def test_a_remembered_token_is_not_valid_under_another_secret_or_issuer() -> None:
    token = _signed(datetime.now(UTC) + timedelta(minutes=10))
    _decode(token)
    with pytest.raises(NotAuthorizedException):
        _decode(token, secret="t" * 48)
    with pytest.raises(NotAuthorizedException):
        VerifiedToken.decode(token, SECRET, "HS256", issuer=["elsewhere"], require_claims=CLAIMS)


@pytest.mark.usefixtures("fresh_cache")
def test_a_token_not_yet_valid_is_refused_on_every_use() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    token = _signed(datetime.now(UTC) + timedelta(minutes=10), nbf=int(soon.timestamp()))
    for _ in range(2):
        with pytest.raises(NotAuthorizedException):
            _decode(token)


@pytest.mark.usefixtures("fresh_cache")
def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VerifiedToken, "CACHE_SIZE", 3)
    exp = datetime.now(UTC) + timedelta(minutes=10)
    tokens = [_signed(exp, n=i) for i in range(5)]
    for t in tokens:
        _decode(t)
    assert len(VerifiedToken._verified) == 3
    assert [k[0] for k in VerifiedToken._verified] == tokens[2:]  # the oldest went first
