"""Canonical JSON and the report hash a customer's signature is bound to.

The device computes ``report_sha256`` offline from what the customer saw; the server recomputes
it from the stored report; the two must agree byte for byte, in Python and in the PWA's
JavaScript. So the form is deliberately narrow — the integer-only subset of RFC 8785 (JCS),
plus Unicode NFC so that the same text typed on two keyboards hashes the same:

- UTF-8, no whitespace, object keys sorted by UTF-16 code units (JavaScript's default sort);
- strings NFC-normalised, escaped exactly like ECMAScript ``JSON.stringify``;
- numbers are integers within +-(2**53 - 1); floats are refused (no portable text form);
- ``true``/``false``/``null``, arrays in order. Anything else (or a lone surrogate) is refused.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

import msgspec

MAX_SAFE_INTEGER: Final = 2**53 - 1

REPORT_FIELDS: Final[tuple[str, ...]] = (
    "report_id",
    "job_id",
    "diagnosis",
    "root_cause_category",
    "root_cause",
    "prevention",
    "actions",
    "labour_minutes",
    "parts",
)
"""Exactly the members of the hashed report form; ``parts`` is ``[{"part_id", "qty"}, ...]``."""

_SHORT_ESCAPES: Final = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _SHORT_ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def _string(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("canonical JSON refuses lone surrogates") from None
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _value(obj: object, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        if abs(obj) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {obj} is outside the JSON-safe range")
        out.append(str(obj))
    elif isinstance(obj, str):
        out.append(_string(obj))
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _value(item, out)
        out.append("]")
    elif isinstance(obj, Mapping):
        _object(obj, out)
    else:
        raise TypeError(f"canonical JSON has no form for {type(obj).__name__}")


def _object(obj: Mapping[object, object], out: list[str]) -> None:
    members: dict[str, object] = {}
    for key, item in obj.items():
        if not isinstance(key, str):
            raise TypeError("canonical JSON object keys must be strings")
        norm = unicodedata.normalize("NFC", key)
        if norm in members:
            raise ValueError(f"keys collide after NFC normalisation: {key!r}")
        members[norm] = item
    out.append("{")
    for i, key in enumerate(sorted(members, key=_utf16_order)):
        if i:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _value(members[key], out)
    out.append("}")


def canonical_json(obj: object) -> bytes:
    """The canonical UTF-8 JSON bytes of ``obj`` (see the module docstring for the rules)."""
    out: list[str] = []
    _value(obj, out)
    return "".join(out).encode("utf-8")


def report_hash(fields: Mapping[str, object]) -> str:
    """Lower-case hex SHA-256 of the canonical report form; keys must be ``REPORT_FIELDS``."""
    if set(fields) != set(REPORT_FIELDS):
        missing = sorted(set(REPORT_FIELDS) - set(fields))
        extra = sorted(set(fields) - set(REPORT_FIELDS))
        raise ValueError(f"report form mismatch: missing {missing}, unexpected {extra}")
    return hashlib.sha256(_report_form_json(fields)).hexdigest()


_SORTED_KEYS: Final = msgspec.json.Encoder(order="sorted")


def _report_form_json(fields: Mapping[str, object]) -> bytes:
    """``canonical_json(fields)``, fast for the form every report has: strings, safe integers
    and ``parts`` of ``{"part_id": str, "qty": int}``. For those, msgspec (sorting keys, all
    ASCII here, so code-point and UTF-16 order agree) escapes exactly as the rules above once
    strings are NFC (``tests/sync/test_canonical.py`` checks the two agree); a server hashes
    every submitted report, and the general encoder is pure Python. Any other shape, or any
    value the rules refuse, takes the general path (which also raises the right error)."""
    form: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "parts" and type(value) is list:
            parts = [_part(p) for p in value]
            if None in parts:
                return canonical_json(fields)
            form[key] = parts
        elif (simple := _simple(value)) is None:
            return canonical_json(fields)
        else:
            form[key] = simple
    try:
        return _SORTED_KEYS.encode(form)
    except UnicodeEncodeError:  # a lone surrogate
        return canonical_json(fields)


def _simple(value: object) -> str | int | None:
    if type(value) is str:
        return unicodedata.normalize("NFC", value)
    if type(value) is int and abs(value) <= MAX_SAFE_INTEGER:
        return value
    return None


def _part(part: object) -> dict[str, str | int] | None:
    if type(part) is not dict or part.keys() != {"part_id", "qty"}:
        return None
    part_id, qty = _simple(part["part_id"]), _simple(part["qty"])
    if type(part_id) is not str or type(qty) is not int:
        return None
    return {"part_id": part_id, "qty": qty}
