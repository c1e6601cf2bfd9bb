from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_health_and_login(client: AsyncTestClient[Litestar], login) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).json() == {"status": "ready"}
    headers = await login("engineer1")
    r = await client.get("/auth/me", headers=headers)
    assert r.status_code == 200 and r.json()["username"] == "engineer1"
