"""The benchmark suite's smoke profile runs end to end, so ``scripts/bench`` never rots.

Slow (a real server, the demo seeder, concurrent devices: about half a minute), so the default
test run skips it and CI, which runs every marker, runs it. It checks the shape and the sanity of
the results, not the speed: speed is for ``scripts/bench`` on a quiet machine.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = (
    "a_first_pull",
    "c_server_update",
    "c_incremental_pull",
)


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


@pytest.mark.slow
def test_smoke_profile_produces_every_workload(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "benchmark" / "run.py"),
            "--smoke",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    results = json.loads((out / "results.json").read_text())
    p = results["profile"]
    assert p["name"] == "smoke" and p["reps"] == 1
    assert results["failed"] == {}
    assert results["skipped"]["peer"] == "--smoke"
    (batch,) = p["batches"]

    # FieldSync: every workload, one repetition each, numbers that make sense
    runs = results["fieldsync"]["sqlite"]["runs"]
    for key in (
        *WORKLOADS,
        "a_bulk_load",
        f"b_initial_pull@{batch}",
        f"d_push@{batch}",
        f"d_replay@{batch}",
    ):
        assert len(runs[key]) == 1, key
        assert _finite(runs[key][0]["seconds"]) and 0 < runs[key][0]["seconds"] < 60, key
    load = runs["a_bulk_load"][0]
    assert load["scope_after"] == p["n_docs"]
    pull = runs[f"b_initial_pull@{batch}"][0]
    assert pull["docs"] == p["n_docs"]
    assert pull["requests"] == math.ceil(p["n_docs"] / batch)  # has_more is exact: no empty page
    assert pull["server_cpu_s"] is not None and pull["server_cpu_s"] >= 0
    inc = runs["c_incremental_pull"][0]
    assert inc["docs"] == p["n_changed"] and inc["requests"] == 1
    push, replay = runs[f"d_push@{batch}"][0], runs[f"d_replay@{batch}"][0]
    assert push["ops"] == p["n_push"] and push.get("applied", 0) == p["n_push"]
    assert replay["identical"] == p["n_push"] and replay["unchanged"] is True

    # the ceiling ran the same workloads with the same counts
    ceiling = results["ceiling"][str(batch)]
    for key in ("a_bulk_load", "b_initial_pull", "c_incremental_pull", "d_push", "d_replay"):
        assert len(ceiling[key]) == 1 and _finite(ceiling[key][0]["seconds"]), key
    assert ceiling["b_initial_pull"][0]["docs"] == p["n_docs"]

    # growth and devices
    growth = results["growth"]
    assert [g["replicas"] for g in growth] == p["growth_points"]
    assert growth[-1]["log_rows"] > growth[0]["log_rows"] >= p["n_docs"]
    assert all(g["requests"]["median"] == 1 for g in growth)
    (devices,) = results["devices"].values()
    assert devices["errors"] == 0
    assert _finite(devices["burst_pull_p99_ms"]["median"])
    assert devices["fleet"]["pull"]["n"] >= 6 and _finite(devices["fleet"]["pull"]["p99_ms"])

    # the outputs people read
    summary = (out / "summary.md").read_text()
    assert "initial pull" in summary and "Bars (DESIGN §6)" in summary
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["memory_gib"] > 0 and machine["python"]
