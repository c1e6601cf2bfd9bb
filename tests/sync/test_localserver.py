"""The in-process server speaks the HTTP protocol: routes, auth, problem documents."""

from __future__ import annotations

import hashlib

import msgspec

from sync.localserver import LocalServer

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"


def auth(server: LocalServer, user: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {server.issue_token(user)}"}


async def test_requests_need_a_valid_token(server: LocalServer) -> None:
    for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": "Basic abc"}):
        status, response_headers, body = await server.request("POST", "/sync/pull", b"{}", headers)
        assert status == 401 and response_headers["content-type"] == "application/problem+json"
        assert msgspec.json.decode(body)["code"] == "unauthorized"


async def test_unknown_routes_are_problems(server: LocalServer) -> None:
    status, _, body = await server.request("DELETE", "/sync/push", b"", auth(server))
    assert status == 404 and msgspec.json.decode(body)["instance"] == "/sync/push"


async def test_blob_routes(server: LocalServer) -> None:
    sha = hashlib.sha256(PNG).hexdigest()
    headers = auth(server) | {"Content-Type": "image/png"}
    assert (await server.request("PUT", f"/sync/blobs/{sha}", PNG, headers)).status == 204
    assert (await server.request("PUT", f"/sync/blobs/{sha}", PNG, headers)).status == 204
    wrong = await server.request("PUT", f"/sync/blobs/{'0' * 64}", PNG, headers)
    assert wrong.status == 400 and msgspec.json.decode(wrong.body)["code"] == "blob_hash_mismatch"
    typed = await server.request(
        "PUT", f"/sync/blobs/{sha}", PNG, auth(server) | {"content-type": "image/gif"}
    )
    assert typed.status == 415
    got = await server.request("GET", f"/sync/blobs/{sha}", b"", auth(server))
    assert (got.status, got.headers["content-type"], got.body) == (200, "image/png", PNG)
    assert (await server.request("GET", f"/sync/blobs/{'1' * 64}", b"", auth(server))).status == 404
    missing = await server.request(
        "POST",
        "/sync/blobs/missing",
        msgspec.json.encode({"hashes": [sha, "1" * 64]}),
        auth(server),
    )
    assert msgspec.json.decode(missing.body) == {"missing": ["1" * 64]}


async def test_upgrade_required_is_426(server: LocalServer) -> None:
    status, _, body = await server.request(
        "POST", "/sync/push", b'{"protocol":0,"schema":1}', auth(server)
    )
    assert status == 426 and msgspec.json.decode(body)["schema_max"] == 1


async def test_scope_is_the_users_puts(server: LocalServer) -> None:
    assert set(await server.scope("bob")) == {"job:j3"}
