"""Changes: what a replica log stores, and the pull page spliced from them.

A change is encoded once, when it is written, into the exact bytes every pull will send:
``{"op":"put","kind":"job","id":"…","v":3,"doc":{…}}`` or ``{"op":"remove","kind":"job",
"id":"…"}``. Member order is fixed and document keys are sorted, so equal content gives equal
bytes. A pull page is then built by splicing those bytes into the response frame — never by
decoding and re-encoding them, which is what keeps a 10k-document initial sync cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from sync.kinds import KINDS, doc_key


class PutChange(msgspec.Struct, tag_field="op", tag="put", frozen=True):
    """A document's latest state. The document stays the bytes the server sent (``body``, the
    wire's ``doc`` member) and ``doc`` decodes them on demand: a device stores and compares the
    bytes (documents are canonical JSON, so equal bytes mean equal content), and decoding every
    document of a 10k-document initial sync into dicts would cost a client more than
    reading the pages does."""

    kind: str
    id: str
    v: int
    body: msgspec.Raw = msgspec.field(name="doc")

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def doc(self) -> dict[str, Any]:
        """The document, decoded (a new dict on every call)."""
        doc: dict[str, Any] = _DOC_DECODER.decode(self.body)
        return doc


class RemoveChange(msgspec.Struct, tag_field="op", tag="remove", frozen=True):
    kind: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


Change = PutChange | RemoveChange


class _PutHead(msgspec.Struct, tag_field="op", tag="put", frozen=True):
    kind: str
    id: str
    v: int


class PullPage(msgspec.Struct, frozen=True):
    """A pull response as a client decodes it."""

    cursor: str
    has_more: bool
    changes: list[Change]


PULL_PAGE_DECODER = msgspec.json.Decoder(PullPage)
_DOC_DECODER = msgspec.json.Decoder(dict[str, Any])
_ENCODER = msgspec.json.Encoder(order="deterministic")


def encode_put(kind: str, id: str, version: int, doc: Any) -> bytes:
    """The stored bytes of a put; ``doc`` is anything msgspec encodes to a JSON object."""
    doc_key(kind, id)  # validates kind and id
    body = _ENCODER.encode(doc)
    if not body.startswith(b"{"):
        raise TypeError("a document must encode to a JSON object")
    head = _ENCODER.encode(_PutHead(kind=kind, id=id, v=version))
    # splice the document in: it is encoded once, with its keys sorted, and "op" stays first
    return head[:-1] + b',"doc":' + body + b"}"


def encode_remove(kind: str, id: str) -> bytes:
    """The stored bytes of a remove (a tombstone until purged)."""
    doc_key(kind, id)
    return _ENCODER.encode(RemoveChange(kind=kind, id=id))


def splice_page(cursor: str, has_more: bool, changes: Sequence[bytes]) -> bytes:
    """The pull response body: the frame around the stored change bytes, untouched."""
    return b"".join(
        (
            b'{"cursor":',
            msgspec.json.encode(cursor),
            b',"has_more":true,"changes":[' if has_more else b',"has_more":false,"changes":[',
            b",".join(changes),
            b"]}",
        )
    )


def is_known_kind(change: Change) -> bool:
    """Clients ignore changes of kinds they do not know (added by a later schema)."""
    return change.kind in KINDS
