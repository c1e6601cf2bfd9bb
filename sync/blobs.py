"""Files out of band: content-addressed, idempotent uploads of signatures and photos.

A file is named by the SHA-256 of its bytes, so an upload can be retried or repeated at any
time with no effect beyond the first, and an operation can refer to a file before it arrives
(the handler flags it ``pending_blob``; the operation is never held back for it). The server
trusts nothing it is told: it recomputes the hash and checks the bytes' magic number against
the declared type.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Final

import msgspec

from sync.errors import BadRequest, BlobHashMismatch, BlobTypeInvalid, PayloadTooLarge
from sync.messages import MAX_HASHES, MISSING_REQUEST_DECODER, MissingBlobsResponse
from sync.outcome import PENDING_BLOB
from sync.store import Blob, Store, StoreTx

MAX_BLOB_BYTES: Final = 2 * 1024 * 1024
MAX_MISSING_BYTES: Final = 128 * 1024
CONTENT_TYPES: Final = ("image/png", "image/jpeg", "image/webp")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_hash(sha256: str) -> str:
    """``sha256`` if it is 64 lower-case hex digits, else ``BadRequest``."""
    if not _SHA256_HEX.fullmatch(sha256):
        raise BadRequest("a blob hash is 64 lower-case hex digits")
    return sha256


def sniff(data: bytes) -> str | None:
    """The image type the bytes' magic number says, if it is one we accept."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def validate_blob(sha256: str, content_type: str, data: bytes) -> Blob:
    """The blob to store, after every check an upload must pass (cheapest first)."""
    check_hash(sha256)
    if len(data) > MAX_BLOB_BYTES:
        raise PayloadTooLarge(f"a file is at most {MAX_BLOB_BYTES} bytes")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        raise BlobTypeInvalid(f"content type must be one of {', '.join(CONTENT_TYPES)}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise BlobHashMismatch(f"bytes hash to {actual}", actual=actual)
    if sniff(data) != media_type:
        raise BlobTypeInvalid(f"bytes are not {media_type}")
    return Blob(sha256=sha256, content_type=media_type, data=data)


async def put_blob(store: Store[StoreTx], sha256: str, content_type: str, data: bytes) -> bool:
    """PUT /sync/blobs/{sha256}: validate and store; True if new, False if already stored."""
    blob = validate_blob(sha256, content_type, data)
    async with store.transaction() as tx:
        return await tx.put_blob(blob)


async def missing_blobs(store: Store[StoreTx], body: bytes) -> bytes:
    """POST /sync/blobs/missing: ``{"hashes": [...]}`` -> ``{"missing": [...]}``."""
    if len(body) > MAX_MISSING_BYTES:
        raise PayloadTooLarge(f"body is over {MAX_MISSING_BYTES} bytes")
    try:
        request = MISSING_REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(str(exc)) from None
    if len(request.hashes) > MAX_HASHES:
        raise PayloadTooLarge(f"ask about at most {MAX_HASHES} hashes at once")
    hashes = list(dict.fromkeys(check_hash(h) for h in request.hashes))
    async with store.transaction(write=False) as tx:
        missing = await tx.missing_blobs(hashes)
    return msgspec.json.encode(MissingBlobsResponse(missing=missing))


async def pending_flags(tx: StoreTx, hashes: Iterable[str]) -> tuple[str, ...]:
    """``("pending_blob",)`` if any referenced file is not stored yet — for handlers."""
    wanted = list(hashes)
    return (PENDING_BLOB,) if wanted and await tx.missing_blobs(wanted) else ()
