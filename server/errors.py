"""The server's exception tree and the one place where every error becomes RFC 9457 problem+json.

Business rules raise :class:`DomainError` subclasses; the sync engine raises
``sync.errors.SyncError``; Litestar raises ``HTTPException`` (validation, auth, size limits).
:func:`exception_handlers` turns all of them — and anything unexpected, as an opaque 500 —
into ``application/problem+json``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import IntegrityError, OperationalError

log = logging.getLogger("fieldsync.errors")
_NAMED_FIELD = re.compile(r"field `([^`]+)`")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://fieldsync.dev/problems/"


class DomainError(Exception):
    """A business rule refused the request. ``code`` is stable and documented."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    """Also used for objects the caller may not see, so existence never leaks."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 400
    code = "invalid"


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
    return problem(exc.status, exc.code, exc.detail, errors=errors, **exc.extra)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, ValidationException) or status == 400:
        errors = _field_errors(exc.extra)
        return problem(400, "invalid", _validation_detail(exc.detail, errors), errors=errors)
    codes = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        429: "rate_limited",
    }
    code = codes.get(status, "http_error")
    return problem(status, code, str(exc.detail), headers=exc.headers)


def _field_errors(extra: Any) -> list[dict[str, Any]] | None:
    """Litestar's validation extras -> [{field, message}], naming the offending field."""
    if not isinstance(extra, list):
        return None
    out = []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", ""))
            field = item.get("key")
            # A missing or unknown field is reported against the whole body ("data"); the
            # message names the real field, which is what a client needs to point at.
            named = _NAMED_FIELD.search(message)
            if field in (None, "data") and named:
                field = named.group(1)
            out.append({"field": field, "message": message})
    return out or None


def _validation_detail(detail: str, errors: list[dict[str, Any]] | None) -> str:
    if errors and errors[0].get("message"):
        first = errors[0]
        where = f" at `{first['field']}`" if first.get("field") else ""
        return f"{first['message']}{where}"
    return detail or "invalid request"


def _integrity(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    return problem(409, "conflict", "the change conflicts with existing data")


def _unavailable(request: Request[Any, Any, Any], exc: OperationalError) -> Response[Any]:
    log.warning("database unavailable: %s: %s", type(exc.orig).__name__, exc.orig)
    return problem(
        503, "unavailable", "the database is unavailable; retry later", headers={"Retry-After": "2"}
    )


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal", "internal error")


def exception_handlers() -> ExceptionHandlersMap:
    from sync.errors import SyncError, problem_json

    def _sync(request: Request[Any, Any, Any], exc: SyncError) -> Response[Any]:
        return Response(problem_json(exc), status_code=exc.status, media_type=PROBLEM)

    return {
        DomainError: _domain,
        SyncError: _sync,
        HTTPException: _http,
        IntegrityError: _integrity,
        OperationalError: _unavailable,
        Exception: _internal,
    }
