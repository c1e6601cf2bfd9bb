"""The exception tree and its problem+json form."""

from __future__ import annotations

import msgspec
import pytest

from sync.errors import (
    ERRORS,
    PROBLEM_TYPE_PREFIX,
    Rejected,
    SyncError,
    UpgradeRequired,
    error_from_problem,
    problem_json,
)


@pytest.mark.parametrize("cls", list(ERRORS.values()))
def test_every_error_survives_the_wire(cls: type[SyncError]) -> None:
    error = cls("what happened", seq=4)
    doc = msgspec.json.decode(problem_json(error, instance="/sync/push"))
    assert doc == {
        "type": PROBLEM_TYPE_PREFIX + cls.code,
        "title": cls.title,
        "status": cls.status,
        "detail": "what happened",
        "code": cls.code,
        "instance": "/sync/push",
        "seq": 4,
    }
    back = error_from_problem(cls.status, problem_json(error))
    assert type(back) is cls and back.detail == "what happened" and back.extra == {"seq": 4}


def test_codes_are_unique_and_statuses_are_http() -> None:
    codes = [c.code for c in ERRORS.values()]
    assert len(codes) == len(set(codes))
    assert all(400 <= c.status < 600 for c in ERRORS.values())


def test_extra_members_cannot_override_the_standard_ones() -> None:
    doc = msgspec.json.decode(
        problem_json(UpgradeRequired("x", status=200, code="ok", schema_max=1))
    )
    assert (doc["status"], doc["code"], doc["schema_max"]) == (426, "upgrade_required", 1)


def test_unknown_codes_and_non_json_bodies_keep_the_status() -> None:
    unknown = error_from_problem(418, b'{"code":"teapot","detail":"short and stout"}')
    assert (type(unknown), unknown.code, unknown.status, unknown.detail) == (
        SyncError,
        "teapot",
        418,
        "short and stout",
    )
    html = error_from_problem(502, b"<html>bad gateway</html>")
    assert html.status == 502 and "bad gateway" in html.detail


def test_rejected_carries_a_business_code() -> None:
    r = Rejected(
        "stale_transition", "job moved on", flags=["conflict"], result={"status": "on_site"}
    )
    assert (r.code, r.message, r.flags, r.result) == (
        "stale_transition",
        "job moved on",
        ("conflict",),
        {"status": "on_site"},
    )
    assert "rejected" not in ERRORS  # never an HTTP error
