"""Version checks come first and only look at the two version members."""

from __future__ import annotations

import pytest

from sync.errors import BadRequest, UpgradeRequired
from sync.versions import check_versions


def test_supported_versions_pass() -> None:
    env = check_versions(b'{"protocol":1,"schema":1,"whatever":[1,2,{"x":null}]}')
    assert (env.protocol, env.schema) == (1, 1)


@pytest.mark.parametrize(
    "body", [b'{"protocol":2,"schema":1}', b'{"protocol":1,"schema":0}', b'{"schema":1}', b"{}"]
)
def test_unsupported_versions_need_an_upgrade(body: bytes) -> None:
    with pytest.raises(UpgradeRequired) as caught:
        check_versions(body)
    assert caught.value.status == 426
    assert caught.value.extra == {
        "protocol_min": 1,
        "protocol_max": 1,
        "schema_min": 1,
        "schema_max": 1,
    }


@pytest.mark.parametrize(
    "body", [b"", b"[1]", b'{"protocol":"1","schema":1}', b'{"protocol":1.5}', b"{"]
)
def test_unreadable_versions_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequest):
        check_versions(body)
