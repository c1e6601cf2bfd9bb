"""The markdown summary: tables of medians (min–max) and ratios, details, growth, devices, bars."""

from __future__ import annotations

from typing import Any

from measure import summary


def _cell(row: dict[str, Any], s: str) -> str:
    if s not in row:
        return "—"
    t, r = row[s]["seconds"], row[s]["requests"]["median"]
    f = (lambda x: f"{x * 1000:.1f} ms") if t["median"] < 0.1 else (lambda x: f"{x:.2f} s")
    return f"{f(t['median'])} ({f(t['min'])}–{f(t['max'])}), {r:g} req"


def _ratio(row: dict[str, Any], key: str) -> str:
    r = row.get(key)
    return "—" if not r else f"{r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f})"


def _details(results: dict[str, Any]) -> list[str]:
    """What the FieldSync cells are made of: HTTP exchange vs client, bytes, outcomes."""
    out = ["FieldSync details (medians):", ""]
    for name, data in results["fieldsync"].items():
        runs = data.get("runs", {})
        med = lambda xs: summary(xs)["median"]  # noqa: E731
        for key in sorted(k for k in runs if k.startswith(("b_initial_pull@", "c_incremental"))):
            xs = runs[key]
            per_doc = med([x["bytes"] / x["docs"] for x in xs]) if "bytes" in xs[0] else None
            out.append(
                f"- {name} {key}: HTTP exchanges {med([x['exchange_s'] for x in xs]) * 1e3:.1f} ms"
                f" of {med([x['seconds'] for x in xs]) * 1e3:.1f} ms wall"
                + (f", {per_doc:.0f} bytes per document on the wire" if per_doc else "")
            )
        for key in sorted(k for k in runs if k.startswith("d_push@")):
            xs = runs[key]
            rejected = sum(x.get("rejected", 0) for x in xs)
            codes = ", ".join(sorted({c for x in xs for c in x.get("rejections", {})}))
            out.append(
                f"- {name} {key}: {med([x.get('applied', 0) for x in xs]):g} applied, "
                f"{rejected} rejected in all repetitions" + (f" ({codes})" if codes else "")
            )
        waits = [x.get("visibility_wait_s", 0) for x in runs.get("c_server_update", [])]
        if any(waits):
            out.append(
                f"- {name}: waited {med(waits) * 1e3:.0f} ms (median) for changes to become "
                "readable (another transaction was running in the cluster; see PROTOCOL.md §11)"
            )
    return out


def markdown(results: dict[str, Any], s: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Run of {results['started_at']} ({results['profile']['name']} profile, "
        f"{results['profile']['reps']} repetitions after {results['profile']['warmup']} "
        f"warm-up, wall {results['wall_s']:.0f} s) on {m['cores']} cores, {m['memory_gib']} GiB, "
        f"{m['cpu_model']}, {m['os']}, Python {m['python']}, SQLite {m['sqlite']}, "
        f"node {m['node']}, {m['postgresql'] or 'no PostgreSQL'}.",
        "",
        "Cells: median (min–max) wall time and HTTP requests. Ratios are pair by pair: "
        "*peer ÷ FieldSync* = how many times faster FieldSync is than the peer; "
        "*ceiling ÷ FieldSync* = FieldSync's speed as a fraction of the ceiling's.",
    ]
    if results.get("skipped"):
        lines += ["", "Skipped: " + "; ".join(f"{k} ({v})" for k, v in results["skipped"].items())]
    for b, rows in s["tables"].items():
        head = [
            "workload",
            *s["systems"],
            "peer ÷ FieldSync (SQLite)",
            "ceiling ÷ FieldSync (SQLite)",
        ]
        lines += [
            "",
            f"### Page size = push batch = {b}",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        for row in rows.values():
            cells = [_cell(row, x) for x in s["systems"]]
            lines.append(
                "| "
                + " | ".join(
                    [
                        row["label"],
                        *cells,
                        _ratio(row, "peer/fieldsync-sqlite"),
                        _ratio(row, "ceiling/fieldsync-sqlite"),
                    ]
                )
                + " |"
            )
    lines += ["", *_details(results)]
    lines += [
        "",
        "### Server CPU-seconds per 10k documents (pull) and per 10k operations (push)",
        "",
        "| system @ page/batch | pull | push |",
        "|---|---|---|",
    ]
    for k, v in s["cpu_per_10k"].items():
        lines.append(f"| {k} | {v['pull']['median']:.3f} | {v['push']['median']:.2f} |")
    lines += ["", "(/proc CPU time ticks are 10 ms: a pull of 10k documents is read to ±0.01 s.)"]
    if results.get("growth"):
        lines += [
            "",
            "### Incremental pull (100 changes) as the replica log grows (SQLite)",
            "",
            "| built replicas | log rows | DB size | pull median (min–max) | requests | "
            "100 changes written (fan-out) |",
            "|---|---|---|---|---|---|",
        ]
        for g in results["growth"]:
            p = g["pull_ms"]
            lines.append(
                f"| {g['replicas']} | {g['log_rows']:,} | {g['db_bytes'] / 2**20:.0f} MiB | "
                f"{p['median']:.1f} ms ({p['min']:.1f}–{p['max']:.1f}) | "
                f"{g['requests']['median']:g} | {g['server_update_s']['median']:.2f} s |"
            )
    if results.get("devices"):
        fleet = next(iter(results["devices"].values()))["fleet"]
        lines += [
            "",
            "### Concurrent devices (SQLite)",
            "",
            f"*Fleet*: every device syncs every {fleet['interval_s']:g} s ± 50% for "
            f"{fleet['window_s']:g} s (the PWA syncs every 60 s). *Burst*: all devices sync "
            "within 250 ms, round after round (a capacity figure). A sync is two operations "
            "pushed, then a pull.",
            "",
            "| devices | errors (failed HTTP exchanges; phases not finished in the budget) | "
            "initial pull p99 | fleet pulls | fleet pull p50 / p99 | fleet push p50 / p99 | "
            "burst rounds run | burst pull p99 (median of rounds, min–max) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for n, d in results["devices"].items():
            f, p99, rounds = d["fleet"], d["burst_pull_p99_ms"], d["burst_rounds"]
            lines.append(
                f"| {n} | {d['errors']} ({d.get('http_errors', 0)}; {d.get('unfinished', 0)}) | "
                f"{d['initial_pull_p99_ms']:.0f} ms | {f['pull']['n']} | "
                f"{f['pull']['p50_ms']:.0f} / {f['pull']['p99_ms']:.0f} ms | "
                f"{f['push']['p50_ms']:.0f} / {f['push']['p99_ms']:.0f} ms | "
                f"{rounds['run']} of {rounds['of']} | "
                f"{p99['median']:.0f} ms ({p99['min']:.0f}–{p99['max']:.0f}) |"
            )
    lines += [
        "",
        "### Bars (DESIGN §6)",
        "",
        "| bar | measured | target | met |",
        "|---|---|---|---|",
    ]
    for bar in s["bars"]:
        v = bar["value"]
        shown = "—" if v is None else f"{v:.3g}"
        note = f" ({bar['note']})" if bar["note"] else ""
        lines.append(
            f"| {bar['bar']} | {shown}{note} | {bar['target']} | {'yes' if bar['pass'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"
