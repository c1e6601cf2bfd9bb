"""kill -9 mid-batch (DESIGN.md §7, PROTOCOL.md §3.5): the real server, SIGKILLed while a device
pushes, loses nothing it acknowledged and applies nothing twice or in part.

The server runs as a subprocess (``python -m server serve``, SQLite file, demo data) on a free
loopback port. The reference device (``DeviceClient`` over ``HttpTransport``) first pulls its
replica, then, round after round, queues a batch of operations — ``part.consume`` from its own
van, ``job.note`` and ``report.submit`` on its assigned jobs — starts the push, and SIGKILLs the
server after a random delay within the push's expected duration (every third kill: the moment
the database file shows the batch committed, before the answer is out). The server is restarted and
the device re-sends whatever it has not seen acknowledged, together with the next batch.

Every push that got no answer at all is a kill that landed mid-batch; after each one the database
file says which way it went: rolled back (nothing of the batch kept) or committed with the
answer lost (the next push replays it). At the end the database must hold exactly the effects of
the device's operations, each once, with its record, in seq order:

- ``sync_operations`` holds seqs 1..N of the device, each with the operation's id and, byte for
  byte, the result the device received (first answer or replay);
- every ``part.consume`` left exactly one stock movement (note ``op <id>``) and one part usage,
  every ``report.submit`` exactly one report version, every ``job.note`` one note version — and no
  such effect exists without its operation; the levels and versions the device was told follow
  from applying the operations once each in seq order;
- stock levels equal the sums of their movements (``verify_ledger``) and
  ``PRAGMA integrity_check`` is ``ok``.

The device's own storage is not what this test crashes, so it keeps its state in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from server.demo import DEMO_PASSWORD
from server.inventory.ledger import verify_ledger
from server.syncing.device import HttpTransport, PasswordLogin
from sync.client import DeviceClient
from sync.errors import Unavailable
from sync.localstore import DeviceSnapshot
from sync.messages import MAX_BATCH, OP_RESULT_DECODER, PUSH_RESPONSE_DECODER
from sync.operations import JobNote, Operation, PartConsume, ReportSubmit
from sync.transport import Channel, Response, RetryPolicy

REPO = Path(__file__).resolve().parents[2]
SECRET = "crash-test-secret-key-0123456789abcdef"
READY_TIMEOUT = 90.0  # seconds; the first start migrates and seeds the demo data


# -- the server process -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m server serve`` on a private SQLite file and port; only ever SIGKILLed."""

    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "crash.db"
        self.log = tmp / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSYNC_")}
        env.update(
            FIELDSYNC_DATABASE_URL=f"sqlite+aiosqlite:///{self.db}",
            FIELDSYNC_HOST="127.0.0.1",
            FIELDSYNC_PORT=str(self.port),
            FIELDSYNC_DATA_DIR=str(tmp),
            FIELDSYNC_SECRET_KEY=SECRET,
            FIELDSYNC_SEED_DEMO="true",
            FIELDSYNC_LOGIN_RATE_PER_MINUTE="100000",
        )
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server", "serve"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    async def ready(self, http: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if (await http.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await asyncio.sleep(0.05)
        raise AssertionError(f"server not ready after {READY_TIMEOUT} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL, and reap the process (no graceful shutdown, no flushing)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


# -- the device ---------------------------------------------------------------------------------
class KeptLocalStore:
    """The device's state in memory, by reference (its own durability is not under test)."""

    def __init__(self) -> None:
        self.snapshot: DeviceSnapshot | None = None

    async def load(self) -> DeviceSnapshot | None:
        return self.snapshot

    async def save(self, snapshot: DeviceSnapshot) -> None:
        self.snapshot = snapshot


class WatchedTransport:
    """The device's transport, noting what it saw: every push answer, and each ``OpResult`` it
    received (raw bytes, by seq) — the operations the device saw acknowledged."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner
        self.push_answers = 0
        self.acks: dict[int, bytes] = {}
        self.statuses: Counter[int] = Counter()

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        response = await self.inner.request(method, path, body, headers)
        if path == "/sync/push":
            self.push_answers += 1
            self.statuses[response.status] += 1
            if response.status == 200:
                for raw in PUSH_RESPONSE_DECODER.decode(response.body).results:
                    seq = OP_RESULT_DECODER.decode(raw).seq
                    # an acknowledged operation leaves the outbox: it is never answered twice
                    assert seq not in self.acks, f"seq {seq} was acknowledged twice"
                    self.acks[seq] = bytes(raw)
        return response


@dataclass
class Plan:
    """What the device works on, chosen from its replica after the first pull."""

    van: str
    parts: list[str]
    jobs: list[str]
    reports: dict[str, uuid.UUID]  # one report per job; each submit adds a version


def plan_from_replica(device: DeviceClient, user: Mapping[str, Any]) -> Plan:
    user_id = str(user["id"])
    docs = {key: change.doc for key, change in device.replica.items()}
    van = next(
        key.split(":", 1)[1]
        for key, doc in docs.items()
        if key.startswith("location:") and doc["kind"] == "van" and doc["engineer_id"] == user_id
    )
    parts = sorted(key.rsplit("/", 1)[1] for key in docs if key.startswith(f"stock:{van}/"))
    reported = {doc["job_id"] for key, doc in docs.items() if key.startswith("report:")}
    jobs = sorted(
        key.split(":", 1)[1]
        for key, doc in docs.items()
        if key.startswith("job:")
        and doc["engineer_id"] == user_id
        and doc["status"] not in ("completed", "cancelled")
        and key.split(":", 1)[1] not in reported
    )
    assert parts and jobs, "the demo data gives engineer1 a van with stock and open jobs"
    return Plan(van, parts[:8], jobs, {job: uuid.uuid4() for job in jobs})


async def queue_batch(
    device: DeviceClient, plan: Plan, rng: random.Random, n: int
) -> list[Operation]:
    """Queue ``n`` operations: half consumptions, a quarter each notes and report versions."""
    queued: list[Operation] = []
    for _ in range(n):
        job = rng.choice(plan.jobs)
        kind = rng.random()
        if kind < 0.5:
            part, qty = rng.choice(plan.parts), rng.randint(1, 3)
            op: Operation = await device.queue(
                PartConsume, job_id=job, part_id=part, location_id=plan.van, qty=qty
            )
        elif kind < 0.75:
            op = await device.queue(
                JobNote, job_id=job, text=f"note {uuid.uuid4()}", base_version=0
            )
        else:
            op = await device.queue(
                ReportSubmit,
                report_id=plan.reports[job],
                job_id=job,
                diagnosis=f"diagnosis {uuid.uuid4()}",
                root_cause_category="wear",
                root_cause="worn seal",
                prevention="inspect yearly",
                actions="replaced the seal",
                labour_minutes=rng.randint(5, 120),
            )
        queued.append(op)
    return queued


# -- the database file --------------------------------------------------------------------------
def _b(value: str | uuid.UUID) -> bytes:
    return (value if isinstance(value, uuid.UUID) else uuid.UUID(value)).bytes


@contextlib.contextmanager
def read_only(db: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


@dataclass
class Baseline:
    """The rows the operations will change, as they were before the first push."""

    levels: dict[str, int]  # part -> on_hand at the van
    jobs: dict[str, tuple[int, int]]  # job -> (version, note_version)
    movements: int
    usages: int
    reports: int


def baseline(db: Path, plan: Plan) -> Baseline:
    with read_only(db) as c:
        levels = {
            part: int(
                c.execute(
                    "SELECT on_hand FROM stock_levels WHERE part_id = ? AND location_id = ?",
                    (_b(part), _b(plan.van)),
                ).fetchone()[0]
            )
            for part in plan.parts
        }
        jobs = {
            job: c.execute(
                "SELECT version, note_version FROM jobs WHERE id = ?", (_b(job),)
            ).fetchone()
            for job in plan.jobs
        }
        count = {
            t: int(c.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("stock_movements", "part_usages", "work_reports")
        }
    return Baseline(
        levels, jobs, count["stock_movements"], count["part_usages"], count["work_reports"]
    )


def committed_seq(db: Path, device_id: uuid.UUID) -> int:
    """The device's last processed seq as the database file holds it (server down)."""
    with read_only(db) as c:
        row = c.execute("SELECT last_seq FROM devices WHERE id = ?", (device_id.bytes,)).fetchone()
    return 0 if row is None else int(row[0])


def check_database(
    db: Path,
    device_id: uuid.UUID,
    plan: Plan,
    before: Baseline,
    ops: list[Operation],
    acks: Mapping[int, bytes],
) -> None:
    """Exactly-once, all-or-nothing, in order — from the database file after the last kill."""
    n = len(ops)
    results = {seq: msgspec.json.decode(raw) for seq, raw in acks.items()}
    assert sorted(results) == list(range(1, n + 1)), "every operation was acknowledged"
    assert {r["status"] for r in results.values()} == {"applied"}, [
        (s, r["code"], r["message"]) for s, r in results.items() if r["status"] != "applied"
    ][:5]
    with read_only(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        # one record per operation, seqs 1..N, carrying exactly the answer the device received
        records = c.execute(
            "SELECT seq, op_id, result FROM sync_operations WHERE device_id = ? ORDER BY seq",
            (device_id.bytes,),
        ).fetchall()
        assert [r[0] for r in records] == list(range(1, n + 1))
        assert [uuid.UUID(bytes=r[1]) for r in records] == [op.id for op in ops]
        assert [bytes(r[2]) for r in records] == [acks[seq] for seq in range(1, n + 1)]
        assert c.execute(
            "SELECT last_seq FROM devices WHERE id = ?", (device_id.bytes,)
        ).fetchone() == (n,)

        # part.consume: one movement and one usage per operation, none without one
        consumes = [op for op in ops if isinstance(op, PartConsume)]
        movements = c.execute(
            "SELECT id, note, part_id, location_id, qty_delta FROM stock_movements "
            "WHERE note LIKE 'op %'"
        ).fetchall()
        by_note = Counter(note for _, note, *_ in movements)
        assert by_note == Counter(f"op {op.id}" for op in consumes), "movements ≠ operations"
        movement_of = {note: (part, loc, qty) for _, note, part, loc, qty in movements}
        for op in consumes:
            assert movement_of[f"op {op.id}"] == (_b(op.part_id), _b(plan.van), -op.qty)
        assert c.execute("SELECT count(*) FROM stock_movements").fetchone() == (
            before.movements + len(consumes),
        )
        usages = c.execute(
            "SELECT m.note FROM part_usages u JOIN stock_movements m ON m.id = u.movement_id "
            "WHERE m.note LIKE 'op %'"
        ).fetchall()
        assert Counter(u[0] for u in usages) == Counter(f"op {op.id}" for op in consumes)
        assert c.execute("SELECT count(*) FROM part_usages").fetchone() == (
            before.usages + len(consumes),
        )

        # the levels the device was told: the van's level after applying each consume once
        level = dict(before.levels)
        for op in consumes:
            level[op.part_id] -= op.qty
            assert results[op.seq]["result"] == {"level": level[op.part_id]}, op.seq
        for part, expected in level.items():
            assert c.execute(
                "SELECT on_hand FROM stock_levels WHERE part_id = ? AND location_id = ?",
                (_b(part), _b(plan.van)),
            ).fetchone() == (expected,)

        # report.submit: versions 1..k of each job's report, one row per operation
        submits = [op for op in ops if isinstance(op, ReportSubmit)]
        made: dict[str, int] = defaultdict(int)
        for submit in submits:
            made[submit.job_id] += 1
            assert results[submit.seq]["result"]["version"] == made[submit.job_id], submit.seq
        for job, report_id in plan.reports.items():
            versions = c.execute(
                "SELECT version FROM work_reports WHERE report_id = ? ORDER BY version",
                (report_id.bytes,),
            ).fetchall()
            assert [v[0] for v in versions] == list(range(1, made[job] + 1)), job
        assert c.execute("SELECT count(*) FROM work_reports").fetchone() == (
            before.reports + len(submits),
        )

        # job.note: one version per operation; the last text wins
        notes = [op for op in ops if isinstance(op, JobNote)]
        written: dict[str, int] = defaultdict(int)
        last_text: dict[str, str] = {}
        for note in notes:
            written[note.job_id] += 1
            last_text[note.job_id] = note.text
            version = before.jobs[note.job_id][0] + written[note.job_id]
            assert results[note.seq]["result"] == {
                "version": version,
                "overwrote_version": version - 1,
            }, note.seq
        for job, (version, note_version) in before.jobs.items():
            row = c.execute(
                "SELECT version, note_version, note FROM jobs WHERE id = ?", (_b(job),)
            ).fetchone()
            assert row[:2] == (version + written[job], note_version + written[job]), job
            if job in last_text:
                assert row[2] == last_text[job]


async def check_ledger(db: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with AsyncSession(engine) as session:
            assert await verify_ledger(session) == []
    finally:
        await engine.dispose()


async def committed(db: Path, device_id: uuid.UUID, seq: int, push: asyncio.Task[Any]) -> None:
    """Return as soon as the file shows the device past ``seq`` (or the push ended, or 30 s)."""
    deadline = time.monotonic() + 30
    while not push.done() and time.monotonic() < deadline:
        if await asyncio.to_thread(committed_seq, db, device_id) > seq:
            return


async def timed_push(device: DeviceClient) -> float:
    """Push the outbox; when it was done (monotonic)."""
    await device.push()
    return time.monotonic()


# -- the loop -----------------------------------------------------------------------------------
@dataclass
class Stats:
    kills: int = 0
    mid_batch: int = 0  # the push got no answer at all
    rolled_back: int = 0  # ... and nothing of the batch was kept
    answer_lost: int = 0  # ... the batch had committed; the next push replayed it
    replayed_ops: int = 0  # operations answered from their record after a lost answer
    answered_before_kill: int = 0
    at_commit: int = 0  # kills aimed at the moment of commit
    ops: int = 0
    seconds: float = 0.0


async def crash_loop(
    tmp: Path,
    *,
    kills: int,
    batch: tuple[int, int],
    spread: tuple[float, float],
    at_commit_every: int,
    budget: float,
    seed: int,
) -> Stats:
    """Kill the server during pushes until ``kills`` kills or ``budget`` seconds; then drain the
    outbox and check the database file. Each kill comes ``spread`` × the push's expected
    duration after the push starts — except every ``at_commit_every``-th kill, which comes the
    moment the database file shows the batch committed: it aims at the narrow window between
    commit and the answer reaching the device."""
    rng = random.Random(seed)
    stats = Stats()
    started = time.monotonic()
    server = ServerProcess(tmp)
    limits = httpx.Limits(max_keepalive_connections=0)  # no connection outlives a kill
    try:
        server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            await server.ready(http)
            login = PasswordLogin(http, "engineer1", DEMO_PASSWORD)
            transport = WatchedTransport(HttpTransport(http))
            # one attempt: a push the kill cut off fails at once and the loop restarts the server
            device = await DeviceClient.open(
                Channel(transport, login, RetryPolicy(attempts=1)), KeptLocalStore()
            )
            await device.pull()
            plan = plan_from_replica(device, login.user)
            before = baseline(server.db, plan)

            # calibrate: one undisturbed push gives the cost of an operation
            ops = await queue_batch(device, plan, rng, rng.randint(*batch))
            t0 = time.monotonic()
            await device.push()
            per_op = (time.monotonic() - t0) / len(ops)
            server_seq = len(ops)  # the device's last seq the database holds

            while stats.kills < kills and time.monotonic() - started < budget:
                room = MAX_BATCH - len(device.outbox)  # one batch per push
                ops += await queue_batch(device, plan, rng, min(rng.randint(*batch), room))
                size, last = len(device.outbox), device.outbox[-1].seq
                answers = transport.push_answers
                t0 = time.monotonic()
                push = asyncio.create_task(timed_push(device))
                # the kill's timing is the random variable here, not a synchronisation
                if (stats.kills + 1) % at_commit_every == 0:
                    stats.at_commit += 1
                    await committed(server.db, device.device_id, server_seq, push)
                else:
                    await asyncio.wait({push}, timeout=rng.uniform(*spread) * per_op * size)
                server.kill()
                stats.kills += 1
                try:
                    finished: float | None = await push
                except Unavailable:
                    finished = None
                if transport.push_answers == answers:  # cut off: no answer came back
                    stats.mid_batch += 1
                    kept = committed_seq(server.db, device.device_id)
                    assert kept in (server_seq, last), f"batch partly kept: {kept}"
                    if kept == last:
                        stats.answer_lost += 1
                        stats.replayed_ops += last - server_seq
                    else:
                        stats.rolled_back += 1
                    server_seq = kept
                else:
                    stats.answered_before_kill += 1
                    if finished is not None:  # answered before the kill: a cost sample
                        per_op = 0.5 * per_op + 0.5 * (finished - t0) / size
                    server_seq = last
                server.start()
                await server.ready(http)

            for _ in range(5):  # drain: the device re-sends what it has not seen acknowledged
                if not device.outbox:
                    break
                try:
                    await device.push()
                except Unavailable:
                    await asyncio.sleep(0.5)
            assert not device.outbox, "the outbox drains once the server stays up"
            assert set(transport.statuses) == {200}, transport.statuses  # never an error
            await device.pull()
            for part in plan.parts:  # the replica followed every applied consumption
                doc = device.doc(f"stock:{plan.van}/{part}")
                spent = sum(
                    op.qty for op in ops if isinstance(op, PartConsume) and op.part_id == part
                )
                assert doc is not None and doc["on_hand"] == before.levels[part] - spent
        server.kill()  # a last SIGKILL; the checks read the file it leaves behind
        check_database(server.db, device.device_id, plan, before, ops, transport.acks)
        await check_ledger(server.db)
        stats.ops = len(ops)
    except BaseException:
        print(f"seed {seed}; server log:\n{server.tail()}")
        raise
    finally:
        server.kill()
    stats.seconds = time.monotonic() - started
    return stats


@pytest.mark.slow
async def test_kill_9_mid_batch_keeps_every_acknowledged_operation_once(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    stats = await crash_loop(
        tmp_path,
        kills=25,
        batch=(200, 500),
        spread=(0.1, 1.1),
        at_commit_every=3,
        budget=120,
        seed=seed,
    )
    print(f"seed {seed}: {stats}")
    assert stats.kills >= 10, stats
    assert stats.mid_batch > 0, stats  # not vacuous: kills did cut pushes off ...
    assert stats.rolled_back > 0, stats  # ... before commit
    assert stats.answer_lost > 0, stats  # ... and after it, before the answer arrived
