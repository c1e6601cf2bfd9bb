"""Request and response messages of the sync endpoints (operations live in sync.operations).

Requests forbid unknown fields: a misspelt member is an error, not silently dropped data.
``PushRequest.ops`` stays raw so that each operation is validated on its own — an invalid
operation becomes a recorded rejection instead of a 400 that would block the device's queue
forever (PROTOCOL.md §3.4).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final, Literal

import msgspec

from sync.operations import Seq

MAX_PAGE: Final = 5000
DEFAULT_PAGE: Final = 1000
MAX_BATCH: Final = 1000
MAX_PUSH_BYTES: Final = 16 * 1024 * 1024
MAX_PULL_BYTES: Final = 4096
MAX_HASHES: Final = 1000


class PullRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    protocol: int
    schema: int
    cursor: str | None = None  # over-long or garbled: bad_cursor (a reset), not bad_request
    limit: int = DEFAULT_PAGE
    device_id: uuid.UUID | None = None  # when sent, the device is bound/checked like on push


class PushRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    protocol: int
    schema: int
    device_id: uuid.UUID
    ops: list[msgspec.Raw]


class OpHeader(msgspec.Struct, frozen=True):
    """The members of an operation needed to order and deduplicate it, read leniently."""

    seq: Seq
    id: uuid.UUID
    op: str = ""


OpStatus = Literal["applied", "rejected"]


class OpResult(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one operation; stored encoded and replayed byte for byte."""

    seq: int
    id: uuid.UUID
    status: OpStatus
    code: str | None = None
    message: str | None = None
    flags: list[str] = []
    result: dict[str, Any] | None = None
    received_at: datetime


class Stopped(msgspec.Struct, frozen=True, kw_only=True):
    """Why the server stopped processing a batch at ``seq`` (a problem object, RFC 9457)."""

    code: str
    status: int
    detail: str
    seq: int
    expected_seq: int | None = None


class PushResponse(msgspec.Struct, frozen=True, kw_only=True):
    results: list[msgspec.Raw]  # encoded OpResults, in request order
    last_seq: int  # the device's last processed seq after this batch
    stopped: Stopped | None = None


class MissingBlobsRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    hashes: list[str]


class MissingBlobsResponse(msgspec.Struct, frozen=True):
    missing: list[str]


PULL_REQUEST_DECODER: Final = msgspec.json.Decoder(PullRequest)
PUSH_REQUEST_DECODER: Final = msgspec.json.Decoder(PushRequest)
PUSH_RESPONSE_DECODER: Final = msgspec.json.Decoder(PushResponse)
OP_HEADER_DECODER: Final = msgspec.json.Decoder(OpHeader)
OP_RESULT_DECODER: Final = msgspec.json.Decoder(OpResult)
MISSING_REQUEST_DECODER: Final = msgspec.json.Decoder(MissingBlobsRequest)
MISSING_RESPONSE_DECODER: Final = msgspec.json.Decoder(MissingBlobsResponse)
