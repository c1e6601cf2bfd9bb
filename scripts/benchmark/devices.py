"""N simulated devices syncing at once against one FieldSync server (loopback only, bounded).

Who the devices are: the demo data set's 20 engineers (fewer when N < 20), each with a real
login; device i belongs to engineer ``i % 20`` and has its own device id and local store (so at
N = 500 every engineer has 25 devices — phones, tablets, reinstalls). Devices of one engineer
share its login token: a login costs an argon2 hash on purpose (about 0.3 s of server CPU),
which would measure the password hasher, not sync. Every engineer's replica is built before
the clock starts (one device each), as on a server that has been running.

Per N, three phases; in each sync a device queues two operations (``part.consume`` from its
engineer's van, ``feedback.submit`` on one of their jobs), pushes and pulls:

- ``initial``: all N devices start together and make their initial pull.
- ``fleet``: every device syncs on its own timer, every ``interval`` seconds ± 50% (first sync at
  a random point of the first interval), for ``window`` seconds. This is how a fleet syncs: the
  PWA syncs every 60 s and after the engineer's own changes (``pwa/src/sync.js``); the bench's
  30 s default is twice that cadence. DESIGN §6's devices bar is read on this phase.
- ``burst`` rounds (``warmup + rounds``): all N devices sync within the same 250 ms, and the
  next round starts when the last one has finished — no fleet does that; it measures how long
  the server takes to work off N syncs at once (a capacity figure, not a latency one).

Latency is timed per HTTP exchange in the transport. An error is a device whose phase failed —
any failed exchange or non-2xx answer fails it, as retries are off so nothing hides behind a
backoff — or did not finish within the time budget of its N (60 s + 0.3 s per device, plus the
fleet window); every device of a round there was no time left to run counts too.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

from engineer import MeteredTransport, SharedLogin, http_client, open_device, replica_docs
from measure import cpu_seconds, percentile, summary

from sync.client import DeviceClient
from sync.operations import FeedbackSubmit, PartConsume

ENGINEERS = 20
BUDGET_BASE_S, BUDGET_PER_DEVICE_S = 60.0, 0.3  # per N: 60 s + 0.3 s per device (500: 210 s)


def _latency(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
    }


async def _work(device: DeviceClient, rng: random.Random) -> None:
    uid = next(k for k in device.replica if k.startswith("user:")).split(":", 1)[1]
    van = next(
        i
        for i, d, _ in replica_docs(device, "location")
        if d["kind"] == "van" and d["engineer_id"] == uid
    )
    stock = [d["part_id"] for _, d, _ in replica_docs(device, "stock") if d["location_id"] == van]
    jobs = [i for i, d, _ in replica_docs(device, "job") if d["engineer_id"] == uid]
    await device.queue(
        PartConsume, job_id=rng.choice(jobs), part_id=rng.choice(stock), location_id=van, qty=1
    )
    await device.queue(
        FeedbackSubmit,
        feedback_id=uuid.uuid4(),
        job_id=rng.choice(jobs),
        attitude=5,
        efficiency=4,
        quality=5,
        comment="bench",
    )


async def _phase(
    name: str, coros: list[Any], transports: list[MeteredTransport], pid: int, limit_s: float
) -> dict[str, Any]:
    marks = [{p: len(v) for p, v in t.latency.items()} for t in transports]
    seen = [len(t.errors) for t in transports]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    done, pending = await asyncio.wait([asyncio.ensure_future(c) for c in coros], timeout=limit_s)
    for task in pending:
        task.cancel()
    failed = [t for t in done if t.exception() is not None]
    wall = time.perf_counter() - t0
    lat: dict[str, list[float]] = {}
    for t, mark in zip(transports, marks, strict=True):
        for path, samples in t.latency.items():
            lat.setdefault(path, []).extend(samples[mark.get(path, 0) :])
    new_errors = [e for t, k in zip(transports, seen, strict=True) for e in t.errors[k:]]
    transport_errors, samples = len(new_errors), new_errors[:3]
    first_failures = [repr(t.exception())[:200] for t in failed[:3]]
    return {
        "http_errors": transport_errors,
        "phase": name,
        "seconds": wall,
        "server_cpu_s": cpu_seconds(pid) - cpu0,
        "errors": len(failed) + len(pending),  # devices that failed or did not finish in time
        "failed": len(failed),
        "unfinished": len(pending),
        "error_samples": samples,
        "failures": first_failures,
        "pull": _latency(lat.get("/sync/pull", [])),
        "push": _latency(lat.get("/sync/push", [])),
    }


async def _sync(device: DeviceClient, rng: random.Random) -> None:
    await _work(device, rng)
    await device.push()
    await device.pull()


async def _fleet_device(
    device: DeviceClient, rng: random.Random, interval: float, until: float
) -> None:
    """Sync on a timer, every ``interval`` ± 50%, while the window lasts (``until``): the first
    sync at a random point of the first interval, none scheduled after the window."""
    start = time.perf_counter() + rng.uniform(0, interval)
    while start < until:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        await _sync(device, rng)
        start += rng.uniform(0.5, 1.5) * interval


async def run_devices(
    url: str,
    pid: int,
    *,
    counts: list[int],
    rounds: int,
    warmup: int,
    interval_s: float = 30.0,
    window_s: float = 60.0,
    budget_s: float | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - think times, not secrets
    out: dict[str, Any] = {}
    engineers = min(ENGINEERS, max(counts))
    async with http_client(url, connections=max(counts) + 20) as client:
        logins = [SharedLogin(client, f"engineer{i + 1}") for i in range(engineers)]
        for login in logins:  # one real login per engineer (argon2: not what we measure)
            await login.token()
        for login in logins:  # every replica exists already, as on a running server
            builder = await open_device(MeteredTransport(client), login, retries=3)
            await builder.pull()
        for n in counts:
            transports = [MeteredTransport(client) for _ in range(n)]
            devices = [
                await open_device(t, logins[i % engineers]) for i, t in enumerate(transports)
            ]
            budget = budget_s or BUDGET_BASE_S + BUDGET_PER_DEVICE_S * n + window_s
            deadline = time.perf_counter() + budget
            initial = [d.pull() for d in devices]
            phases = [await _phase("initial", initial, transports, pid, budget / 2)]

            until = time.perf_counter() + window_s
            rs = [random.Random(rng.random()) for _ in devices]  # noqa: S311
            timers = [
                _fleet_device(d, r, interval_s, until) for d, r in zip(devices, rs, strict=True)
            ]
            fleet = await _phase(
                "fleet", timers, transports, pid, max(1.0, deadline - time.perf_counter())
            )
            fleet.update(interval_s=interval_s, window_s=window_s, warmup=False)
            phases.append(fleet)

            async def burst(d: DeviceClient, r: random.Random) -> None:
                await asyncio.sleep(r.uniform(0, 0.25))
                await _sync(d, r)

            for k in range(warmup + rounds):
                left = deadline - time.perf_counter()
                if left <= 0:  # out of time: a round not run counts one error per device
                    skipped = {"phase": f"round{k}", "skipped": True, "errors": n}
                    phases.append({**skipped, "warmup": k < warmup})
                    continue
                rs = [random.Random(rng.random()) for _ in devices]  # noqa: S311
                work = [burst(d, r) for d, r in zip(devices, rs, strict=True)]
                result = await _phase(f"round{k}", work, transports, pid, left)
                result["warmup"] = k < warmup
                phases.append(result)
            bursts = phases[2:]
            kept = [p for p in bursts if not p["warmup"] and not p.get("skipped")]
            out[str(n)] = {
                "devices": n,
                "engineers": engineers,
                "phases": phases,
                "errors": sum(p["errors"] for p in phases),
                "http_errors": sum(p.get("http_errors", 0) for p in phases),
                "unfinished": sum(p["errors"] - p.get("failed", 0) for p in phases),
                "budget_s": budget,
                "initial_pull_p99_ms": phases[0]["pull"]["p99_ms"],
                "fleet": {
                    k: fleet[k] for k in ("interval_s", "window_s", "errors", "pull", "push")
                },
                "burst_rounds": {
                    "run": sum(1 for p in bursts if not p.get("skipped")),
                    "of": len(bursts),
                },
                "burst_pull_p50_ms": summary([p["pull"]["p50_ms"] for p in kept]),
                "burst_pull_p99_ms": summary([p["pull"]["p99_ms"] for p in kept]),
                "burst_push_p99_ms": summary([p["push"]["p99_ms"] for p in kept]),
                "docs_per_device": len(devices[0].replica),
            }
            print(
                f"bench: devices {n}: errors {out[str(n)]['errors']}, initial pull p99 "
                f"{phases[0]['pull']['p99_ms']:.0f} ms, fleet pull p99 "
                f"{fleet['pull']['p99_ms']:.0f} ms ({fleet['pull']['n']} pulls), burst pull p99 "
                f"median {out[str(n)]['burst_pull_p99_ms']['median']:.0f} ms",
                flush=True,
            )
            del devices, transports
    return out
