"""Document kinds a replica can hold, and the ``kind:id`` document key.

The list is data in one place: the PWA, the server's scope rules and PROTOCOL.md all follow it,
and a test fails when the spec misses a kind. Adding a kind is a schema change (bump
``SCHEMA_MAX``); clients must ignore changes of kinds they do not know.
"""

from __future__ import annotations

from typing import Final

KINDS: Final[tuple[str, ...]] = (
    "job",  # work order assigned to the engineer
    "customer",  # customers of the engineer's jobs
    "site",  # sites (address, lat/lon) of those jobs
    "asset",  # assets (serial, model, warranty) at those sites
    "service_history",  # past job + report summary of one asset
    "part",  # parts catalogue
    "stock",  # stock level of one part at one location (id "<location_id>/<part_id>")
    "location",  # warehouses and vans the engineer may draw from
    "article",  # knowledge articles for the product models in the engineer's jobs
    "report",  # work reports of the engineer's jobs, with version and signature state
    "part_request",  # the engineer's part requests and their status
    "user",  # the engineer's own profile
)

MAX_ID_LENGTH: Final = 200


def doc_key(kind: str, id: str) -> str:
    """The replica key of one document; raises ``ValueError`` for an unknown kind or bad id."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    if not id or len(id) > MAX_ID_LENGTH:
        raise ValueError("document id must be 1..200 characters")
    return f"{kind}:{id}"


def split_key(key: str) -> tuple[str, str]:
    """``(kind, id)`` of a document key; ids may contain ``:``, kinds never do."""
    kind, sep, id = key.partition(":")
    if not sep or kind not in KINDS or not id:
        raise ValueError(f"not a document key: {key!r}")
    return kind, id
