"""HTTP: the engineer's job list and job detail; the dispatcher's intake, jobs and assignment.

Guards decide which roles may use an endpoint (403 otherwise); ``access.visible_job`` decides
which job a caller may see (404 otherwise, so an engineer cannot probe other engineers' jobs).
Writes call ``begin_write`` first and ``commit`` last (engineers' replica logs follow the
jobs they change, in the same transaction). Committing inside the handler means a failed commit
is an error answer, never a 2xx; a refused request rolls back and leaves the database as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from server.accounts.auth import Principal, requires
from server.customers.assets import local_today
from server.database import Db, begin_write
from server.jobs import detail, dispatch, intake, suggestions, worklist
from server.jobs.access import visible_job
from server.queries import Limit, Offset
from server.settings import Settings
from server.syncing.replication import commit

Req = Request[Principal, Any, Any]

_engineer = [requires("engineer")]
_job_readers = [requires("engineer", "dispatcher", "manager", "admin")]
_desk_readers = [requires("dispatcher", "manager", "admin")]
_desk_writers = [requires("dispatcher", "admin")]


def _settings(request: Req) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _now() -> datetime:
    return datetime.now(UTC)


# --- engineer ------------------------------------------------------------------------------


@get("/me/jobs", guards=_engineer, summary="My jobs for a span of days, by schedule or distance")
async def my_jobs(
    request: Req,
    db_session: Db,
    # Taken as text and parsed by ``worklist.span`` so an error names ``from``/``to``, not the
    # Python names Litestar would report.
    date_from: Annotated[str | None, QueryParameter(name="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, QueryParameter(name="to", description="YYYY-MM-DD")] = None,
    order: Annotated[worklist.Order, QueryParameter(name="order")] = "schedule",
    lat: Annotated[float | None, QueryParameter(ge=-90, le=90)] = None,
    lon: Annotated[float | None, QueryParameter(ge=-180, le=180)] = None,
) -> list[worklist.JobSummary]:
    window = worklist.span(date_from, date_to, _settings(request).timezone)
    return await worklist.my_jobs(db_session, request.user.id, window, order, lat, lon)


@get(
    "/jobs/{job_id:uuid}", guards=_job_readers, summary="A job with customer, site, asset, history"
)
async def get_job(request: Req, db_session: Db, job_id: FromPath[UUID]) -> detail.JobDetail:
    job = await visible_job(db_session, job_id, request.user)
    return await detail.job_detail(db_session, job, local_today(_settings(request).timezone))


# --- dispatcher: intake --------------------------------------------------------------------


@post("/requests", guards=_desk_writers, summary="Record a service request")
async def create_request(
    request: Req, db_session: Db, data: JSONBody[intake.RequestIn]
) -> intake.RequestOut:
    await begin_write(db_session)
    created = await intake.create_request(
        db_session, data, actor_id=request.user.id, now=_now(), settings=_settings(request)
    )
    await commit(db_session)
    return intake.request_out(created)


@get("/requests", guards=_desk_readers, summary="Service requests, newest first (paged)")
async def list_requests(
    db_session: Db,
    status: Annotated[intake.RequestStatus | None, QueryParameter(name="status")] = None,
    urgency: Annotated[intake.Urgency | None, QueryParameter(name="urgency")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[intake.RequestOut]:
    return await intake.list_requests(db_session, status, urgency, limit, offset)


@get("/requests/{request_id:uuid}", guards=_desk_readers, summary="A service request and its jobs")
async def get_request(db_session: Db, request_id: FromPath[UUID]) -> intake.RequestOut:
    return await intake.get_request(db_session, request_id)


# --- dispatcher: jobs ----------------------------------------------------------------------


@post("/jobs", guards=_desk_writers, summary="Open a job (work order) for a request")
async def create_job(
    request: Req, db_session: Db, data: JSONBody[dispatch.JobIn]
) -> dispatch.JobOut:
    await begin_write(db_session)
    job = await dispatch.create_job(db_session, data, now=_now(), settings=_settings(request))
    await commit(db_session)
    return dispatch.job_out(job)


@get(
    "/jobs/{job_id:uuid}/suggestions",
    guards=_desk_readers,
    summary="Engineers ranked for a job by skill, distance and load",
)
async def suggest_engineers(
    request: Req,
    db_session: Db,
    job_id: FromPath[UUID],
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 5,
) -> list[suggestions.SuggestionOut]:
    job = await visible_job(db_session, job_id, request.user)
    return await suggestions.suggest(db_session, job, limit)


@post(
    "/jobs/{job_id:uuid}/assign",
    status_code=200,
    guards=_desk_writers,
    summary="Assign, reassign or reschedule a job",
)
async def assign_job(
    request: Req, db_session: Db, job_id: FromPath[UUID], data: JSONBody[dispatch.AssignIn]
) -> dispatch.JobOut:
    await begin_write(db_session)
    job = await visible_job(db_session, job_id, request.user, for_update=True)
    await dispatch.assign(db_session, job, data, actor=request.user, now=_now())
    await commit(db_session)
    return dispatch.job_out(job)


@post("/jobs/{job_id:uuid}/cancel", status_code=200, guards=_desk_writers, summary="Cancel a job")
async def cancel_job(
    request: Req,
    db_session: Db,
    job_id: FromPath[UUID],
    data: JSONBody[dispatch.CancelIn | None] = None,
) -> dispatch.JobOut:
    """The body (a reason) is optional; an empty body cancels without one."""
    await begin_write(db_session)
    job = await visible_job(db_session, job_id, request.user, for_update=True)
    reason = data.reason if data else ""
    await dispatch.cancel(db_session, job, reason, actor=request.user, now=_now())
    await commit(db_session)
    return dispatch.job_out(job)


HANDLERS: list[ControllerRouterHandler] = [
    my_jobs,
    get_job,
    create_request,
    list_requests,
    get_request,
    create_job,
    suggest_engineers,
    assign_job,
    cancel_job,
]
