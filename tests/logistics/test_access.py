"""Every logistics route by every role (DESIGN §7), for a shipment the role may and may not see."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.world import World

ROLES = ("engineer1", "engineer2", "dispatcher1", "logistics1", "manager1", "admin", None)


def _row(*codes: int) -> dict[str | None, int]:
    return dict(zip(ROLES, codes, strict=True))


# The world's shipment goes to engineer1's van: engineer2 may not see it.
#      engineer1 engineer2 dispatcher logistics manager admin anonymous
READ = _row(200, 404, 200, 200, 200, 200, 401)
TABLE: list[tuple[str, str, dict[str | None, int]]] = [
    ("GET", "/shipments", _row(200, 200, 200, 200, 200, 200, 401)),
    ("GET", "/shipments/{sf}", READ),
    ("GET", "/shipments/by-tracking/SF1234567890", READ),
    ("POST", "/shipments/{sf}/events", _row(403, 403, 403, 201, 201, 201, 401)),
]


async def test_route_role_table(
    client: AsyncTestClient[Litestar], login: Any, world: World
) -> None:
    """One test walks the whole table, so each role logs in once (logins hash passwords)."""
    wrong = []
    for method, path, expected in TABLE:
        url = path.format(sf=world.shipments["sf"])
        for user in ROLES:
            headers = await login(user) if user else {}
            if method == "GET":
                r = await client.get(url, headers=headers)
            else:
                r = await client.post(url, json={"status": "in_transit"}, headers=headers)
            if r.status_code != expected[user]:
                wrong.append((method, path, user, expected[user], r.status_code, r.text[:200]))
    assert wrong == []
