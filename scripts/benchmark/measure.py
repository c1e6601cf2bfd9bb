"""Measuring: medians with min–max, pair-by-pair ratios, process CPU time, the machine.

Every figure the suite reports is a list of raw samples (one per repetition, warm-up excluded);
``summary`` turns it into median, min, max and n. Ratios between two systems are taken pair by
pair (repetition i of one against repetition i of the other, both from the same run) and then
summarised the same way, so a noisy minute hurts both sides of a pair alike.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def summary(samples: Sequence[float]) -> dict[str, float]:
    xs = [float(x) for x in samples if x is not None]
    if not xs:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def pairwise(num: Sequence[float], den: Sequence[float]) -> dict[str, float]:
    """Summary of num[i] / den[i] over the repetitions both sides have."""
    return summary([a / b for a, b in zip(num, den, strict=False) if b])


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the samples; NaN when empty."""
    xs = sorted(samples)
    if not xs:
        return float("nan")
    rank = max(1, min(len(xs), round(q / 100 * len(xs) + 0.5)))
    return xs[rank - 1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), children excluded."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Sample:
    """One timed run of a workload: wall seconds, server CPU seconds, HTTP requests, and extras."""

    seconds: float = 0.0
    server_cpu_s: float | None = None
    requests: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "server_cpu_s": self.server_cpu_s,
            "requests": self.requests,
            **self.extra,
        }


class Meter:
    """Times a block and reads the server's CPU and a request counter before and after."""

    def __init__(self, server_pid: int | None, requests: Any = None) -> None:
        self.server_pid = server_pid
        self.requests = requests  # a callable returning the client's request count so far

    @contextmanager
    def run(self, *, collect: bool = True) -> Iterator[Sample]:
        """Collect the driver's own garbage (earlier workloads' devices and replicas) before the
        clock starts, so a full collection it owes does not land inside this measurement.

        ``collect=False`` for an incremental pull: it follows the 100 edits at once, as in the
        reference scripts (``bench-peer/py_sync_bench.py``), the edits' own measurement having
        collected first. Collecting in between would leave the server idle for the collection's
        tens of milliseconds, and on this VM any exchange after 5 ms or more of idleness takes
        ~2 ms longer (``GET /health`` too; ``docs/benchmarks.md``): that is the host, not the
        pull, and it would hit FieldSync and the ceiling alike."""
        if collect:
            gc.collect()
        sample = Sample()
        c0 = cpu_seconds(self.server_pid) if self.server_pid else None
        r0 = self.requests() if self.requests else 0
        t0 = time.perf_counter()
        yield sample
        sample.seconds = time.perf_counter() - t0
        if self.server_pid and c0 is not None:
            sample.server_cpu_s = cpu_seconds(self.server_pid) - c0
        if self.requests:
            sample.requests = self.requests() - r0


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _command(*argv: str) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else None


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, kernel and the versions of everything measured."""
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), None
            )
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import sqlite3

    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "os": _command("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "node": _command("node", "--version"),
        "postgresql": _command("psql", "--version"),
        "packages": {
            d: _version(d)
            for d in (
                "litestar",
                "msgspec",
                "sqlalchemy",
                "aiosqlite",
                "asyncpg",
                "uvicorn",
                "uvloop",
                "httptools",
                "httpx",
            )
        },
    }
