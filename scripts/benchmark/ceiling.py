"""THE CEILING — a minimal Litestar + stdlib sqlite3 + msgspec sync app. Not FieldSync.

This is the hardware-and-framework ceiling the benchmark compares FieldSync against: the cheapest
pull and push a Litestar app can serve on this machine. It has no authentication, no scope, no
business rules, no conflict handling, no cursor signing and no replication — a yardstick, not a
product. It is carried here (adapted from the team's shared ``bench-peer/litestar_app.py``) so
that every benchmark run measures it beside FieldSync on the same machine, in the same minute.

Run: CEILING_DB=path.sqlite uvicorn --app-dir scripts/benchmark ceiling:app --port N
  GET  /pull?after=<seq>&limit=<n>   stored JSON bodies spliced into the response (no re-encode)
  POST /push  {"mutations":[{"mutation_id":str,"doc":{...}}]}   idempotent: a known mutation id
              answers "duplicate" and changes nothing
  POST /reset drop all data;   GET /count  number of docs and mutations
SQLite runs on the event loop thread (no thread hop): the cheapest possible path.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post

DB_PATH = os.environ.get("CEILING_DB", "ceiling.sqlite")
ENC = msgspec.json.Encoder()


class Mutation(msgspec.Struct):
    mutation_id: str
    doc: dict[str, Any]


class PushBatch(msgspec.Struct):
    mutations: list[Mutation]


PUSH_DEC = msgspec.json.Decoder(PushBatch)


def connect(path: str = DB_PATH) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE IF NOT EXISTS docs "
        "(id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, body TEXT NOT NULL)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS mutations (mutation_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
    )
    return con


class State:
    con: sqlite3.Connection
    seq: int


S = State()


def on_startup() -> None:
    S.con = connect()
    S.seq = S.con.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()[0]


@get("/pull", sync_to_thread=False)
def pull(after: int = 0, limit: int = 1000) -> Response[bytes]:
    rows = S.con.execute(
        "SELECT seq, body FROM docs WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
    ).fetchall()
    cursor = rows[-1][0] if rows else after
    body = b'{"cursor":%d,"docs":[' % cursor + ",".join(r[1] for r in rows).encode() + b"]}"
    return Response(content=body, media_type="application/json")


@post("/push", status_code=200)
async def push(request: Request[Any, Any, Any]) -> Response[bytes]:
    batch = PUSH_DEC.decode(await request.body())
    con = S.con
    results = []
    con.execute("BEGIN IMMEDIATE")
    try:
        for m in batch.mutations:
            nxt = S.seq + 1
            cur = con.execute(
                "INSERT OR IGNORE INTO mutations (mutation_id, seq) VALUES (?, ?)",
                (m.mutation_id, nxt),
            )
            if cur.rowcount == 0:
                results.append({"mutation_id": m.mutation_id, "status": "duplicate"})
                continue
            con.execute(
                "INSERT INTO docs (id, seq, body) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, body = excluded.body",
                (m.doc["_id"], nxt, ENC.encode(m.doc).decode()),
            )
            S.seq = nxt
            results.append({"mutation_id": m.mutation_id, "status": "applied"})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Response(
        content=ENC.encode({"cursor": S.seq, "results": results}), media_type="application/json"
    )


@post("/reset", status_code=200, sync_to_thread=False)
def reset() -> dict[str, int]:
    S.con.execute("DELETE FROM docs")
    S.con.execute("DELETE FROM mutations")
    S.seq = 0
    return {"ok": 1}


@get("/count", sync_to_thread=False)
def count() -> dict[str, int]:
    docs = S.con.execute("SELECT count(*) FROM docs").fetchone()[0]
    muts = S.con.execute("SELECT count(*) FROM mutations").fetchone()[0]
    return {"docs": docs, "mutations": muts, "seq": S.seq}


app = Litestar(
    [pull, push, reset, count], on_startup=[on_startup], debug=False, logging_config=None
)
