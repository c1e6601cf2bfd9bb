"""Operations v1 on the wire: tags, bounds, and the one decoder."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest

from sync.operations import OPERATION_DECODER, OPERATION_TYPES, op_name

HEAD = {"seq": 1, "id": str(uuid.uuid4()), "at": "2025-11-23T09:15:00+08:00"}
SHA = "ab" * 32
VALID: dict[str, dict[str, Any]] = {
    "job.status": {"job_id": "j1", "to": "on_site", "base_status": "en_route"},
    "job.note": {"job_id": "j1", "text": "", "base_version": 0},
    "report.submit": {
        "report_id": str(uuid.uuid4()),
        "job_id": "j1",
        "diagnosis": "d",
        "root_cause_category": "wear",
        "root_cause": "r",
        "prevention": "p",
        "actions": "a",
        "labour_minutes": 0,
        "parts": [{"part_id": "P-1", "qty": 2}],
    },
    "part.consume": {"job_id": None, "part_id": "P-1", "location_id": "van", "qty": 1},
    "part.request": {"request_id": str(uuid.uuid4()), "job_id": "j1", "part_id": "P-1", "qty": 3},
    "signature.capture": {
        "signature_id": str(uuid.uuid4()),
        "report_id": str(uuid.uuid4()),
        "report_version": 1,
        "signer_name": "王",
        "image_sha256": SHA,
        "report_sha256": SHA,
    },
    "feedback.submit": {
        "feedback_id": str(uuid.uuid4()),
        "job_id": "j1",
        "attitude": 1,
        "efficiency": 5,
        "quality": 3,
    },
}
INVALID: list[tuple[str, dict[str, Any]]] = [
    ("job.status", {"to": "assigned"}),
    ("job.status", {"note": "n" * 2001}),
    ("job.note", {"base_version": -1}),
    ("report.submit", {"labour_minutes": 10_001}),
    ("report.submit", {"parts": [{"part_id": "P-1", "qty": 0}]}),
    ("report.submit", {"parts": [{"part_id": "P-1", "qty": 1, "price": 3}]}),
    ("report.submit", {"root_cause_category": ""}),
    ("part.consume", {"qty": 0}),
    ("part.consume", {"qty": -2}),
    ("part.consume", {"location_id": ""}),
    ("part.request", {"qty": 100_001}),
    ("signature.capture", {"image_sha256": SHA.upper()}),
    ("signature.capture", {"report_sha256": "ab"}),
    ("signature.capture", {"report_version": 0}),
    ("signature.capture", {"signer_name": ""}),
    ("feedback.submit", {"quality": 0}),
    ("feedback.submit", {"attitude": 6}),
    ("feedback.submit", {"comment": "c" * 2001}),
]


def encode(tag: str, **changes: Any) -> bytes:
    return msgspec.json.encode({"op": tag, **HEAD, **VALID[tag], **changes})


def test_every_type_has_a_valid_example() -> None:
    assert sorted(VALID) == sorted(op_name(t) for t in OPERATION_TYPES)


@pytest.mark.parametrize("tag", sorted(VALID))
def test_valid_operations_round_trip(tag: str) -> None:
    op = OPERATION_DECODER.decode(encode(tag))
    assert op_name(type(op)) == tag
    assert OPERATION_DECODER.decode(msgspec.json.encode(op)) == op


@pytest.mark.parametrize(("tag", "changes"), INVALID)
def test_bounds_are_enforced(tag: str, changes: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        OPERATION_DECODER.decode(encode(tag, **changes))


@pytest.mark.parametrize(
    "head", [{"seq": 0}, {"seq": 2**53}, {"at": "2025-11-23T09:15:00"}, {"id": "x"}]
)
def test_common_members_are_enforced(head: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        OPERATION_DECODER.decode(encode("job.note", **head))


def test_optional_members_have_defaults() -> None:
    data = {"op": "part.consume", **HEAD, "part_id": "P", "location_id": "L", "qty": 1}
    assert OPERATION_DECODER.decode(msgspec.json.encode(data)).job_id is None
