"""The PWA's canonical JSON and report hash (pwa/src/canonical.js) agree with sync/canonical.py.

The customer signs on the device; the server recomputes the hash from the stored report. This
runs the JavaScript module in node (fast, no browser) on the same inputs as the Python one —
fixed edge cases (Chinese text, NFC, escapes, UTF-16 key order, integer limits) and a few hundred
seeded random report forms — and requires identical bytes, identical hashes and identical
refusals. The browser suite checks the same module inside Chromium via the sign-off flow.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sync.canonical import REPORT_FIELDS, canonical_json, report_hash

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "pwa" / "src" / "canonical.js"
IN_CI = os.environ.get("CI", "").lower() == "true"

RUNNER = """
const m = await import(process.argv[1]);
const cases = JSON.parse(await new Promise((ok) => {
  let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => ok(s));
}));
const out = [];
for (const c of cases) {
  try {
    const text = m.canonicalJson(c.value);
    const hash = c.report ? await m.reportHash(c.value) : null;
    out.push({ ok: true, hex: Buffer.from(text, 'utf8').toString('hex'), hash });
  } catch (e) {
    out.push({ ok: false, error: String(e) });
  }
}
process.stdout.write(JSON.stringify(out));
"""

NFC_CASES = [
    "e\u0301",  # e + combining acute -> é
    "\u212b",  # ANGSTROM SIGN -> Å
    "A\u030a",  # A + ring -> Å
    "\u1100\u1161\u11a8",  # Hangul jamo -> 각
    "\uff21\uff22",  # full-width letters stay (NFC, not NFKC)
    "\u0344",  # singleton decomposition
    "q\u0307\u0323",  # reordering of combining marks
]
ESCAPES = "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u2029\u00e9\U0001f600'


def _report(**over: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
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
    form.update(over)
    return form


def _random_text(rng: random.Random) -> str:
    pools = [
        "abcxyz ABC 0189",
        "冷却塔风机皮带打滑，冷凝压力过高。更换风机皮带！",
        "\u0301\u0323\u0307\u030a",  # combining marks
        "".join(chr(c) for c in range(0x20)) + '"\\',
        "\u00e9\u212b\u1100\u1161\u11a8\uac00\uff01",
        "\U0001f600\U0001f527\U00020000",  # astral (surrogate pairs in UTF-16)
        "\u2028\u2029\x7f\ufeff",
    ]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 40)))


def _random_report(rng: random.Random) -> dict[str, Any]:
    return _report(
        diagnosis=_random_text(rng),
        root_cause_category=rng.choice(["wear", "electrical", "défaut", "磨损"]),
        root_cause=_random_text(rng),
        prevention=_random_text(rng),
        actions=_random_text(rng),
        labour_minutes=rng.randint(0, 10_000),
        parts=[
            {"part_id": _random_text(rng) or "p", "qty": rng.randint(1, 100_000)}
            for _ in range(rng.randint(0, 4))
        ],
    )


def _cases() -> list[dict[str, Any]]:
    values: list[tuple[Any, bool]] = [
        (_report(), True),
        (_report(diagnosis="压缩机异响，轴承磨损", actions="更换轴承；试机正常。"), True),
        *[(_report(diagnosis=text, root_cause=text * 2), True) for text in NFC_CASES],
        (_report(actions=ESCAPES, prevention=ESCAPES[::-1]), True),
        (_report(parts=[]), True),
        (_report(labour_minutes=0), True),
        ({"\U0001f600": 1, "\uffff": 2, "a": 3, "B": 4, "é": 5, "e\u0301x": 6}, False),
        ({"z": [1, -1, 0, 2**53 - 1, -(2**53 - 1)], "a": [True, False, None, [], {}]}, False),
        ({"nested": {"b": {"d": "x", "c": "y"}, "a": []}}, False),
        ("\u212b", False),
        (ESCAPES, False),
        ({"lone": "\ud800x"}, False),  # refused by both
        ({"big": 2**53}, False),  # refused by both
        ({"float": 1.5}, False),  # refused by both
        ({"\u212b": 1, "\u00c5": 2}, False),  # keys collide after NFC: refused by both
    ]
    rng = random.Random(20261123)
    values += [(_random_report(rng), True) for _ in range(300)]
    return [{"value": v, "report": r} for v, r in values]


def _python(case: dict[str, Any]) -> dict[str, Any]:
    try:
        data = canonical_json(case["value"])
        digest = report_hash(case["value"]) if case["report"] else None
    except (ValueError, TypeError) as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "hex": data.hex(), "hash": digest}


def test_js_canonical_json_matches_python() -> None:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is required in CI for the canonical JSON cross-check")
        pytest.skip("node is not installed; the JavaScript canonical form cannot be checked")
    cases = _cases()
    # json.dumps escapes lone surrogates as \\udxxx, which JSON.parse turns back into them.
    payload = json.dumps(cases, ensure_ascii=True)
    run = subprocess.run(
        [node, "--input-type=module", "-e", RUNNER, MODULE.as_uri()],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    js = json.loads(run.stdout)
    assert len(js) == len(cases)
    refused = 0
    for case, got in zip(cases, js, strict=True):
        want = _python(case)
        assert got["ok"] == want["ok"], (case, got, want)
        if want["ok"]:
            assert got["hex"] == want["hex"], case
            assert got["hash"] == want["hash"], case
        else:
            refused += 1
    assert refused == 4
    # the worked example of PROTOCOL.md §5.2, as a fixed point
    assert js[0]["hash"] == "57f49464884caba9e75f56ef52224b0544f675bd1ca6868d348e2e5a9702cbc8"
    assert set(REPORT_FIELDS) == set(cases[0]["value"])
