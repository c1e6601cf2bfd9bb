"""The reference client against the in-process server, through faulty networks."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from sync import toyhandler
from sync.canonical import report_hash
from sync.errors import (
    BadRequest,
    OutOfOrder,
    SyncError,
    Unauthorized,
    Unavailable,
    UpgradeRequired,
)
from sync.localserver import LocalServer
from sync.localstore import DeviceSnapshot, JsonFileLocalStore, MemoryLocalStore, PendingBlob
from sync.messages import PUSH_RESPONSE_DECODER
from sync.operations import (
    FeedbackSubmit,
    JobNote,
    JobStatus,
    PartConsume,
    PartRequest,
    ReportSubmit,
    SignatureCapture,
)
from sync.transport import Response
from tests.sync.devices import Clock, Exchange, Network, NoSleep, Tokens, new_client

PNG = b"\x89PNG\r\n\x1a\n" + b"signature-pixels"


async def test_initial_sync_equals_the_server_scope(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    assert await client.pull() == 3
    assert dict(client.replica) == await server.scope("alice")
    assert set(client.replica) == {"job:j1", "job:j2", "stock:van-alice/P-1"}
    assert client.doc("job:j1")["title"] == "Pump P-12 leaking"  # type: ignore[index]


async def test_offline_work_is_queued_and_pushed_on_reconnect(server: LocalServer) -> None:
    network = Network(server)
    client = await new_client(server, "alice", network=network)
    await client.pull()
    network.offline = True
    await client.queue(JobStatus, job_id="j1", to="en_route", base_status="assigned")
    await client.queue(JobStatus, job_id="j1", to="on_site", base_status="en_route")
    with pytest.raises(Unavailable):
        await client.sync()
    assert [op.seq for op in client.outbox] == [1, 2]
    network.offline = False
    await client.sync()
    assert client.outbox == () and client.doc("job:j1")["status"] == "on_site"  # type: ignore[index]
    assert dict(client.replica) == await server.scope("alice")


async def test_lost_response_is_retried_and_replayed_identically(server: LocalServer) -> None:
    network = Network(server, lose=1)
    client = await new_client(server, "alice", network=network)
    await client.queue(PartConsume, job_id="j1", part_id="P-1", location_id="van-alice", qty=1)
    results = await client.push()
    pushes = [e for e in network.exchanges if e.path == "/sync/push"]
    assert len(pushes) == 2 and pushes[0].body == pushes[1].body
    assert pushes[0].response is not None and pushes[1].response is not None
    assert pushes[0].response.body == pushes[1].response.body  # byte-identical replay
    assert [r.status for r in results] == ["applied"] and client.outbox == ()
    async with server.store.transaction(write=False) as tx:
        assert toyhandler.stock_level(tx, "van-alice", "P-1") == 1  # consumed once


async def test_a_restart_after_a_lost_response_replays(server: LocalServer) -> None:
    local = MemoryLocalStore()
    network = Network(server, lose=4)  # every attempt of this run loses its answer
    client = await new_client(server, "alice", network=network, local=local)
    await client.queue(JobNote, job_id="j1", text="pump seal worn", base_version=1)
    with pytest.raises(Unavailable):
        await client.push()
    restarted = await new_client(server, "alice", local=local)  # the app was killed
    assert restarted.device_id == client.device_id and len(restarted.outbox) == 1
    [result] = await restarted.push()
    assert result.status == "applied" and result.flags == []
    assert result.result == {"version": 2, "overwrote_version": 1}  # applied exactly once


async def test_gap_is_refused_and_the_outbox_kept(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    for text in ("a", "b", "c"):
        await client.queue(JobNote, job_id="j1", text=text, base_version=1)
    client._state.outbox = client._state.outbox[1:]  # simulate a client that lost seq 1
    with pytest.raises(OutOfOrder) as caught:
        await client.push()
    assert caught.value.extra == {"seq": 2, "expected_seq": 1}
    assert [op.seq for op in client.outbox] == [2, 3]


async def test_poison_operation_does_not_block_the_queue(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    bad = await client.queue(JobStatus, job_id="j3", to="en_route", base_status="assigned")
    stale = await client.queue(JobStatus, job_id="j1", to="on_site", base_status="en_route")
    good = await client.queue(JobStatus, job_id="j2", to="en_route", base_status="assigned")
    await client.sync()
    assert client.outbox == ()
    assert client.results[str(bad.id)].code == "not_assigned"
    assert client.results[str(stale.id)].code == "stale_transition"
    assert client.results[str(stale.id)].flags == ["conflict"]
    assert client.results[str(good.id)].status == "applied"
    assert client.doc("job:j2")["status"] == "en_route"  # type: ignore[index]


async def test_reset_pushes_the_outbox_before_wiping(server: LocalServer, clock: Clock) -> None:
    network = Network(server)
    client = await new_client(server, "alice", network=network)
    await client.pull()
    async with server.store.transaction() as tx:
        await toyhandler.delete_job(tx, "j2")
    clock.advance(days=31)
    async with server.store.transaction() as tx:
        await tx.purge_removes(clock() - timedelta(days=30))
    await client.queue(JobStatus, job_id="j1", to="en_route", base_status="assigned")
    network.exchanges.clear()
    await client.pull()
    assert network.paths() == [
        "POST /sync/pull 409",
        "POST /sync/push 200",
        "POST /sync/pull 200",
    ]
    assert client.outbox == ()
    assert "job:j2" not in client.replica  # its remove was purged; the reset dropped it
    assert dict(client.replica) == await server.scope("alice")
    assert client.doc("job:j1")["status"] == "en_route"  # type: ignore[index]


async def test_reset_is_abandoned_when_the_outbox_cannot_be_pushed(server: LocalServer) -> None:
    network = Network(server)
    client = await new_client(server, "alice", network=network)
    await client.pull()
    client._state.cursor = "garbage"  # as good as a reset_required
    await client.queue(JobStatus, job_id="j1", to="en_route", base_status="assigned")
    network.fail, network.fail_path = [503] * 10, "/sync/push"
    with pytest.raises(Unavailable):
        await client.pull()
    assert len(client.outbox) == 1 and "job:j1" in client.replica  # nothing wiped


async def test_bad_cursor_after_a_key_rotation_resets(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    await client.pull()
    server.key = b"n" * 32
    await client.pull()
    assert dict(client.replica) == await server.scope("alice")


async def test_upgrade_required_keeps_the_queue_and_stops(server: LocalServer) -> None:
    local = MemoryLocalStore()
    network = Network(server)
    old = await new_client(server, "alice", network=network, local=local, protocol=0)
    await old.queue(JobStatus, job_id="j1", to="en_route", base_status="assigned")
    with pytest.raises(UpgradeRequired) as caught:
        await old.sync()
    assert caught.value.status == 426 and caught.value.extra["protocol_min"] == 1
    sent = len(network.exchanges)
    with pytest.raises(UpgradeRequired):
        await old.sync()
    assert len(network.exchanges) == sent  # stopped: no more requests
    assert len(old.outbox) == 1
    updated = await new_client(server, "alice", local=local)  # the new app version
    await updated.sync()
    assert updated.outbox == () and updated.doc("job:j1")["status"] == "en_route"  # type: ignore[index]


async def test_expired_token_is_refreshed_and_the_outbox_kept(server: LocalServer) -> None:
    tokens = Tokens(server, "alice")
    client = await new_client(server, "alice", tokens=tokens)
    await client.queue(JobStatus, job_id="j1", to="en_route", base_status="assigned")
    server.revoke_token(tokens.current)
    await client.sync()
    assert tokens.refreshes == 1 and client.outbox == ()
    server.revoke_token(tokens.current)
    tokens.logged_in = False
    await client.queue(JobStatus, job_id="j1", to="on_site", base_status="en_route")
    with pytest.raises(Unauthorized):
        await client.sync()
    assert len(client.outbox) == 1


async def test_server_errors_are_retried_with_jittered_backoff(server: LocalServer) -> None:
    network = Network(server, fail=[503, 500, 429])
    client = await new_client(server, "alice", network=network)
    assert await client.pull() == 3
    sleep = client.channel._sleep
    assert isinstance(sleep, NoSleep) and len(sleep.delays) == 3
    assert all(1.0 <= d <= 2.0 for d in sleep.delays)  # Retry-After: 1 is the floor
    network.fail = [503] * 10
    with pytest.raises(Unavailable, match="gave up after 4 attempts"):
        await client.pull()


async def test_client_errors_are_not_retried(server: LocalServer) -> None:
    network = Network(server)
    client = await new_client(server, "alice", network=network)
    with pytest.raises(BadRequest):
        await client.channel.call("POST", "/sync/pull", b'{"protocol":1,"schema":1,"limit":0}')
    assert len(network.exchanges) == 1


async def test_queue_refuses_invalid_operations_locally(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    with pytest.raises(BadRequest):
        await client.queue(PartConsume, part_id="P-1", location_id="van-alice", qty=0)
    assert client.outbox == ()


async def test_reassignment_moves_the_job_between_replicas(server: LocalServer) -> None:
    alice = await new_client(server, "alice")
    bob = await new_client(server, "bob")
    await alice.pull()
    await bob.pull()
    async with server.store.transaction() as tx:
        await toyhandler.update_job(tx, "j1", engineer="bob")
    await alice.queue(JobStatus, job_id="j1", to="en_route", base_status="assigned")
    await alice.sync()
    await bob.sync()
    assert "job:j1" not in alice.replica and "job:j1" in bob.replica
    [result] = alice.results.values()
    assert result.code == "not_assigned"


async def test_overdraw_is_applied_and_flagged(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    op = await client.queue(PartConsume, job_id="j1", part_id="P-1", location_id="van-alice", qty=3)
    await client.sync()
    assert client.results[str(op.id)].flags == ["overdraw"]
    assert client.doc("stock:van-alice/P-1")["qty"] == -1  # type: ignore[index]


async def test_report_signature_and_feedback_flow(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    await client.pull()
    report = await client.queue(
        ReportSubmit,
        report_id=uuid.uuid4(),
        job_id="j1",
        diagnosis="Seal worn",
        root_cause_category="wear",
        root_cause="Seal past service life",
        prevention="Replace seals every 2 years",
        actions="Replaced shaft seal",
        labour_minutes=45,
        parts=[{"part_id": "P-1", "qty": 1}],
    )
    image = await client.attach_blob(PNG, "image/png")
    signature = await client.queue(
        SignatureCapture,
        signature_id=uuid.uuid4(),
        report_id=report.report_id,
        report_version=1,
        signer_name="王先生",
        image_sha256=image,
        report_sha256=report_hash(report.report_fields()),
    )
    feedback = await client.queue(
        FeedbackSubmit, feedback_id=uuid.uuid4(), job_id="j1", attitude=5, efficiency=4, quality=5
    )
    request = await client.queue(
        PartRequest, request_id=uuid.uuid4(), job_id="j1", part_id="P-1", qty=2
    )
    await client.sync()
    assert [client.results[str(op.id)].status for op in (report, signature, feedback, request)] == [
        "applied"
    ] * 4
    assert client.results[str(signature.id)].flags == []  # the file went first
    doc = client.doc(f"report:{report.report_id}")
    assert doc is not None and doc["signed"] and doc["version"] == 1
    assert doc["report_sha256"] == report_hash(report.report_fields())
    assert client.doc(f"part_request:{request.request_id}")["status"] == "requested"  # type: ignore[index]
    status, _, data = await server.request(
        "GET", f"/sync/blobs/{image}", b"", {"authorization": f"Bearer {server.issue_token('x')}"}
    )
    assert (status, data) == (200, PNG)
    assert await client.upload_blobs() == 0


async def test_signature_rules(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    fields = dict(
        job_id="j1",
        diagnosis="d",
        root_cause_category="c",
        root_cause="r",
        prevention="p",
        actions="a",
        labour_minutes=1,
    )
    report_id = uuid.uuid4()
    v1 = await client.queue(ReportSubmit, report_id=report_id, **fields)
    v2 = await client.queue(ReportSubmit, report_id=report_id, **(fields | {"actions": "more"}))
    image = hashlib.sha256(PNG).hexdigest()

    async def sign(version: int, content: ReportSubmit) -> SignatureCapture:
        return await client.queue(
            SignatureCapture,
            signature_id=uuid.uuid4(),
            report_id=report_id,
            report_version=version,
            signer_name="Customer",
            image_sha256=image,
            report_sha256=report_hash(content.report_fields()),
        )

    superseded = await sign(1, v1)
    mismatch = await sign(2, v1)
    ok = await sign(2, v2)
    twice = await sign(2, v2)
    after = await client.queue(ReportSubmit, report_id=report_id, **fields)
    await client.push()  # no blob upload: the image is pending
    codes = [client.results[str(op.id)].code for op in (superseded, mismatch, ok, twice, after)]
    assert codes == [
        "report_superseded",
        "report_hash_mismatch",
        None,
        "already_signed",
        "report_signed",
    ]
    assert client.results[str(ok.id)].flags == ["pending_blob"]


async def test_blob_upload_is_idempotent_and_validated(server: LocalServer) -> None:
    network = Network(server)
    client = await new_client(server, "alice", network=network)
    sha = await client.attach_blob(PNG, "image/png")
    assert await client.upload_blobs() == 1
    assert await client.upload_blobs() == 0
    other = await new_client(server, "bob")
    await other.attach_blob(PNG, "image/png")
    assert await other.upload_blobs() == 0  # already there: only asked, never sent
    assert [e.path for e in network.exchanges] == ["/sync/blobs/missing", f"/sync/blobs/{sha}"]
    with pytest.raises(BadRequest):
        await client.attach_blob(b"not an image", "image/png")


async def test_json_file_store_survives_a_restart(server: LocalServer, tmp_path: Path) -> None:
    path = tmp_path / "device.json"
    client = await new_client(server, "alice", local=JsonFileLocalStore(path))
    await client.pull()
    op = await client.queue(JobNote, job_id="j1", text="备注 — note", base_version=1)
    await client.attach_blob(PNG, "image/png")
    again = await new_client(server, "alice", local=JsonFileLocalStore(path))
    assert again.device_id == client.device_id
    assert again.outbox == (op,) and dict(again.replica) == dict(client.replica)
    assert not path.with_name(path.name + ".tmp").exists()
    await again.sync()
    assert not again.outbox and again.results[str(op.id)].status == "applied"
    assert msgspec.json.decode(path.read_bytes())["blobs"] == {}


async def test_device_of_another_user_is_refused(server: LocalServer) -> None:
    alice = await new_client(server, "alice")
    await alice.pull()
    with pytest.raises(SyncError) as caught:
        await (await new_client(server, "bob", device_id=alice.device_id)).pull()
    assert caught.value.code == "device_mismatch"


async def test_push_response_lists_last_seq(server: LocalServer) -> None:
    network = Network(server)
    client = await new_client(server, "alice", network=network)
    for _ in range(3):
        await client.queue(JobNote, job_id="j1", text="t", base_version=1)
    await client.push()
    response = network.exchanges[-1].response
    assert response is not None and PUSH_RESPONSE_DECODER.decode(response.body).last_seq == 3


async def test_a_corrupt_file_does_not_block_the_queue(server: LocalServer) -> None:
    client = await new_client(server, "alice")
    sha = await client.attach_blob(PNG, "image/png")
    client._state.blobs[sha] = PendingBlob("image/png", PNG + b"bit rot")  # the disk lied
    op = await client.queue(JobStatus, job_id="j1", to="en_route", base_status="assigned")
    await client.sync()
    assert client.blob_errors == {sha: "blob_hash_mismatch"} and not client._state.blobs
    assert client.results[str(op.id)].status == "applied"


class _SaveWatcher(MemoryLocalStore):
    """An asynchronous disk (it lets the event loop run before it writes, as IndexedDB or a
    thread does) that notes, at every save, how many pull requests the network had seen."""

    def __init__(self, network: Network) -> None:
        super().__init__()
        self.network = network
        self.pulls_at_save: list[int] = []

    async def save(self, snapshot: DeviceSnapshot) -> None:
        await asyncio.sleep(0)
        self.pulls_at_save.append(sum(e.path == "/sync/pull" for e in self.network.exchanges))
        await super().save(snapshot)


async def test_the_next_page_is_asked_for_while_a_page_is_stored(server: LocalServer) -> None:
    network = Network(server)
    local = _SaveWatcher(network)
    client = await new_client(server, "alice", network=network, local=local, page_limit=1)
    local.pulls_at_save.clear()  # the new device's first save
    assert await client.pull() == 3
    # pages 1 and 2 are stored while the next is already asked for; the last one alone;
    # never more than one request ahead
    assert local.pulls_at_save == [2, 3, 3]
    assert dict(client.replica) == await server.scope("alice")


class _FailSecondPull(Network):
    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        if path == "/sync/pull" and sum(e.path == path for e in self.exchanges) == 1:
            answer = Response(400, {}, b'{"code":"bad_request","detail":"refused"}')
            self.exchanges.append(Exchange(method, path, body, answer))
            return answer
        return await super().request(method, path, body, headers)


async def test_a_page_that_fails_ahead_keeps_the_stored_pages(server: LocalServer) -> None:
    network = _FailSecondPull(server)
    local = MemoryLocalStore()
    client = await new_client(server, "alice", network=network, local=local, page_limit=1)
    with pytest.raises(BadRequest):
        await client.pull()
    saved = await local.load()
    assert saved is not None and len(saved.replica) == 1  # page 1 stored with its cursor
    assert saved.cursor is not None and saved.cursor == client._state.cursor
    assert await client.pull() == 2  # resumes after page 1
    assert dict(client.replica) == await server.scope("alice")


class _BrokenDisk(MemoryLocalStore):
    def __init__(self) -> None:
        super().__init__()
        self.broken = False

    async def save(self, snapshot: DeviceSnapshot) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        await super().save(snapshot)


async def test_a_failed_save_abandons_the_page_asked_ahead(server: LocalServer) -> None:
    network = Network(server)
    local = _BrokenDisk()
    client = await new_client(server, "alice", network=network, local=local, page_limit=1)
    local.broken = True
    with pytest.raises(OSError, match="No space"):
        await client.pull()
    await asyncio.sleep(0)  # the abandoned request is cancelled, not left running
    assert (await local.load()).cursor is None  # type: ignore[union-attr]
    local.broken = False
    reopened = await new_client(server, "alice", network=network, local=local, page_limit=1)
    assert await reopened.pull() == 3
