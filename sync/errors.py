"""The one exception tree of the sync package, and its RFC 9457 form.

Every error has a stable machine ``code`` and an HTTP ``status``; clients branch on the code,
never on the message. The server turns a ``SyncError`` into problem+json with
``problem_json`` (one place), and the reference client turns such a document back into the
same exception class with ``error_from_problem``, so both sides share one vocabulary.

``Rejected`` is the odd one out: a business handler raises it to refuse one operation; the push
engine records it as that operation's result and it never becomes an HTTP response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

PROBLEM_TYPE_PREFIX = "urn:fieldsync:problem:"


class SyncError(Exception):
    """Base of every sync error; ``extra`` holds additional problem members."""

    code: str = "sync_error"
    status: int = 500
    title: str = "Sync error"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra: dict[str, Any] = extra


class BadRequest(SyncError):
    code = "bad_request"
    status = 400
    title = "Malformed or invalid request"


class BadCursor(BadRequest):
    code = "bad_cursor"
    title = "Cursor is not valid for this user"


class BlobHashMismatch(BadRequest):
    code = "blob_hash_mismatch"
    title = "Uploaded bytes do not match the SHA-256 in the URL"


class BlobTypeInvalid(SyncError):
    code = "blob_type_invalid"
    status = 415
    title = "Unsupported content type, or bytes are not of the declared type"


class Unauthorized(SyncError):
    code = "unauthorized"
    status = 401
    title = "Missing, invalid or expired access token"


class DeviceMismatch(SyncError):
    code = "device_mismatch"
    status = 403
    title = "Device is bound to another user"


class NotFound(SyncError):
    code = "not_found"
    status = 404
    title = "No such resource"


class ResetRequired(SyncError):
    code = "reset_required"
    status = 409
    title = "Cursor is older than the retained log; push the outbox, wipe, pull from null"


class OutOfOrder(SyncError):
    code = "out_of_order"
    status = 409
    title = "Operation sequence has a gap"


class IdConflict(SyncError):
    code = "id_conflict"
    status = 409
    title = "Sequence number already used by a different operation"


class PayloadTooLarge(SyncError):
    code = "payload_too_large"
    status = 413
    title = "Request body, batch or file is over the limit"


class UpgradeRequired(SyncError):
    code = "upgrade_required"
    status = 426
    title = "Client protocol or schema version is not supported"


class Unavailable(SyncError):
    """The server (or the network to it) is unavailable; retry with backoff."""

    code = "unavailable"
    status = 503
    title = "Service unavailable, retry later"


class Rejected(SyncError):
    """A business rule refused one operation: recorded as its result, never an HTTP error."""

    code = "rejected"
    status = 422
    title = "Operation rejected"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        flags: Sequence[str] = (),
        result: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.flags = tuple(flags)
        self.result = dict(result) if result is not None else None


class _Problem(msgspec.Struct):
    status: int = 500
    code: str = "sync_error"
    detail: str = ""


_PROBLEM_DECODER = msgspec.json.Decoder(_Problem)
_RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})


def _classes(root: type[SyncError]) -> list[type[SyncError]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_classes(sub))
    return found


ERRORS: dict[str, type[SyncError]] = {c.code: c for c in _classes(SyncError) if c is not Rejected}
"""Every HTTP-visible error class by code; PROTOCOL.md's error table lists exactly these."""


def problem_json(error: SyncError, instance: str | None = None) -> bytes:
    """The RFC 9457 ``application/problem+json`` body for ``error``."""
    doc: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if instance is not None:
        doc["instance"] = instance
    doc.update((k, v) for k, v in error.extra.items() if k not in _RESERVED)
    return msgspec.json.encode(doc)


def error_from_problem(status: int, body: bytes) -> SyncError:
    """Rebuild the exception a server sent (client side); unknown codes keep their status."""
    try:
        problem = _PROBLEM_DECODER.decode(body)
        extra = msgspec.json.decode(body, type=dict[str, Any])
    except msgspec.DecodeError:
        problem, extra = _Problem(status=status, detail=body[:200].decode(errors="replace")), {}
    extra = {k: v for k, v in extra.items() if k not in _RESERVED}
    cls = ERRORS.get(problem.code)
    if cls is None or cls is SyncError:
        error = SyncError(problem.detail, **extra)
        error.code, error.status = problem.code, status  # keep what the server said
        return error
    return cls(problem.detail, **extra)
