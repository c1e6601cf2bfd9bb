"""Every inventory route by every role (DESIGN §7): the status each one gets."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.world import World

ROLES = ("engineer1", "dispatcher1", "logistics1", "manager1", "admin", None)


def _row(*codes: int) -> dict[str | None, int]:
    return dict(zip(ROLES, codes, strict=True))


#      engineer dispatcher logistics manager admin anonymous
READ_ALL = _row(200, 200, 200, 200, 200, 401)
ENGINEER = _row(200, 403, 403, 403, 403, 401)
STAFF_READ = _row(403, 200, 200, 200, 200, 401)
STAFF_WRITE = _row(403, 403, 201, 201, 201, 401)
ADMIN = _row(403, 403, 403, 403, 200, 401)

TABLE: list[tuple[str, str, Any, dict[str | None, int]]] = [
    ("GET", "/parts?q=P-", None, READ_ALL),
    ("GET", "/parts/{part}", None, READ_ALL),
    ("GET", "/parts/{missing}", None, _row(404, 404, 404, 404, 404, 401)),
    ("GET", "/parts/{part}/availability", None, ENGINEER),
    ("GET", "/me/van", None, ENGINEER),
    ("GET", "/stock/levels", None, STAFF_READ),
    ("GET", "/stock/movements", None, STAFF_READ),
    ("POST", "/stock/movements", {"kind": "receipt", "qty_delta": 1}, STAFF_WRITE),
    ("POST", "/stock/transfers", {"qty": 1}, STAFF_WRITE),
    ("GET", "/locations", None, STAFF_READ),
    ("GET", "/stock/ledger-check", None, ADMIN),
]


def _body(world: World, path: str, extra: dict[str, Any]) -> dict[str, Any]:
    part, wh, van = str(world.parts[0]), str(world.locations["WH-1"]), str(world.locations["VAN-1"])
    if path == "/stock/transfers":
        return {"part_id": part, "from_location_id": wh, "to_location_id": van} | extra
    return {"part_id": part, "location_id": wh} | extra


async def test_route_role_table(
    client: AsyncTestClient[Litestar], login: Any, world: World
) -> None:
    """One test walks the whole table, so each role logs in once (logins hash passwords)."""
    wrong = []
    for method, path, body, expected in TABLE:
        url = path.format(part=world.parts[0], missing=world.users["admin"])
        for user in ROLES:
            headers = await login(user) if user else {}
            if method == "GET":
                r = await client.get(url, headers=headers)
            else:
                r = await client.post(url, json=_body(world, path, body), headers=headers)
            if r.status_code != expected[user]:
                wrong.append((method, path, user, expected[user], r.status_code, r.text[:200]))
    assert wrong == []
