"""FieldSync's workloads, on the real path, one repetition at a time.

Against a running server whose database holds the demo data plus the bench's 10k-document scope
(``scope.py``), as ``engineer1`` with a real login and the reference client:

- (a') first pull ever: the server builds the engineer's replica log from their computed scope;
- (b)  initial pull of the whole scope into a fresh device, per page size;
- (c)  100 in-scope changes made by ``logistics1`` through ``POST /stock/movements`` (receipts
       at a warehouse), then one incremental pull — it must bring exactly those 100 changes;
- (d)  push of 1,000 real operations (``part.consume``, ``report.submit``, ``job.note``,
       ``part.request``, ``feedback.submit``) by ``engineer20`` for their own jobs, per batch
       size (another engineer, so that ``engineer1``'s scope stays the same size);
- (d') replay: the same device state re-opened and the same outbox pushed again — every
       result must equal the stored one and the database must not change.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import msgspec
from engineer import (
    MeteredTransport,
    SharedLogin,
    http_client,
    local_store,
    open_device,
    replica_docs,
)
from inspection import fingerprint, wait_visible
from measure import Meter, Sample

from sync.client import DeviceClient
from sync.operations import FeedbackSubmit, JobNote, PartConsume, PartRequest, ReportSubmit

CLOSED = ("completed", "cancelled")
PUSHER = "engineer20"  # pushes the 1,000 operations (see run_repetition)
BENCH_NS = uuid.UUID("6f1c2b9e-0d6a-4c3e-9a57-2b1f0c8d4e11")


async def queue_work(device: DeviceClient, ref: DeviceClient, user_id: str, n: int) -> Counter[str]:
    """Queue ``n`` operations an engineer does in a day, using what their replica (``ref``)
    holds: their open jobs, their van and its stock, the catalogue."""
    jobs = [(i, d, v) for i, d, v in replica_docs(ref, "job") if d["engineer_id"] == user_id]
    open_jobs = [j for j in jobs if j[1]["status"] not in CLOSED] or jobs
    reports = {d["job_id"]: (i, d["signed"]) for i, d, _ in replica_docs(ref, "report")}
    report_jobs = [j for j in open_jobs if not reports.get(j[0], ("", False))[1]] or open_jobs
    van = next(
        i
        for i, d, _ in replica_docs(ref, "location")
        if d["kind"] == "van" and d["engineer_id"] == user_id
    )
    van_parts = [d["part_id"] for _, d, _ in replica_docs(ref, "stock") if d["location_id"] == van]
    parts = [i for i, _, _ in replica_docs(ref, "part")][:100]
    # one logical report per job: a new version of the job's report, or its first one (the id a
    # device would choose, derived from the job so every bench device agrees on it)
    report_ids = {
        j[0]: uuid.UUID(reports[j[0]][0]) if j[0] in reports else uuid.uuid5(BENCH_NS, j[0])
        for j in report_jobs
    }
    kinds: Counter[str] = Counter()
    for i in range(n):
        job_id, _, version = open_jobs[i % len(open_jobs)]
        k = i % 10
        if k < 6:
            op: type[Any] = PartConsume
            fields: dict[str, Any] = {
                "job_id": job_id,
                "part_id": van_parts[i % len(van_parts)],
                "location_id": van,
                "qty": 1,
            }
        elif k < 8:
            rj = report_jobs[i % len(report_jobs)][0]
            op, fields = (
                ReportSubmit,
                {
                    "report_id": report_ids[rj],
                    "job_id": rj,
                    "diagnosis": f"Pump vibration, reading {i}",
                    "root_cause_category": "wear",
                    "root_cause": "Bearing worn past service life",
                    "prevention": "Grease quarterly",
                    "actions": "Replaced bearing and seal; test run 20 min",
                    "labour_minutes": 45,
                    "parts": [{"part_id": van_parts[i % len(van_parts)], "qty": 1}],
                },
            )
        elif k == 8:
            op, fields = (
                JobNote,
                {
                    "job_id": job_id,
                    "text": f"Customer asks for a call ({i})",
                    "base_version": version,
                },
            )
        elif i % 20 == 9:
            op, fields = (
                PartRequest,
                {
                    "request_id": uuid.uuid4(),
                    "job_id": job_id,
                    "part_id": parts[i % len(parts)],
                    "qty": 2,
                    "note": "bench",
                },
            )
        else:
            op, fields = (
                FeedbackSubmit,
                {
                    "feedback_id": uuid.uuid4(),
                    "job_id": job_id,
                    "attitude": 5,
                    "efficiency": 4,
                    "quality": 5,
                    "comment": "Quick and tidy",
                },
            )
        await device.queue(op, **fields)
        kinds[op.__name__] += 1
    return kinds


_LOGISTICS_TOKENS: dict[str, str] = {}  # by server URL: one login per server, not per round


async def _logistics_headers(client: Any, url: str, *, fresh: bool = False) -> dict[str, str]:
    if fresh or url not in _LOGISTICS_TOKENS:
        _LOGISTICS_TOKENS[url] = await SharedLogin(client, "logistics1").token()
    return {"authorization": f"Bearer {_LOGISTICS_TOKENS[url]}"}


async def changes_by_logistics(url: str, database_url: str, ref: DeviceClient, n: int) -> Sample:
    """``n`` receipts at a warehouse, each its own request and commit (with replication)."""
    warehouses = {i for i, d, _ in replica_docs(ref, "location") if d["kind"] == "warehouse"}
    levels = [d for _, d, _ in replica_docs(ref, "stock") if d["location_id"] in warehouses]
    step = max(1, len(levels) // n)
    chosen = levels[::step][:n]
    assert len(chosen) == n, f"only {len(chosen)} warehouse stock documents in scope"
    async with http_client(url) as client:
        headers = await _logistics_headers(client, url)
        probe = await client.get("/auth/me", headers=headers)
        if probe.status_code == 401:  # a token of an earlier server on the same port
            headers = await _logistics_headers(client, url, fresh=True)
        with Meter(None).run() as sample:
            for d in chosen:
                r = await client.post(
                    "/stock/movements",
                    headers=headers,
                    json={
                        "part_id": d["part_id"],
                        "location_id": d["location_id"],
                        "kind": "receipt",
                        "qty_delta": 1,
                        "note": "bench incremental change",
                    },
                )
                r.raise_for_status()
        sample.requests = n
    sample.extra["visibility_wait_s"] = await wait_visible(database_url)
    return sample


async def run_repetition(
    url: str,
    pid: int,
    database_url: str,
    *,
    newcomer: str,
    pages: list[int],
    batches: list[int],
    n_changed: int,
    n_push: int,
    n_docs: int,
    spy: Callable[[str], AbstractContextManager[None]] | None = None,
) -> dict[str, Any]:
    """One repetition; returns ``{workload: sample dict}``. ``newcomer`` is an engineer who has
    never pulled (their first pull builds their replica); ``spy(name)`` wraps a workload (a
    profiler, in the unmeasured profiling repetition)."""
    spy = spy or (lambda _name: nullcontext())
    out: dict[str, Any] = {}
    async with http_client(url) as client:
        transport = MeteredTransport(client)
        login = SharedLogin(client, "engineer1")
        await login.token()
        meter = Meter(pid, lambda: transport.requests)

        newcomer_login = SharedLogin(client, newcomer)
        await newcomer_login.token()  # log in before the clock starts
        first = await open_device(transport, newcomer_login, page=max(pages))
        with spy("a_first_pull"), meter.run() as a:
            a.extra["docs"] = await first.pull()
        # PostgreSQL may not let a pull read the build yet (see wait_visible): the rest comes
        # with the next pull, as it would for a real device; that one is not timed
        a.extra["visibility_wait_s"] = await wait_visible(database_url)
        a.extra["docs_later"] = await first.pull()
        out["a_first_pull"] = a.as_dict()

        # engineer1's replica exists and is readable before the clock starts (built by the first
        # repetition's first pull; on PostgreSQL see wait_visible)
        await (await open_device(transport, login)).pull()
        await wait_visible(database_url)
        ref: DeviceClient | None = None
        for page in pages:
            dev = await open_device(transport, login, page=page)
            b0, mark = transport.bytes_in, len(transport.latency["/sync/pull"])
            with spy(f"b_initial_pull@{page}"), meter.run() as b:
                b.extra["docs"] = await dev.pull()
            b.extra["bytes"] = transport.bytes_in - b0
            b.extra["exchange_s"] = sum(transport.latency["/sync/pull"][mark:])
            assert b.extra["docs"] == n_docs, f"initial pull brought {b.extra['docs']} of {n_docs}"
            out[f"b_initial_pull@{page}"] = b.as_dict()
            ref = ref or dev
        assert ref is not None

        update = await changes_by_logistics(url, database_url, ref, n_changed)
        out["c_server_update"] = update.as_dict()
        mark = len(transport.latency["/sync/pull"])
        with spy("c_incremental_pull"), meter.run(collect=False) as c:
            c.extra["docs"] = await ref.pull()
        c.extra["exchange_s"] = sum(transport.latency["/sync/pull"][mark:])
        assert c.extra["docs"] == n_changed, f"incremental pull brought {c.extra['docs']}"
        out["c_incremental_pull"] = c.as_dict()

        # The pushing engineer is another one: their work (reports, part requests) enters their
        # own scope, so engineer1's stays exactly n_docs documents from one repetition to the next.
        worker = SharedLogin(client, PUSHER)
        await worker.token()
        worker_ref = await open_device(transport, worker)
        await worker_ref.pull()
        await worker_ref.pull()  # PostgreSQL: whatever the first pull could not read yet
        for batch in batches:
            dev = await open_device(transport, worker, batch=batch)
            kinds = await queue_work(dev, worker_ref, worker.user_id, n_push)
            saved = local_store(dev).copy()  # the state with all 1,000 operations queued
            with spy(f"d_push@{batch}"), meter.run() as d:
                results = await dev.push()
            statuses = Counter(r.status for r in results)
            d.extra.update(
                ops=len(results), kinds=dict(kinds), **{f"{s}": n for s, n in statuses.items()}
            )
            d.extra["rejections"] = dict(Counter(r.code for r in results if r.code))
            assert len(results) == n_push, f"push answered {len(results)} of {n_push}"
            out[f"d_push@{batch}"] = d.as_dict()

            before = await fingerprint(database_url)
            again = await open_device(transport, worker, batch=batch, local=saved)
            assert again.device_id == dev.device_id and len(again.outbox) == n_push
            with meter.run() as d2:
                replayed = await again.push()
            after = await fingerprint(database_url)
            enc = msgspec.json.encode
            same = [enc(x) == enc(y) for x, y in zip(results, replayed, strict=True)]
            d2.extra.update(ops=len(replayed), identical=sum(same), unchanged=before == after)
            assert all(same), "a replayed result differs from the stored one"
            assert before == after, _diff(before, after)
            out[f"d_replay@{batch}"] = d2.as_dict()
        if transport.errors:
            raise RuntimeError(f"FieldSync answered errors: {transport.errors[:5]}")
    return out


def _diff(before: dict[str, int], after: dict[str, int]) -> str:
    moved = {k: (before.get(k), after.get(k)) for k in after if before.get(k) != after.get(k)}
    return f"the replay changed the database: {moved}"
