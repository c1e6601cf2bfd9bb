"""The ceiling's workloads: the same (a)–(d') as FieldSync and the peer, against ``ceiling.py``.

Ported from the team's shared ``bench-peer/py_sync_bench.py``. The device is an httpx client
(HTTP/1.1 keep-alive, like the FieldSync harness) with an in-memory SQLite store; each repetition
resets the app and runs, in order: (a) bulk load of the generated documents, (b) initial pull
into a fresh device, (c) 100 server-side edits then one incremental pull, (d) push of 1,000
locally created documents, (d') the same 1,000 again (every one must come back ``duplicate`` and
the app's counts must not move).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import msgspec
from docgen import make_doc, make_docs
from measure import Meter
from process import check_loopback

ENC = msgspec.json.Encoder()


class PullPage(msgspec.Struct):
    cursor: int
    docs: list[msgspec.Raw]  # keep each document's bytes; the device stores JSON text


class _IdOnly(msgspec.Struct):
    id: str = msgspec.field(name="_id")


PULL_DEC = msgspec.json.Decoder(PullPage)
ID_DEC = msgspec.json.Decoder(_IdOnly)


class CeilingDevice:
    """A device: local store and a cursor (in-memory SQLite, like PouchDB's memory adapter)."""

    def __init__(self, client: httpx.Client, url: str, page: int) -> None:
        self.c, self.url, self.page = client, url, page
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        self.cursor = 0
        self.requests = 0

    def pull(self) -> int:
        got = 0
        for _ in range(100_000):  # bounded: 100k pages is far beyond any workload here
            r = self.c.get(f"{self.url}/pull", params={"after": self.cursor, "limit": self.page})
            self.requests += 1
            r.raise_for_status()
            page = PULL_DEC.decode(r.content)
            if page.docs:
                rows = [(ID_DEC.decode(raw).id, bytes(raw).decode()) for raw in page.docs]
                self.db.execute("BEGIN")
                self.db.executemany(
                    "INSERT INTO docs (id, body) VALUES (?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                    rows,
                )
                self.db.execute("COMMIT")
                got += len(rows)
            self.cursor = page.cursor
            if len(page.docs) < self.page:
                return got
        raise RuntimeError("pull did not finish")

    def push(self, docs: list[dict[str, Any]], prefix: str, batch: int) -> int:
        applied = 0
        for i in range(0, len(docs), batch):
            chunk = docs[i : i + batch]
            muts = [{"mutation_id": f"{prefix}{i + j}", "doc": d} for j, d in enumerate(chunk)]
            r = self.c.post(
                f"{self.url}/push",
                content=ENC.encode({"mutations": muts}),
                headers={"content-type": "application/json"},
            )
            self.requests += 1
            r.raise_for_status()
            applied += sum(1 for x in r.json()["results"] if x["status"] == "applied")
        return applied


def run_ceiling(
    url: str,
    pid: int,
    *,
    reps: int,
    warmup: int,
    n_docs: int,
    n_changed: int,
    n_push: int,
    bulk_batch: int,
    page: int,
) -> dict[str, list[dict[str, Any]]]:
    """Raw samples per workload (warm-up repetitions dropped)."""
    check_loopback(url)
    docs = make_docs(n_docs)
    runs: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("a_bulk_load", "b_initial_pull", "c_incremental_pull", "d_push", "d_replay")
    }
    with httpx.Client(timeout=60) as client:
        for rep in range(warmup + reps):
            keep = rep >= warmup
            client.post(f"{url}/reset").raise_for_status()
            seeder = CeilingDevice(client, url, page)
            m = Meter(pid, lambda d=seeder: d.requests)
            with m.run() as a:
                a.extra["docs"] = seeder.push(docs, "seed-", bulk_batch)
            assert a.extra["docs"] == n_docs, a

            dev = CeilingDevice(client, url, page)
            m = Meter(pid, lambda d=dev: d.requests)
            with m.run() as b:
                b.extra["docs"] = dev.pull()
            assert b.extra["docs"] == n_docs, b

            other = CeilingDevice(client, url, page)
            edits = [make_doc((j * n_docs) // n_changed, 2) for j in range(n_changed)]
            with m.run():  # not kept: collects the driver's garbage before the edits, as ours do
                assert other.push(edits, f"edit{rep}-", page) == n_changed
            with m.run(collect=False) as c:  # the pull follows the edits at once (Meter.run)
                c.extra["docs"] = dev.pull()
            assert c.extra["docs"] == n_changed, c

            pusher = CeilingDevice(client, url, page)
            local = make_docs(n_push, 1, f"dev{rep}-")
            m = Meter(pid, lambda d=pusher: d.requests)
            with m.run() as d:
                d.extra["applied"] = pusher.push(local, f"dev{rep}-m", page)
            assert d.extra["applied"] == n_push, d
            before = client.get(f"{url}/count").json()
            with m.run() as d2:
                d2.extra["applied"] = pusher.push(local, f"dev{rep}-m", page)
            after = client.get(f"{url}/count").json()
            assert d2.extra["applied"] == 0 and before == after, (d2, before, after)
            d2.extra["unchanged"] = True
            if keep:
                for key, s in zip(runs, (a, b, c, d, d2), strict=True):
                    runs[key].append(s.as_dict())
    return runs
