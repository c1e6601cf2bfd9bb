"""HTTP: customer sign-off links (issued by engineer, dispatcher or admin; used by the customer).

The customer routes are public (``exclude_from_auth``): the link's token is the only credential,
it reaches one report version's summary and signature, and it works once. Tokens travel in POST
bodies, never in paths or query strings, so access logs never hold a usable link.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request, post
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from server.accounts.auth import Principal, requires
from server.database import Db, begin_write
from server.reports import signoff
from server.syncing.replication import commit

Req = Request[Principal, Any, Any]


def _now() -> datetime:
    return datetime.now(UTC)


@post(
    "/reports/{report_id:uuid}/signoff-links",
    status_code=201,
    guards=[requires(*signoff.ISSUERS)],
    summary="Issue a one-time customer sign-off link for a report's latest version",
)
async def issue_link(
    request: Req, db_session: Db, report_id: FromPath[UUID], data: JSONBody[signoff.LinkIn]
) -> signoff.LinkOut:
    await begin_write(db_session)
    link = await signoff.issue(db_session, report_id, data, request.user, _now())
    await commit(db_session)
    return link


@post(
    "/signoff/view",
    status_code=200,
    exclude_from_auth=True,
    summary="Customer: the report summary a sign-off link covers",
)
async def view_link(db_session: Db, data: JSONBody[signoff.TokenIn]) -> signoff.SignoffSummary:
    opened = await signoff.open_link(db_session, data.token, _now())
    return await signoff.summary(db_session, opened)


@post(
    "/signoff/sign",
    status_code=201,
    exclude_from_auth=True,
    summary="Customer: sign the report and rate the service (once per link)",
)
async def sign_link(db_session: Db, data: JSONBody[signoff.SignIn]) -> signoff.SignOut:
    await begin_write(db_session)
    signed = await signoff.sign(db_session, data, _now())
    await commit(db_session)
    return signed


HANDLERS: list[ControllerRouterHandler] = [issue_link, view_link, sign_link]
