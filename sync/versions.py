"""Protocol and schema versions the server speaks, checked before anything else.

``protocol`` versions the wire (endpoints, message framing, cursor rules); ``schema`` versions
the content (operation types and fields, document kinds). Every request carries both. The check
decodes only these two members, leniently, so a client from another era gets a clean
``upgrade_required`` instead of a validation error about fields it cannot know — and its queue is
never touched.
"""

from __future__ import annotations

from typing import Final

import msgspec

from sync.errors import BadRequest, UpgradeRequired

PROTOCOL_MIN: Final = 1
PROTOCOL_MAX: Final = 1
SCHEMA_MIN: Final = 1
SCHEMA_MAX: Final = 1


class Envelope(msgspec.Struct):
    """The two members every request body has; a missing one counts as version 0."""

    protocol: int = 0
    schema: int = 0


_ENVELOPE = msgspec.json.Decoder(Envelope)


def check_versions(body: bytes) -> Envelope:
    """Raise ``UpgradeRequired`` unless both versions of ``body`` are in the supported range."""
    try:
        env = _ENVELOPE.decode(body)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"protocol/schema: {exc}") from None
    except msgspec.DecodeError:
        raise BadRequest("body is not a JSON object") from None
    if not (
        PROTOCOL_MIN <= env.protocol <= PROTOCOL_MAX and SCHEMA_MIN <= env.schema <= SCHEMA_MAX
    ):
        raise UpgradeRequired(
            f"client speaks protocol {env.protocol} schema {env.schema}; server supports "
            f"protocol {PROTOCOL_MIN}..{PROTOCOL_MAX} schema {SCHEMA_MIN}..{SCHEMA_MAX}",
            protocol_min=PROTOCOL_MIN,
            protocol_max=PROTOCOL_MAX,
            schema_min=SCHEMA_MIN,
            schema_max=SCHEMA_MAX,
        )
    return env
