"""Where the server's time goes: py-spy attached to the server process around one workload.

``sampling(pid, out)`` records collapsed stacks (py-spy's ``raw`` format) while the block runs;
``hot_spots(out)`` turns them into the functions that own the most samples (self and total),
restricted to the project's own code, so the report can say which module costs what.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


@contextmanager
def sampling(pid: int, out: Path, rate: int = 250) -> Iterator[None]:
    """Record the process while the block runs (nothing happens when py-spy is missing)."""
    exe = py_spy()
    if exe is None:
        yield
        return
    proc = subprocess.Popen(  # noqa: S603
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let py-spy attach before the workload starts
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _frames(stack: str) -> list[str]:
    return [f for f in stack.split(";") if f]


def hot_spots(
    out: Path, top: int = 15, own: tuple[str, ...] = ("server/", "sync/")
) -> dict[str, Any]:
    """Top functions by total (inclusive) samples among the project's frames, and the top
    self-time frames overall (any library), from a py-spy raw file."""
    if not out.exists():
        return {"samples": 0, "total": [], "self": []}
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    samples = 0
    for line in out.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = _frames(stack)
        if frames:
            exclusive[_short(frames[-1])] += n
        for f in {_short(f) for f in frames if any(o in f for o in own)}:
            inclusive[f] += n
    pct = (lambda n: round(100 * n / samples, 1)) if samples else (lambda n: 0.0)
    return {
        "samples": samples,
        "total": [(f, pct(n)) for f, n in inclusive.most_common(top)],
        "self": [(f, pct(n)) for f, n in exclusive.most_common(top)],
    }


def _short(frame: str) -> str:
    """``func (path/to/module.py:123)`` → ``func (module.py)`` with the package kept."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if parts else path
    return f"{name} ({short})"
