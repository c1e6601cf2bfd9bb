"""The benchmark suite's entry point (``scripts/bench`` runs it): one machine, one invocation.

Systems: FieldSync on SQLite, FieldSync on PostgreSQL (when reachable), the peer (pouchdb-server
+ PouchDB, ``peer.py``) and the ceiling (a minimal Litestar + sqlite3 + msgspec app,
``ceiling.py``). Workloads (same generated documents, counts, page and batch sizes for all):
(a) bulk load, (b) initial pull of a 10k-document scope, (c) incremental pull of 100 changes,
(d) push of 1,000 operations, (d') replay of the same 1,000; for FieldSync also server CPU per
10k documents, incremental pull as the replica log grows (``growth.py``) and N concurrent
devices (``devices.py``). Every figure: ``reps`` repetitions after ``warmup``; raw samples,
machine and versions go to ``results.json``, then ``report.py`` writes the summary and chart.

    python scripts/benchmark/run.py [--smoke] [--out DIR] [--no-peer] [--no-postgres]
                                    [--profile] [--docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import ceiling_device  # noqa: E402
import devices  # noqa: E402
import fieldsync  # noqa: E402
import fieldsync_device  # noqa: E402
import growth  # noqa: E402
import measure  # noqa: E402
import peer  # noqa: E402
import profiler  # noqa: E402
import report  # noqa: E402
import scope  # noqa: E402
from process import ServerProcess, free_port, running  # noqa: E402


@dataclass(frozen=True)
class Profile:
    name: str
    reps: int = 5
    warmup: int = 1
    n_docs: int = 10_000
    n_changed: int = 100
    n_push: int = 1_000
    bulk_batch: int = 500
    batches: list[int] = field(default_factory=lambda: [1000, 100])  # pull page = push batch
    growth_scale: int = 5
    growth_points: list[int] = field(default_factory=lambda: [1, 10, 100])
    device_counts: list[int] = field(default_factory=lambda: [50, 200, 500])
    device_interval_s: float = 30.0  # fleet phase: each device syncs this often (± 50%)
    device_window_s: float = 60.0  # for this long
    device_rounds: int = 2  # burst rounds (after the warm-up)


FULL = Profile("full")
SMOKE = Profile(
    "smoke",
    reps=1,
    warmup=0,
    n_docs=2_000,
    n_changed=20,
    n_push=100,
    bulk_batch=500,
    batches=[500],
    growth_scale=1,
    growth_points=[1, 2],
    device_counts=[6],
    device_interval_s=1.0,
    device_window_s=2.0,
    device_rounds=1,
)


def _transpose(reps: list[dict[str, Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for rep in reps:
        for key, sample in rep.items():
            out.setdefault(key, []).append(sample)
    return out


def run_ceiling(p: Profile, out: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fieldsync-bench-ceiling-") as scratch:
        port = free_port()
        server = ServerProcess(
            "ceiling",
            [
                fieldsync.PYTHON,
                "-m",
                "uvicorn",
                "--app-dir",
                str(HERE),
                "ceiling:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env={"CEILING_DB": str(Path(scratch) / "ceiling.sqlite"), "PATH": "/usr/bin:/bin"},
            cwd=Path(scratch),
            port=port,
            ready_path="/count",
            log=out / "ceiling.log",
        )
        with running(server):
            return {
                str(b): ceiling_device.run_ceiling(
                    server.url,
                    server.pid,
                    reps=p.reps,
                    warmup=p.warmup,
                    n_docs=p.n_docs,
                    n_changed=p.n_changed,
                    n_push=p.n_push,
                    bulk_batch=p.bulk_batch,
                    page=b,
                )
                for b in p.batches
            }


def run_fieldsync(
    backend: fieldsync.Backend, p: Profile, out: Path, profile_dir: Path | None
) -> dict[str, Any]:
    """(a) on fresh clones of the seeded base, one per repetition; (a')–(d') against one server
    that stays up across repetitions, as a production server does (each repetition uses fresh
    devices, and a newcomer engineer for the first pull)."""
    log = out / f"fieldsync-{backend.name}.log"
    backend.seed("base", 1, log)
    loads = []
    for _rep in range(p.warmup + p.reps):
        backend.clone("base", "load")
        loads.append(asyncio.run(scope.grow_scope(backend.url("load"), target=p.n_docs)))
        backend.drop("load")
    backend.clone("base", "serve")
    asyncio.run(scope.grow_scope(backend.url("serve"), target=p.n_docs))
    kept: list[dict[str, Any]] = []
    extra = 1 if profile_dir else 0  # one more, unmeasured repetition under py-spy
    with backend.serving("serve", log) as server:
        for rep in range(p.warmup + p.reps + extra):
            profiling = rep == p.warmup + p.reps
            spy = _spy(server.pid, profile_dir, backend.name) if profiling else None
            result = asyncio.run(
                fieldsync_device.run_repetition(
                    server.url,
                    server.pid,
                    backend.url("serve"),
                    newcomer=f"engineer{rep + 2}",
                    pages=p.batches,
                    batches=p.batches,
                    n_changed=p.n_changed,
                    n_push=p.n_push,
                    n_docs=p.n_docs,
                    spy=spy,
                )
            )
            tag = " (warm-up)" if rep < p.warmup else " (profiled)" if profiling else ""
            b, d = result[f"b_initial_pull@{p.batches[0]}"], result[f"d_push@{p.batches[0]}"]
            print(
                f"bench: fieldsync-{backend.name} rep {rep}{tag}: a' "
                f"{result['a_first_pull']['seconds']:.2f} s | b {b['seconds']:.3f} s "
                f"({b['requests']} req) | c {result['c_incremental_pull']['seconds'] * 1e3:.1f}"
                f" ms | d {d['seconds']:.2f} s",
                flush=True,
            )
            if p.warmup <= rep < p.warmup + p.reps:
                result["a_bulk_load"] = loads[rep]
                kept.append(result)
    backend.drop("serve")
    return {"runs": _transpose(kept)}


def _spy(pid: int, folder: Path | None, tag: str) -> Callable[[str], AbstractContextManager[None]]:
    def spy(workload: str) -> AbstractContextManager[None]:
        if folder is None:
            return nullcontext()
        return profiler.sampling(pid, folder / f"{tag}-{workload}.raw")

    return spy


def run_growth(backend: fieldsync.Backend, p: Profile, out: Path) -> list[dict[str, Any]]:
    log = out / f"growth-{backend.name}.log"
    backend.seed("growth", p.growth_scale, log)
    try:
        asyncio.run(scope.grow_scope(backend.url("growth"), target=p.n_docs))
        with backend.serving("growth", log) as server:
            return asyncio.run(
                growth.run_growth(
                    server.url,
                    server.pid,
                    backend.url("growth"),
                    points=p.growth_points,
                    reps=p.reps,
                    warmup=p.warmup,
                    n_changed=p.n_changed,
                )
            )
    finally:
        backend.drop("growth")


def run_devices(backend: fieldsync.Backend, p: Profile, out: Path) -> dict[str, Any]:
    log = out / f"devices-{backend.name}.log"
    backend.clone("base", "devices")  # the demo data set alone: scopes of about 1.4k documents
    try:
        with backend.serving("devices", log) as server:
            return asyncio.run(
                devices.run_devices(
                    server.url,
                    server.pid,
                    counts=p.device_counts,
                    rounds=p.device_rounds,
                    warmup=p.warmup,
                    interval_s=p.device_interval_s,
                    window_s=p.device_window_s,
                )
            )
    finally:
        backend.drop("devices")


class Sections:
    """Runs the suite's sections one after the other; a section that fails is recorded (with its
    traceback) and the next one still runs; ``results.json`` is rewritten after each section."""

    def __init__(self, results: dict[str, Any], out: Path) -> None:
        self.results, self.out = results, out

    def run(self, name: str, key: tuple[str, ...], fn: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        print(f"bench: {name} ...", flush=True)
        try:
            value = fn()
        except Exception:
            self.results["failed"][name] = traceback.format_exc()
            print(f"bench: {name} FAILED\n{self.results['failed'][name]}", flush=True)
        else:
            target = self.results
            for k in key[:-1]:
                target = target.setdefault(k, {})
            target[key[-1]] = value
        self.results["sections_s"][name] = round(time.perf_counter() - t0, 1)
        print(f"bench: {name} done in {self.results['sections_s'][name]:.0f} s", flush=True)
        self.save()

    def save(self) -> None:
        text = json.dumps(self.results, indent=1, default=str)
        (self.out / "results.json").write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny profile, one repetition, no peer")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--profile", action="store_true", help="py-spy hot spots of FieldSync")
    ap.add_argument("--docs", action="store_true", help="also rewrite docs/benchmarks.md")
    args = ap.parse_args(argv)
    p = SMOKE if args.smoke else FULL
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    spy_dir = out / "profiles" if args.profile else None
    if spy_dir:
        spy_dir.mkdir(exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "profile": asdict(p),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": measure.machine(),
        "sections_s": {},
        "skipped": {},
        "failed": {},
        "fieldsync": {},
    }
    sections = Sections(results, out)
    sections.run("ceiling", ("ceiling",), lambda: run_ceiling(p, out))
    problem = "--smoke" if args.smoke else "--no-peer" if args.no_peer else peer.available()
    if problem:
        results["skipped"]["peer"] = problem
    else:
        kw = {k: getattr(p, k) for k in ("reps", "warmup", "n_docs", "n_changed", "n_push")}
        sections.run(
            "peer",
            ("peer",),
            lambda: peer.run_peer(out, bulk_batch=p.bulk_batch, batches=p.batches, **kw),
        )
    names = ["sqlite", "postgresql"]
    if args.smoke or args.no_postgres:
        results["skipped"]["postgresql"] = "--smoke" if args.smoke else "--no-postgres"
        names.remove("postgresql")
    elif pg := fieldsync.postgres_problem():
        results["skipped"]["postgresql"] = pg
        names.remove("postgresql")
    with tempfile.TemporaryDirectory(prefix="fieldsync-bench-") as work:
        for name in names:
            backend = fieldsync.Backend(name, Path(work))
            try:
                sections.run(
                    f"fieldsync-{name}",
                    ("fieldsync", name),
                    lambda b=backend: run_fieldsync(b, p, out, spy_dir),
                )
                if name == "sqlite":
                    sections.run("growth", ("growth",), lambda b=backend: run_growth(b, p, out))
                    sections.run("devices", ("devices",), lambda b=backend: run_devices(b, p, out))
            finally:
                backend.drop_all()
    if spy_dir:
        results["profiles"] = {f.stem: profiler.hot_spots(f) for f in sorted(spy_dir.glob("*.raw"))}
    results["wall_s"] = round(time.perf_counter() - started, 1)
    sections.save()
    report.write(results, out, docs=ROOT / "docs" if args.docs else None)
    print(f"bench: done in {results['wall_s']:.0f} s; results in {out}", flush=True)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
