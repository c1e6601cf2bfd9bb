"""Stored change bytes and spliced pull pages."""

from __future__ import annotations

import json

import msgspec
import pytest

from sync.changes import (
    PULL_PAGE_DECODER,
    PutChange,
    RemoveChange,
    encode_put,
    encode_remove,
    is_known_kind,
    splice_page,
)
from sync.kinds import KINDS, doc_key, split_key


class Doc(msgspec.Struct):
    title: str
    qty: int


def test_put_has_a_fixed_member_order_and_sorted_document_keys() -> None:
    change = encode_put("job", "j-1", 3, {"title": "泵", "b": [2, 1], "a": {"z": 1, "y": 2}})
    assert (
        change
        == (
            '{"op":"put","kind":"job","id":"j-1","v":3,'
            '"doc":{"a":{"y":2,"z":1},"b":[2,1],"title":"泵"}}'
        ).encode()
    )
    assert (
        encode_put("part", "p", 1, Doc("x", 2))
        == b'{"op":"put","kind":"part","id":"p","v":1,"doc":{"title":"x","qty":2}}'
    )


def test_remove() -> None:
    assert encode_remove("stock", "van/P-1") == b'{"op":"remove","kind":"stock","id":"van/P-1"}'


@pytest.mark.parametrize(
    ("kind", "id", "doc"),
    [("nope", "x", {}), ("job", "", {}), ("job", "x" * 201, {}), ("job", "x", [1])],
)
def test_invalid_changes_are_refused(kind: str, id: str, doc: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        encode_put(kind, id, 1, doc)


def test_spliced_page_is_valid_json_for_the_typed_decoder() -> None:
    rows = [
        encode_put("job", "a", 1, {"t": "x"}),
        encode_remove("job", "b"),
        encode_put("site", "s", 2, {}),
    ]
    for has_more in (True, False):
        page = PULL_PAGE_DECODER.decode(splice_page("AQ-_x", has_more, rows))
        assert page.cursor == "AQ-_x" and page.has_more is has_more
        assert page.changes == [
            PutChange(kind="job", id="a", v=1, body=msgspec.Raw(b'{"t":"x"}')),
            RemoveChange(kind="job", id="b"),
            PutChange(kind="site", id="s", v=2, body=msgspec.Raw(b"{}")),
        ]
        assert json.loads(splice_page("AQ-_x", has_more, rows))["changes"][1] == {
            "op": "remove",
            "kind": "job",
            "id": "b",
        }


def test_empty_page() -> None:
    assert splice_page("c", False, []) == b'{"cursor":"c","has_more":false,"changes":[]}'


def test_unknown_kinds_are_ignored_by_clients() -> None:
    change = PULL_PAGE_DECODER.decode(
        b'{"cursor":"c","has_more":false,"changes":[{"op":"put","kind":"drone","id":"d","v":1,"doc":{}}]}'
    ).changes[0]
    assert not is_known_kind(change)


def test_doc_keys() -> None:
    assert doc_key("stock", "van:7/P-1") == "stock:van:7/P-1"
    assert split_key("stock:van:7/P-1") == ("stock", "van:7/P-1")
    for bad in ("job", "job:", "nope:x", ":x"):
        with pytest.raises(ValueError):
            split_key(bad)
    assert len(set(KINDS)) == len(KINDS) == 12
