"""Pull cursors: opaque to clients, signed so the server can trust what comes back.

A cursor is base64url (no padding) of::

    version:u8 | txid:u64 | seq:u64 | floor_txid:u64 | floor_seq:u64 | issued_at:i64 | user_id:utf8
    followed by the first 16 bytes of HMAC-SHA256(key, everything before it)

``position`` is the log position of the last change delivered. ``floor`` is fixed by the
initial sync (a null cursor): the log head when it started. Removes at or before the floor are
not sent — a replica that started empty cannot hold those documents — and the purge horizon is
only compared against ``max(position, floor)``, so an initial sync spanning many pages is not
reset by tombstones it never needed. ``issued_at`` (unix seconds) is informational.

The signature lets the server trust the position without a lookup and makes a cursor useless to
any other user. Rotate keys by passing the previous key in ``old_keys`` for a while; a cursor no
key verifies is ``bad_cursor``, which clients handle like ``reset_required``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from collections.abc import Sequence
from typing import Final

import msgspec

from sync.errors import BadCursor
from sync.store import Position

CURSOR_VERSION: Final = 1
MAX_CURSOR_LENGTH: Final = 512
MIN_KEY_BYTES: Final = 32
_TAG_BYTES: Final = 16
_HEAD = struct.Struct(">BQQQQq")


class Cursor(msgspec.Struct, frozen=True):
    user_id: str
    position: Position
    floor: Position
    issued_at: int


def _tag(key: bytes, payload: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"cursor key must be at least {MIN_KEY_BYTES} bytes")
    return hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]


def encode_cursor(cursor: Cursor, key: bytes) -> str:
    """The opaque, signed token for ``cursor``."""
    payload = (
        _HEAD.pack(CURSOR_VERSION, *cursor.position, *cursor.floor, cursor.issued_at)
        + cursor.user_id.encode()
    )
    raw = payload + _tag(key, payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, user_id: str, key: bytes, old_keys: Sequence[bytes] = ()) -> Cursor:
    """The cursor ``token`` stands for; ``BadCursor`` if garbled, forged or another user's."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise BadCursor("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise BadCursor("cursor is not base64url") from None
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if len(payload) < _HEAD.size:
        raise BadCursor("cursor is truncated")
    if not any(hmac.compare_digest(tag, _tag(k, payload)) for k in (key, *old_keys)):
        raise BadCursor("cursor signature does not verify")
    version, txid, seq, floor_txid, floor_seq, issued_at = _HEAD.unpack_from(payload)
    if version != CURSOR_VERSION:
        raise BadCursor(f"cursor version {version} is not supported")
    try:
        owner = payload[_HEAD.size :].decode()
    except UnicodeDecodeError:
        raise BadCursor("cursor user is not UTF-8") from None
    if owner != user_id:
        raise BadCursor("cursor was issued to another user")
    return Cursor(owner, (txid, seq), (floor_txid, floor_seq), issued_at)
