"""Cursors: opaque, signed, bound to one user."""

from __future__ import annotations

import base64

import pytest

from sync.cursor import Cursor, decode_cursor, encode_cursor
from sync.errors import BadCursor

KEY = b"k" * 32
CURSOR = Cursor("0190f3a2-aaaa-7000-8000-000000000001", (2**63, 12), (5, 2**40), 1763895600)


def test_round_trip() -> None:
    token = encode_cursor(CURSOR, KEY)
    assert decode_cursor(token, CURSOR.user_id, KEY) == CURSOR
    assert token.isascii() and "=" not in token and "+" not in token and "/" not in token


def test_every_byte_is_protected() -> None:
    raw = bytearray(base64.urlsafe_b64decode(encode_cursor(CURSOR, KEY) + "=="))
    for i in range(len(raw)):
        forged = bytearray(raw)
        forged[i] ^= 0x01
        token = base64.urlsafe_b64encode(bytes(forged)).rstrip(b"=").decode()
        with pytest.raises(BadCursor):
            decode_cursor(token, CURSOR.user_id, KEY)


def test_another_users_cursor_is_bad() -> None:
    with pytest.raises(BadCursor, match="another user"):
        decode_cursor(encode_cursor(CURSOR, KEY), "someone-else", KEY)


def test_old_keys_verify_during_rotation() -> None:
    token = encode_cursor(CURSOR, b"o" * 32)
    with pytest.raises(BadCursor, match="signature"):
        decode_cursor(token, CURSOR.user_id, KEY)
    assert decode_cursor(token, CURSOR.user_id, KEY, [b"o" * 32]) == CURSOR


def test_unknown_version_is_bad() -> None:
    import hashlib
    import hmac

    payload = b"\x02" + bytes(40) + b"u"
    tag = hmac.new(KEY, payload, hashlib.sha256).digest()[:16]
    token = base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode()
    with pytest.raises(BadCursor, match="version"):
        decode_cursor(token, "u", KEY)


@pytest.mark.parametrize("token", ["", "AAAA", "a" * 513, "not base64 ✓", "A"])
def test_garbage_is_bad(token: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(token, "u", KEY)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        encode_cursor(CURSOR, b"short")
