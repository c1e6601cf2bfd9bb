"""PROTOCOL.md is the spec: these tests fail when it misses or contradicts the code."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from sync import messages
from sync.apply import BAD_EVENT_TIME, INVALID_OPERATION
from sync.blobs import MAX_BLOB_BYTES
from sync.canonical import report_hash
from sync.changes import PULL_PAGE_DECODER
from sync.errors import ERRORS, UpgradeRequired, problem_json
from sync.jobstatus import TRANSITIONS
from sync.kinds import KINDS
from sync.messages import OP_RESULT_DECODER, PULL_REQUEST_DECODER, PUSH_RESPONSE_DECODER
from sync.operations import OPERATION_TYPES, op_name
from sync.outcome import FLAGS
from sync.push import decode_push
from sync.versions import check_versions

ROOT = Path(__file__).resolve().parents[2]
SPEC = (ROOT / "sync" / "PROTOCOL.md").read_text()
EXAMPLES = [m.group(1) for m in re.finditer(r"```json\n(.*?)```", SPEC, re.S)]


def example(starting: str) -> bytes:
    found = [e for e in EXAMPLES if e.lstrip().startswith(starting)]
    assert len(found) == 1, f"one JSON example must start with {starting!r}"
    body = found[0].split("\n", 1)[1] if starting.startswith(("POST", "200")) else found[0]
    return body.encode()


def section(title: str) -> str:
    start = SPEC.index(title)
    end = SPEC.find("\n## ", start + 1)
    return SPEC[start : end if end != -1 else None]


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_error_code_is_in_the_table(code: str) -> None:
    assert re.search(rf"^\| `{code}` \| {ERRORS[code].status} \|", section("## 9. Errors"), re.M)


def test_every_rejection_code_is_listed() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "sync").glob("*.py"))
    codes = set(re.findall(r'Rejected\(\s*"([a-z_]+)"', source)) | {
        INVALID_OPERATION,
        BAD_EVENT_TIME,
    }
    listed = section("## 9. Errors").split("Operation rejection codes", 1)[1]
    assert {c for c in codes if f"`{c}`" not in listed} == set()


@pytest.mark.parametrize("op_type", OPERATION_TYPES, ids=op_name)
def test_every_operation_has_a_section(op_type: type) -> None:
    assert f"### `{op_name(op_type)}`" in SPEC


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_documented(kind: str) -> None:
    assert f"| `{kind}` |" in section("### 5.1")


@pytest.mark.parametrize("flag", FLAGS)
def test_every_flag_is_documented(flag: str) -> None:
    assert f"| `{flag}` |" in SPEC


def test_state_machine_table_matches_the_code() -> None:
    table = SPEC[SPEC.index("| from \\ to |") :].split("\n\n", 1)[0].splitlines()
    targets = [c.strip() for c in table[0].strip("|").split("|")[1:]]
    documented = {}
    for row in table[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        documented[cells[0]] = {t for t, c in zip(targets, cells[1:], strict=True) if c == "✓"}
    assert documented == {k: set(v) for k, v in TRANSITIONS.items()}


def test_limits_are_documented() -> None:
    limits = section("## 1. Conventions")
    assert f"`MAX_PAGE` = {messages.MAX_PAGE}" in limits
    assert f"operations per push (`MAX_BATCH`) | {messages.MAX_BATCH} |" in limits
    assert f"hashes per `blobs/missing` (`MAX_HASHES`) | {messages.MAX_HASHES} |" in limits
    assert f"push body (`MAX_PUSH_BYTES`) | {messages.MAX_PUSH_BYTES // 2**20} MiB |" in limits
    assert f"file size (`MAX_BLOB_BYTES`) | {MAX_BLOB_BYTES // 2**20} MiB |" in limits
    assert f"pull body | {messages.MAX_PULL_BYTES} bytes |" in limits


def test_pull_examples_decode() -> None:
    request = PULL_REQUEST_DECODER.decode(example("POST /sync/pull"))
    assert request.cursor is None and request.limit == 1000
    page = PULL_PAGE_DECODER.decode(example('200 OK\n{"cursor"'))
    assert [c.key[:4] for c in page.changes] == ["job:", "job:"] and not page.has_more


def test_push_examples_decode() -> None:
    _, items = decode_push(example("POST /sync/push"))
    assert [i.op is not None for i in items] == [True, True]
    reply = PUSH_RESPONSE_DECODER.decode(example('200 OK\n{"results"'))
    results = [OP_RESULT_DECODER.decode(r) for r in reply.results]
    assert [r.seq for r in results] == [i.seq for i in items]
    assert {f for r in results for f in r.flags} <= set(FLAGS)


def test_upgrade_example_is_what_the_server_sends() -> None:
    with pytest.raises(UpgradeRequired) as caught:
        check_versions(b'{"protocol":0,"schema":1}')
    documented = msgspec.json.decode(example('{"type":"urn:fieldsync:problem:upgrade_required"'))
    assert documented == msgspec.json.decode(problem_json(caught.value))


def test_report_hash_example() -> None:
    form = msgspec.json.decode(example('{"report_id"'))
    stated = re.search(r"`report_sha256` = `([0-9a-f]{64})`", SPEC)
    assert stated is not None and report_hash(form) == stated.group(1)
