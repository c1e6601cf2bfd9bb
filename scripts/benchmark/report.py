"""From raw samples to what people read: ``summary.json``, ``summary.md`` and ``chart.png``.

Every cell is the median of the repetitions with min–max; ratios against the peer and the
ceiling are taken pair by pair (repetition i against repetition i of the same run) and
summarised the same way. The bars are DESIGN §6's; each says its measured value and pass/fail.
With ``docs``, the figures replace the marked section of ``docs/benchmarks.md`` (the prose around
them is written by hand) and the chart becomes ``docs/benchmarks.png``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from chart import chart
from measure import pairwise, summary
from page import markdown

WORKLOADS = [  # (key in FieldSync results, key in peer/ceiling results, label)
    ("a_bulk_load", "a_bulk_load", "(a) bulk load of {n_docs:,} documents"),
    ("a_first_pull", None, "(a') FieldSync first pull: the server builds the replica"),
    ("b_initial_pull@{b}", "b_initial_pull", "(b) initial pull of {n_docs:,} documents"),
    ("c_incremental_pull", "c_incremental_pull", "(c) incremental pull of {n_changed:,} changes"),
    ("d_push@{b}", "d_push", "(d) push of {n_push:,} operations"),
    ("d_replay@{b}", "d_replay", "(d') replay of the same {n_push:,}"),
]
START, END = "<!-- bench:figures:start -->", "<!-- bench:figures:end -->"


def _runs(results: dict[str, Any], system: str, batch: int) -> dict[str, list[dict[str, Any]]]:
    """Samples per FieldSync workload key for one system at page/batch size ``batch``."""
    if system.startswith("fieldsync-"):
        runs = results["fieldsync"].get(system.split("-", 1)[1], {}).get("runs", {})
        return {k: runs.get(k.format(b=batch), []) for k, _, _ in WORKLOADS}
    raw = results.get(system, {}).get(str(batch), {})
    raw = raw.get("runs", raw)
    return {k: raw.get(other, []) if other else [] for k, other, _ in WORKLOADS}


def _secs(samples: list[dict[str, Any]]) -> list[float]:
    return [s["seconds"] for s in samples]


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    batches = results["profile"]["batches"]
    systems = [f"fieldsync-{n}" for n in results["fieldsync"]] + [
        s for s in ("peer", "ceiling") if s in results
    ]
    tables: dict[str, Any] = {}
    for b in batches:
        rows = {}
        for key, _, label in WORKLOADS:
            row: dict[str, Any] = {"label": label.format(**results["profile"])}
            fs = {s: _runs(results, s, b)[key] for s in systems}
            for s, samples in fs.items():
                if samples:
                    row[s] = {
                        "seconds": summary(_secs(samples)),
                        "requests": summary([x.get("requests", 0) for x in samples]),
                        "server_cpu_s": summary([x.get("server_cpu_s") or 0.0 for x in samples]),
                    }
            for s in [x for x in systems if x.startswith("fieldsync-") and fs[x]]:
                for other in ("peer", "ceiling"):
                    if fs.get(other):  # times other takes per time FieldSync takes
                        row[f"{other}/{s}"] = pairwise(_secs(fs[other]), _secs(fs[s]))
            rows[key] = row
        tables[str(b)] = rows
    return {
        "batches": batches,
        "systems": systems,
        "tables": tables,
        "cpu_per_10k": _cpu(results, systems, batches),
        "bars": _bars(results, tables),
    }


def _cpu(results: dict[str, Any], systems: list[str], batches: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for b in batches:
        for s in systems:
            runs = _runs(results, s, b)
            pulled = [
                x["server_cpu_s"] / x["docs"] * 1e4
                for x in runs["b_initial_pull@{b}"]
                if x.get("server_cpu_s") is not None and x.get("docs")
            ]
            pushed = [
                x["server_cpu_s"] / (x.get("ops") or x.get("applied") or 1) * 1e4
                for x in runs["d_push@{b}"]
                if x.get("server_cpu_s") is not None
            ]
            out[f"{s}@{b}"] = {"pull": summary(pulled), "push": summary(pushed)}
    return out


def _bar(
    name: str, value: float | None, target: str, ok: bool | None, note: str = ""
) -> dict[str, Any]:
    return {"bar": name, "value": value, "target": target, "pass": ok, "note": note}


def _bars(results: dict[str, Any], tables: dict[str, Any]) -> list[dict[str, Any]]:
    bars = []
    fs = "fieldsync-sqlite"
    for b, rows in tables.items():
        pull, push, replay = rows["b_initial_pull@{b}"], rows["d_push@{b}"], rows["d_replay@{b}"]
        if "peer/" + fs in pull:
            v = pull["peer/" + fs]["median"]
            bars.append(_bar(f"initial pull vs peer, page {b}", v, "≥ 15×", v >= 15))
        if "ceiling/" + fs in pull:
            v = pull["ceiling/" + fs]["median"]
            bars.append(_bar(f"initial pull vs ceiling, page {b}", v, "≥ 0.5", v >= 0.5))
        if "peer/" + fs in push:
            v = push["peer/" + fs]["median"]
            bars.append(_bar(f"push vs peer, batch {b}", v, "≥ 10×", v >= 10))
        if fs in push and fs in replay:
            v = replay[fs]["seconds"]["median"] / push[fs]["seconds"]["median"]
            bars.append(_bar(f"replay ÷ first push, batch {b}", v, "≤ 1", v <= 1))
    inc = next(iter(tables.values()))["c_incremental_pull"].get(fs)
    if inc:
        ms, req = inc["seconds"]["median"] * 1000, inc["requests"]["median"]
        bars.append(
            _bar(
                "incremental pull (ms, requests)",
                ms,
                "≤ 5 ms, 1 request",
                ms <= 5 and req == 1,
                f"{req:g} request(s)",
            )
        )
    sqlite = results["fieldsync"].get("sqlite", {}).get("runs", {})
    for key in [k for k in sqlite if k.startswith("b_initial_pull@")]:
        per = summary([x["server_cpu_s"] / x["docs"] * 1e4 for x in sqlite[key]])
        bars.append(
            _bar(
                f"server CPU-s per 10k pulled, page {key.split('@')[1]}",
                per["median"],
                "≤ 0.1",
                round(per["median"], 6) <= 0.1,
            )
        )
    g = results.get("growth") or []
    if len(g) >= 2:
        v = g[-1]["pull_ms"]["median"] / g[0]["pull_ms"]["median"]
        bars.append(
            _bar(
                f"incremental pull growth {g[0]['log_rows']:,} → {g[-1]['log_rows']:,} log rows",
                v,
                "≤ 1.5×",
                v <= 1.5,
            )
        )
    for n, d in (results.get("devices") or {}).items():
        fleet = d["fleet"]
        p99 = fleet["pull"]["p99_ms"]
        bars.append(
            _bar(
                f"{n} devices syncing every {fleet['interval_s']:g} s: errors, pull p99 (ms)",
                p99,
                "0 errors, ≤ 100 ms",
                d["errors"] == 0 and p99 <= 100,
                f"{d['errors']} errors in all phases: {d.get('http_errors', 0)} failed HTTP "
                f"exchanges, {d.get('unfinished', 0)} device phases not finished in time",
            )
        )
    return bars


def write(results: dict[str, Any], out: Path, docs: Path | None = None) -> dict[str, Any]:
    s = summarize(results)
    (out / "summary.json").write_text(json.dumps(s, indent=1, default=str))
    md = markdown(results, s)
    (out / "summary.md").write_text("# FieldSync benchmark summary\n\n" + md)
    chart(s, out / "chart.png")
    if docs is not None:
        update_docs(docs / "benchmarks.md", md)
        shutil.copyfile(out / "chart.png", docs / "benchmarks.png")
    return s


def update_docs(page: Path, figures: str) -> None:
    """Replace the figures between the page's markers; the rest of the page is left alone."""
    text = page.read_text()
    head, _, rest = text.partition(START)
    _, found, tail = rest.partition(END)
    if not found:
        raise ValueError(f"{page} lacks the {START} … {END} markers")
    page.write_text(f"{head}{START}\n{figures}{END}{tail}")
