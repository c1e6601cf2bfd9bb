'use strict';
// THE PEER: the classic offline-sync stack — pouchdb-server (CouchDB replication protocol)
// replicating to PouchDB — run through the same workloads as FieldSync and the ceiling.
// Adapted from the team's shared bench-peer/pouch_bench.js; driven by scripts/benchmark/peer.py.
//
// Usage: POUCH_URL=http://127.0.0.1:PORT SERVER_PID=<pid> OUT_JSON=<file> node pouch_bench.js
// Env: REPS (5), WARMUP (1), N_DOCS (10000), BULK_BATCH (500), N_CHANGED (100), N_PUSH (1000),
//      REPL_BATCH (PouchDB batch_size for pull and push, default 100), CLIENT_ADAPTER (memory).
// Per repetition: (a) _bulk_docs load in BULK_BATCH batches, (b) initial pull replication into a
// fresh client, (c) 100 server-side edits then a one-shot incremental pull, (d) push replication
// of N_PUSH client-created docs, (d') the same push again from the start (since 0, no
// checkpoint), as a client that lost the acknowledgements would: _revs_diff finds nothing missing,
// nothing may be written and the server count must not move.
const fs = require('fs');
const path = require('path');
const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));
const { makeDocs, makeDoc } = require('./docgen');

const URL_BASE = (process.env.POUCH_URL || 'http://127.0.0.1:15984').replace(/\/$/, '');
const REPS = +(process.env.REPS || 5);
const WARMUP = +(process.env.WARMUP || 1);
const N_DOCS = +(process.env.N_DOCS || 10000);
const BULK_BATCH = +(process.env.BULK_BATCH || 500);
const N_CHANGED = +(process.env.N_CHANGED || 100);
const N_PUSH = +(process.env.N_PUSH || 1000);
const CLIENT_ADAPTER = process.env.CLIENT_ADAPTER || 'memory';
const REPL_BATCH = +(process.env.REPL_BATCH || 100);
const CLIENT_DIR = process.env.CLIENT_DIR || path.join('.', 'client-dbs');
const SERVER_PID = process.env.SERVER_PID || '';
const OUT_JSON = process.env.OUT_JSON || '';

{
  const u = new URL(URL_BASE);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    throw new Error(`refusing non-loopback target ${u.hostname}`);
  }
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const CLK_TCK = 100;
function serverCpu() {
  if (!SERVER_PID) return null;
  try {
    const f = fs.readFileSync(`/proc/${SERVER_PID}/stat`, 'utf8');
    const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(parts[11]) + Number(parts[12])) / CLK_TCK;
  } catch (e) { return null; }
}
function clientCpu() { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }

async function http(method, p, body) {
  const res = await fetch(URL_BASE + p, {
    method, headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400 && !(method === 'DELETE' && res.status === 404)) {
    throw new Error(`${method} ${p} -> ${res.status} ${text.slice(0, 200)}`);
  }
  return text ? JSON.parse(text) : null;
}

let reqCount = 0;
function remote(db) {
  return new PouchDB(`${URL_BASE}/${db}`, {
    skip_setup: true,
    fetch: (url, opts) => { reqCount += 1; return PouchDB.fetch(url, opts); },
  });
}
function localDb(name) {
  if (CLIENT_ADAPTER === 'memory') return new PouchDB(name, { adapter: 'memory' });
  fs.mkdirSync(CLIENT_DIR, { recursive: true });
  return new PouchDB(path.join(CLIENT_DIR, name), { adapter: 'leveldb' });
}

async function measure(fn) {
  const c0 = serverCpu(); const cc0 = clientCpu(); const r0 = reqCount; const t0 = now();
  const extra = (await fn()) || {};
  const t1 = now(); const c1 = serverCpu(); const cc1 = clientCpu();
  return { seconds: t1 - t0, server_cpu_s: c0 === null ? null : c1 - c0, client_cpu_s: cc1 - cc0,
    requests: reqCount - r0, ...extra };
}

async function main() {
  const info = await http('GET', '/');
  const results = { server: info, node: process.version, client_adapter: CLIENT_ADAPTER,
    repl_batch_size: REPL_BATCH, n_docs: N_DOCS, bulk_batch: BULK_BATCH, n_changed: N_CHANGED,
    n_push: N_PUSH, reps: REPS, warmup: WARMUP,
    runs: { a_bulk_load: [], b_initial_pull: [], c_incremental_pull: [], d_push: [], d_replay: [] } };
  const docs = makeDocs(N_DOCS);
  results.payload_bytes = docs.reduce((a, d) => a + JSON.stringify(d).length, 0);

  for (let rep = 0; rep < WARMUP + REPS; rep++) {
    const db = `bench_${process.pid}_${rep}`;
    await http('DELETE', `/${db}`);
    await http('PUT', `/${db}`);

    const a = await measure(async () => {
      let n = 0;
      for (let i = 0; i < docs.length; i += BULK_BATCH) {
        const res = await http('POST', `/${db}/_bulk_docs`, { docs: docs.slice(i, i + BULK_BATCH) });
        for (const r of res) { if (r.error) throw new Error(JSON.stringify(r)); n++; }
        reqCount++;
      }
      return { docs: n };
    });

    const rdb = remote(db);
    const local = localDb(`client_${process.pid}_${rep}`);
    const b = await measure(async () => {
      const r = await local.replicate.from(rdb, { batch_size: REPL_BATCH });
      if (r.docs_written !== N_DOCS) throw new Error(`pulled ${r.docs_written}`);
      return { docs: r.docs_written };
    });

    const ids = [];
    for (let j = 0; j < N_CHANGED; j++) ids.push(docs[Math.floor((j * N_DOCS) / N_CHANGED)]._id);
    const cur = await http('POST', `/${db}/_all_docs`, { keys: ids });
    const revById = Object.fromEntries(cur.rows.map((r) => [r.id, r.value.rev]));
    const edits = ids.map((id) => ({ ...makeDoc(Number(id.split(':')[1]), 2), _rev: revById[id] }));
    const res = await http('POST', `/${db}/_bulk_docs`, { docs: edits });
    for (const r of res) if (r.error) throw new Error(JSON.stringify(r));
    const c = await measure(async () => {
      const r = await local.replicate.from(rdb, { batch_size: REPL_BATCH });
      if (r.docs_written !== N_CHANGED) throw new Error(`incremental pulled ${r.docs_written}`);
      return { docs: r.docs_written };
    });

    const pushLocal = localDb(`push_${process.pid}_${rep}`);
    await pushLocal.bulkDocs(makeDocs(N_PUSH, 1, `dev${rep}-`));
    const d = await measure(async () => {
      const r = await pushLocal.replicate.to(rdb, { batch_size: REPL_BATCH });
      if (r.docs_written !== N_PUSH) throw new Error(`pushed ${r.docs_written}`);
      return { applied: r.docs_written };
    });
    const before = (await http('GET', `/${db}`)).doc_count;
    const d2 = await measure(async () => {
      const r = await pushLocal.replicate.to(rdb, { batch_size: REPL_BATCH, since: 0, checkpoint: false });
      if (r.docs_written !== 0) throw new Error(`replay wrote ${r.docs_written}`);
      return { applied: r.docs_written };
    });
    const after = (await http('GET', `/${db}`)).doc_count;
    if (before !== N_DOCS + N_PUSH || after !== before) throw new Error(`doc_count ${before} -> ${after}`);
    d2.unchanged = true;
    if (rep >= WARMUP) {
      const R = results.runs;
      R.a_bulk_load.push(a); R.b_initial_pull.push(b); R.c_incremental_pull.push(c);
      R.d_push.push(d); R.d_replay.push(d2);
    }
    console.error(`peer batch ${REPL_BATCH} rep ${rep}${rep < WARMUP ? ' (warm-up)' : ''}: ` +
      `a ${a.seconds.toFixed(2)} s | b ${b.seconds.toFixed(2)} s (${b.requests} req) | ` +
      `c ${(c.seconds * 1000).toFixed(1)} ms (${c.requests} req) | d ${d.seconds.toFixed(2)} s ` +
      `(${d.requests} req) | d' ${d2.seconds.toFixed(2)} s (${d2.requests} req)`);
    await local.destroy(); await pushLocal.destroy();
    await http('DELETE', `/${db}`);
  }
  if (OUT_JSON) fs.writeFileSync(OUT_JSON, JSON.stringify(results, null, 1));
}

main().catch((e) => { console.error(e); process.exit(1); });
