"""The stateful sync proof's cast and judges (see ``test_stateful_sync.py``).

- The cast: three engineers, five devices, six jobs, three vans.
- :class:`FaultyTransport`: one device's network — offline, lost responses (the server processed
  the request; the answer never arrives), duplicated deliveries, a crash mid-sync — which shows
  the :class:`Audit` every page the server sent and every page the device applied.
- :func:`check_quiescence`: drain the system, then check the end state.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select, text

from server.feedback.models import Feedback
from server.inventory.ledger import verify_ledger
from server.inventory.models import PartRequest, StockMovement
from server.jobs.models import Job, JobEvent
from server.reports.models import Signature, WorkReport
from server.syncing.device import HttpTransport
from server.syncing.documents import render
from server.syncing.models import BlobRecord, OperationRecord
from server.syncing.scope import scope_keys
from sync.changes import PULL_PAGE_DECODER, PutChange, RemoveChange
from sync.errors import Unavailable
from sync.messages import OP_RESULT_DECODER
from sync.operations import (
    FeedbackSubmit,
    JobNote,
    JobStatus,
    PartConsume,
    ReportSubmit,
    SignatureCapture,
)
from sync.operations import PartRequest as PartRequestOp
from sync.transport import Response
from tests.world import World

ENGINEERS = ("engineer1", "engineer2", "engineer3")
# (device, user): engineer1 and engineer2 carry two devices each.
DEVICES = (
    ("d1a", "engineer1"),
    ("d1b", "engineer1"),
    ("d2a", "engineer2"),
    ("d2b", "engineer2"),
    ("d3", "engineer3"),
)
JOBS = ("e1_a", "e1_b", "e2_a", "e2_b", "e3_a", "open")
VANS = {"engineer1": "VAN-1", "engineer2": "VAN-2", "engineer3": "VAN-3"}


CHANGE_DECODER = msgspec.json.Decoder(PutChange | RemoveChange)


@dataclass
class Audit:
    """What the server sent, judged against what the test did to scopes.

    - Leak: a put must concern its engineer — their job (``engineer_id`` = them), customers,
      sites, assets, reports and history of jobs they were at some point given, a warehouse or
      their own van, their own part requests and profile, the catalogue.
    - Resurrection: once a device applied a remove of a key, a put of it may only come after
      some job entered that engineer's scope again (their ``epoch`` grew).
    - Any 5xx answer (an internal error is never a correct answer to a valid client).
    """

    world: World
    refs: dict[str, tuple[str, str, str]]  # job id -> (customer, site, asset)
    ever: dict[str, set[str]] = field(default_factory=dict)  # user -> job ids ever given
    epoch: dict[str, int] = field(default_factory=dict)  # user -> jobs that entered the scope
    requesters: dict[str, str] = field(default_factory=dict)  # part request id -> user
    removed: dict[str, dict[str, int]] = field(default_factory=dict)  # device -> key -> epoch
    violations: list[str] = field(default_factory=list)

    def uid(self, user: str) -> str:
        return str(self.world.users[user])

    def _refs(self, user: str, index: int) -> set[str]:
        return {self.refs[j][index] for j in self.ever[user]}

    def allowed(self, user: str, put: PutChange) -> bool:
        doc = put.doc
        locations = {str(self.world.locations[c]) for c in ("WH-1", "WH-2", VANS[user])}
        match put.kind:
            case "job":
                return put.id in self.ever[user] and doc["engineer_id"] == self.uid(user)
            case "customer" | "site" | "asset":
                return put.id in self._refs(user, ("customer", "site", "asset").index(put.kind))
            case "service_history":
                return doc["asset_id"] in self._refs(user, 2)
            case "report":
                return doc["job_id"] in self.ever[user]
            case "part_request":
                return self.requesters.get(put.id) == user
            case "stock":
                return doc["location_id"] in locations
            case "location":
                return put.id in locations
            case "user":
                return put.id == self.uid(user)
        return put.kind in ("part", "article")

    def answered(self, device: str, user: str, path: str, response: Response) -> None:
        if response.status >= 500:
            self.violations.append(f"{device}: {path} -> {response.status} {response.body[:200]!r}")
        elif path == "/sync/pull" and response.status == 200:
            for change in PULL_PAGE_DECODER.decode(response.body).changes:
                if isinstance(change, PutChange) and not self.allowed(user, change):
                    self.violations.append(f"{user} was sent {change.key} {change.doc}")

    def applied(self, device: str, user: str, body: bytes) -> None:
        removed = self.removed.setdefault(device, {})
        for change in PULL_PAGE_DECODER.decode(body).changes:
            if isinstance(change, RemoveChange):
                removed[change.key] = self.epoch[user]
            elif removed.pop(change.key, None) == self.epoch[user]:
                self.violations.append(f"{device}: {change.key} came back, never re-entered")


class DeviceCrash(Exception):
    """The app dies before reading an answer the server already committed."""


class FaultyTransport:
    """A device's network in front of whatever server runs now (``owner.server``); reports
    every pull page to ``owner.audit`` (sent: even if lost; applied: only if delivered)."""

    def __init__(self, owner: Any, device: str, user: str) -> None:
        self._owner, self.device, self.user = owner, device, user
        self.offline = False
        self.lose = 0  # answers to lose after the server processed the request
        self.dup = 0  # requests to deliver twice
        self.crash_at: int | None = None  # die after this many more exchanges
        self.pulled = False  # has a pull page ever been delivered

    def clear(self) -> None:
        self.offline, self.lose, self.dup, self.crash_at = False, 0, 0, None

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        if self.offline:
            raise Unavailable("network is unreachable")
        audit = self._owner.audit
        inner = HttpTransport(self._owner.server.http)
        response = await inner.request(method, path, body, headers)
        audit.answered(self.device, self.user, path, response)
        if self.dup:
            self.dup -= 1
            again = await inner.request(method, path, body, headers)
            audit.answered(self.device, self.user, path, again)
            if path == "/sync/push" and response.status == 200 and again.body != response.body:
                audit.violations.append(f"{self.device}: a replayed push was answered differently")
            response = again
        if self.crash_at is not None:
            self.crash_at -= 1
            if self.crash_at <= 0:
                self.crash_at = None
                raise DeviceCrash(f"{self.device} died before reading the answer to {path}")
        if self.lose:
            self.lose -= 1
            raise Unavailable("connection reset before the response arrived")
        if path == "/sync/pull" and response.status == 200:
            audit.applied(self.device, self.user, response.body)
            self.pulled = True
        return response


async def settle(m: Any) -> None:
    """PostgreSQL: wait until every committed replica change is readable (an older transaction
    anywhere in the cluster delays reads, PROTOCOL.md §11 — a lag, never a skip)."""
    if m.settings.is_sqlite:
        return
    visible = text(
        "SELECT coalesce(max(txid), 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        " FROM replica_changes"
    )
    for _ in range(1000):
        async with m.sessions() as db:
            if (await db.execute(visible)).scalar():
                return
        await asyncio.sleep(0.01)
    raise AssertionError("committed replica changes did not become readable in 10 s")


async def check_quiescence(m: Any) -> None:
    """Everyone online, outboxes pushed, every change pulled: then the end state must hold."""
    for dev in m.devs:
        dev.transport.clear()
    for dev in m.devs:
        await dev.client.upload_blobs()
        await dev.client.push()
    for _ in range(2):  # the first round may build replicas; the second reads them settled
        await settle(m)
        for dev in m.devs:
            await dev.client.pull()
    problems = await replica_problems(m)
    assert not problems, problems[:5]
    assert not m.audit.violations, m.audit.violations
    await check_operations(m)
    await check_effects(m)
    async with m.sessions() as db:
        assert await verify_ledger(db) == []


async def replica_problems(m: Any) -> list[str]:
    """How each replica differs from its user's ``scope_keys``, rendered now (empty: equal)."""
    problems: list[str] = []
    async with m.sessions() as db:
        for dev in m.devs:
            replica = dev.client.replica
            scope = await scope_keys(db, m.audit.uid(dev.user))
            missing, extra = scope - set(replica), set(replica) - scope
            if missing or extra:
                problems.append(f"{dev.name}: missing {missing}, extra {extra}")
                continue
            for key, raw in (await render(db, set(replica))).items():
                now, held = CHANGE_DECODER.decode(raw), replica[key]
                if not isinstance(now, PutChange) or (held.v, held.doc) != (now.v, now.doc):
                    problems.append(f"{dev.name}: {key} is v{held.v} {held.doc}, not {raw!r}")
    return problems


async def check_operations(m: Any) -> None:
    """One record per (device, seq), seqs 1..n without gaps, applied in seq order, each holding
    the answer its device got; the outbox is empty."""
    async with m.sessions() as db:
        rows = (await db.execute(select(OperationRecord))).scalars().all()
    by_device: dict[UUID, list[OperationRecord]] = {}
    for row in rows:
        by_device.setdefault(row.device_id, []).append(row)
    assert set(by_device) <= {dev.client.device_id for dev in m.devs}
    for dev in m.devs:
        assert dev.client.outbox == () and not dev.client.blob_errors
        records = sorted(by_device.get(dev.client.device_id, []), key=lambda r: r.seq)
        assert [r.seq for r in records] == list(range(1, len(dev.queued) + 1)), dev.name
        by_seq = {op.seq: op for op in dev.queued.values()}
        for record in records:
            op = by_seq[record.seq]
            assert record.op_id == op.id
            assert OP_RESULT_DECODER.decode(record.result) == dev.client.results[str(op.id)]
        received = [r.received_at for r in records]
        assert received == sorted(received), f"{dev.name}: applied out of seq order"


async def check_effects(m: Any) -> None:
    """Each applied operation took effect exactly once, each rejected one not at all."""
    async with m.sessions() as db:
        notes = Counter((await db.execute(select(StockMovement.note))).scalars())
        versions = Counter(await db.execute(select(WorkReport.report_id, WorkReport.version)))
        signatures = set((await db.execute(select(Signature.id))).scalars())
        blobs = set((await db.execute(select(BlobRecord.sha256))).scalars())
        requests = set((await db.execute(select(PartRequest.id))).scalars())
        feedback = set((await db.execute(select(Feedback.id))).scalars())
        note_versions = {str(j): v for j, v in await db.execute(select(Job.id, Job.note_version))}
        engineers = [UUID(m.audit.uid(u)) for u in m.audit.ever]
        by_engineers = select(JobEvent.job_id).where(JobEvent.actor_id.in_(engineers))
        events = Counter(str(j) for j in (await db.execute(by_engineers)).scalars())
    submits: Counter[UUID] = Counter()
    wrote: Counter[str] = Counter()
    moved: Counter[str] = Counter()
    for dev in m.devs:
        for op_id, op in dev.queued.items():
            result = dev.client.results[op_id]
            ok = result.status == "applied"
            match op:
                case PartConsume():
                    assert notes[f"op {op.id}"] == ok, (op, result)
                case ReportSubmit():
                    submits[op.report_id] += ok
                    assert not ok or versions[(op.report_id, result.result["version"])] == 1
                case SignatureCapture():
                    assert (op.signature_id in signatures) == ok, (op, result)
                    assert op.image_sha256 in blobs  # files arrive, even after the operation
                case PartRequestOp():
                    assert (op.request_id in requests) == ok, (op, result)
                case FeedbackSubmit():
                    assert (op.feedback_id in feedback) == ok, (op, result)
                case JobNote():
                    wrote[op.job_id] += ok
                case JobStatus():
                    moved[op.job_id] += ok and result.result["changed"]
    for report_id, n in submits.items():
        assert sum(c for (r, _), c in versions.items() if r == report_id) == n, report_id
    for job_id, n in note_versions.items():
        assert n == wrote[job_id], f"job {job_id}: note version {n}, {wrote[job_id]} applied"
        assert events[job_id] == moved[job_id], f"job {job_id}: engineer moves"
