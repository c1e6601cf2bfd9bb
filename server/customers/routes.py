"""HTTP: the customer directory and asset lookup, for dispatchers, managers and admins.

Engineers get customers, sites and assets through their jobs (job detail and sync), and
logistics does not need them, so both are refused here with 403.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get
from litestar.params import FromPath, PathParameter, QueryParameter
from litestar.types import ControllerRouterHandler

from server.accounts.auth import requires
from server.customers import assets, directory
from server.database import Db
from server.queries import Limit, Offset
from server.settings import Settings

_readers = [requires("dispatcher", "manager", "admin")]
NameQuery = Annotated[str, QueryParameter(name="q", max_length=100, description="name contains")]


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@get("/customers", guards=_readers, summary="Find customers by name (paged)")
async def list_customers(
    db_session: Db, q: NameQuery = "", limit: Limit = 50, offset: Offset = 0
) -> list[directory.CustomerOut]:
    return await directory.search(db_session, q.strip(), limit, offset)


@get("/customers/{customer_id:uuid}", guards=_readers, summary="A customer with sites and assets")
async def get_customer(
    request: Request[Any, Any, Any], db_session: Db, customer_id: FromPath[UUID]
) -> directory.CustomerDetailOut:
    today = assets.local_today(_settings(request).timezone)
    return await directory.detail(db_session, customer_id, today)


@get("/assets/by-serial/{serial:str}", guards=_readers, summary="Find an asset by serial number")
async def asset_by_serial(
    request: Request[Any, Any, Any],
    db_session: Db,
    serial: Annotated[str, PathParameter(min_length=1, max_length=80)],
) -> assets.AssetLookupOut:
    today = assets.local_today(_settings(request).timezone)
    return await assets.by_serial(db_session, serial, today)


HANDLERS: list[ControllerRouterHandler] = [list_customers, get_customer, asset_by_serial]
