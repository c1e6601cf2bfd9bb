"""Canonical JSON must match ECMAScript JSON.stringify + JCS key order, byte for byte."""

from __future__ import annotations

import hashlib
import json
import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.canonical import MAX_SAFE_INTEGER, REPORT_FIELDS, canonical_json, report_hash
from sync.operations import ReportPart, ReportSubmit
from tests.sync.devices import T0

REPORT = {
    "report_id": "0190f3a2-5555-7000-8000-000000000001",
    "job_id": "0190f3a2-7c1e-7b2a-9d3e-5a1b2c3d4e5f",
    "diagnosis": "Seal worn",
    "root_cause_category": "wear",
    "root_cause": "Seal past service life",
    "prevention": "Replace seals every 2 years",
    "actions": "Replaced shaft seal",
    "labour_minutes": 45,
    "parts": [{"part_id": "P-SEAL-40", "qty": 1}],
}
REPORT_SHA256 = "57f49464884caba9e75f56ef52224b0544f675bd1ca6868d348e2e5a9702cbc8"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, False, None]}, b'{"a":[true,false,null],"b":1}'),
        ('quote " backslash \\ slash /', b'"quote \\" backslash \\\\ slash /"'),
        ("\b\t\n\f\r", b'"\\b\\t\\n\\f\\r"'),
        ("\x00\x01\x1f", b'"\\u0000\\u0001\\u001f"'),
        ("\x7f\u2028\u2029", '"\x7f\u2028\u2029"'.encode()),  # JSON.stringify leaves these
        ("泵 — é", '"泵 — é"'.encode()),
        ("e\u0301", '"\u00e9"'.encode()),  # NFC
        ({"\ue000": 1, "\U0001f600": 2}, '{"\U0001f600":2,"\ue000":1}'.encode()),  # UTF-16 order
        ({"a": {"d": 1, "c": 2}}, b'{"a":{"c":2,"d":1}}'),
        (-MAX_SAFE_INTEGER, str(-MAX_SAFE_INTEGER).encode()),
        ((1, 2), b"[1,2]"),
        ({}, b"{}"),
        ([], b"[]"),
    ],
)
def test_canonical_form(value: object, expected: bytes) -> None:
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        2**53,
        {"a": float("nan")},
        "\ud800",
        {1: "x"},
        {"e\u0301": 1, "\u00e9": 2},
        b"x",
        {1, 2},
    ],
)
def test_refused_values(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_json(value)


TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text("abcXYZ_-09", max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


def _nfc(value: object) -> object:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


@given(json_values)
def test_agrees_with_an_independent_encoder(value: object) -> None:
    """Python's json escapes exactly like JSON.stringify; with ASCII keys it also sorts alike."""
    expected = json.dumps(_nfc(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == expected.encode()


def test_report_hash_of_the_spec_example() -> None:
    assert report_hash(REPORT) == REPORT_SHA256
    assert report_hash(REPORT) == hashlib.sha256(canonical_json(REPORT)).hexdigest()


def test_report_hash_needs_exactly_the_report_fields() -> None:
    with pytest.raises(ValueError, match="missing"):
        report_hash({k: v for k, v in REPORT.items() if k != "parts"})
    with pytest.raises(ValueError, match="unexpected"):
        report_hash(REPORT | {"version": 2})
    assert set(REPORT) == set(REPORT_FIELDS)


def test_report_submit_gives_the_hashed_form() -> None:
    op = ReportSubmit(
        seq=1,
        id=uuid.uuid4(),
        at=T0,
        report_id=uuid.UUID(REPORT["report_id"]),  # type: ignore[arg-type]
        job_id=REPORT["job_id"],  # type: ignore[arg-type]
        diagnosis="Seal worn",
        root_cause_category="wear",
        root_cause="Seal past service life",
        prevention="Replace seals every 2 years",
        actions="Replaced shaft seal",
        labour_minutes=45,
        parts=[ReportPart("P-SEAL-40", 1)],
    )
    assert op.report_fields() == REPORT
    assert report_hash(op.report_fields()) == REPORT_SHA256


texts = st.text(max_size=12) | st.sampled_from(["e\u0301", "\u212b", "\x00\x1f\x7f", "\u2028"])
safe_ints = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
parts = st.fixed_dictionaries({"part_id": texts, "qty": safe_ints})
report_forms = st.fixed_dictionaries(
    {k: texts for k in REPORT_FIELDS if k not in ("labour_minutes", "parts")}
    | {"labour_minutes": safe_ints, "parts": st.lists(parts, max_size=3)}
)


@given(report_forms)
def test_report_hash_is_the_hash_of_canonical_json(form: dict[str, object]) -> None:
    """``report_hash`` encodes the usual form with msgspec: it must give canonical_json's bytes."""
    assert report_hash(form) == hashlib.sha256(canonical_json(form)).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"labour_minutes": 1.5},
        {"labour_minutes": MAX_SAFE_INTEGER + 1},
        {"labour_minutes": True},
        {"diagnosis": "\ud800"},
        {"parts": [{"part_id": "P", "qty": 1, "extra": 0}]},
        {"parts": [{"part_id": 7, "qty": 1}]},
        {"parts": ({"part_id": "P", "qty": 1},)},
    ],
)
def test_report_hash_of_unusual_forms_follows_canonical_json(change: dict[str, object]) -> None:
    """Shapes off the fast path: the same hash as canonical_json, or the same refusal."""
    form = REPORT | change
    try:
        expected = hashlib.sha256(canonical_json(form)).hexdigest()
    except (TypeError, ValueError) as refusal:
        with pytest.raises(type(refusal)):
            report_hash(form)
        return
    assert report_hash(form) == expected
