"""POST /sync/pull: the next page of a user's replica log after a cursor.

Guarantees (PROTOCOL.md §2): a client that keeps pulling with the cursor it was given sees the
latest committed state of every document in its scope, and never misses a change — a put, a
remove, or a scope change expressed as one of the two. Intermediate states of one document may
be collapsed into its latest one. If the log can no longer prove that (a remove the client may
not have seen was purged), the answer is ``reset_required``, never a silent gap.

A pull is a read-only transaction; the only write — binding a device seen for the first time —
happens in its own short transaction afterwards. Order of reads matters under READ COMMITTED:
the rows are read first and the horizon after, so a purge that commits in between is always
noticed (a false reset, never a missed remove).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from sync.changes import splice_page
from sync.cursor import Cursor, decode_cursor, encode_cursor
from sync.errors import BadRequest, DeviceMismatch, PayloadTooLarge, ResetRequired
from sync.messages import MAX_PAGE, MAX_PULL_BYTES, PULL_REQUEST_DECODER, PullRequest
from sync.store import START, Store, StoreTx
from sync.versions import check_versions


def decode_pull(body: bytes) -> PullRequest:
    """Validate a pull body: size, versions (first), then the typed message."""
    if len(body) > MAX_PULL_BYTES:
        raise PayloadTooLarge(f"pull body is over {MAX_PULL_BYTES} bytes")
    check_versions(body)
    try:
        request = PULL_REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(str(exc)) from None
    if request.limit < 1:
        raise BadRequest("limit must be at least 1")
    return request


async def pull(
    store: Store[StoreTx],
    user_id: str,
    body: bytes,
    *,
    key: bytes,
    now: datetime,
    old_keys: tuple[bytes, ...] = (),
) -> bytes:
    """Answer one pull request of ``user_id`` with the response body (``application/json``)."""
    request = decode_pull(body)
    limit = min(request.limit, MAX_PAGE)
    cursor = None
    if request.cursor is not None:
        cursor = decode_cursor(request.cursor, user_id, key, old_keys)
    async with store.transaction(write=False) as tx:
        device = None if request.device_id is None else await tx.device(request.device_id)
        if device is not None and device.user_id != user_id:
            raise DeviceMismatch("this device is bound to another user")
        if cursor is None:
            after = START
            floor = max(await tx.head(user_id), await tx.horizon(user_id))
        else:
            after, floor = cursor.position, cursor.floor
        # limit + 1 rows tell whether another page exists, without a count query
        rows = await tx.read_changes(user_id, after, max(after, floor), limit + 1)
        if await tx.horizon(user_id) > max(after, floor):
            raise ResetRequired(
                "changes after this cursor were compacted away: push the outbox, wipe the "
                "replica, then pull with a null cursor"
            )
    if request.device_id is not None and device is None:
        await _bind(store, request.device_id, user_id)
    has_more = len(rows) > limit
    rows = rows[:limit]
    position = rows[-1][0] if rows else after
    token = encode_cursor(Cursor(user_id, position, floor, int(now.timestamp())), key)
    return splice_page(token, has_more, [change for _, change in rows])


async def _bind(store: Store[StoreTx], device_id: uuid.UUID, user_id: str) -> None:
    """First sight of a device: bind it (once per device, so pulls stay read-only after)."""
    async with store.transaction() as tx:
        device = await tx.claim_device(device_id, user_id)
    if device.user_id != user_id:  # another user claimed it a moment ago
        raise DeviceMismatch("this device is bound to another user")
