// The one module that touches IndexedDB (built on idb). Everything the device keeps lives here:
//
//   docs     the replica: "kind:id" -> {v, doc}; a kind's documents are one key range
//   meta     small records by name: device {device_id, next_seq}, cursor, session, owner,
//            last_sync, refused_versions, blob_errors
//   outbox   queued operations in seq order (the exact wire objects, keyPath "seq")
//   results  server answers by operation id, with the operation they answer; `pulled` turns
//            true once a pull has completed after the answer (the replica then shows it)
//   blobs    files not yet known to be on the server, by sha256
//   work     per-job local state: report id and submits, last submitted form, consumed parts,
//            signature and feedback given, the report draft
//
// What must stay true:
// - A local change and its outbox entry are written in ONE transaction (queue()); a queued
//   operation is reported saved only after that transaction has committed.
// - A pull page and its cursor are written in ONE transaction (applyPage()).
// - No transaction ever waits for the network: callers fetch first, then open a transaction.
// - The replica is wiped only when the outbox is empty, checked inside the wiping transaction.
import { openDB, unwrap } from 'idb';

const NAME = 'fieldsync';
const VERSION = 1;
export const KINDS = new Set([
  'job', 'customer', 'site', 'asset', 'service_history', 'part', 'stock', 'location',
  'article', 'report', 'part_request', 'user',
]);
const KEPT_RESULTS = 300; // answers kept for the user; rejected/flagged ones stay until dismissed

let dbPromise = null;
const local = new EventTarget();
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('fieldsync-db') : null;
if (channel) channel.onmessage = (e) => local.dispatchEvent(new CustomEvent('change', { detail: e.data }));

/** Subscribe to "these stores changed" (this tab and other tabs); returns an unsubscribe. */
export function onChange(fn) {
  const handler = (e) => fn(e.detail || []);
  local.addEventListener('change', handler);
  return () => local.removeEventListener('change', handler);
}

function notify(stores) {
  local.dispatchEvent(new CustomEvent('change', { detail: stores }));
  if (channel) channel.postMessage(stores);
}

export function open() {
  if (!dbPromise) {
    dbPromise = openDB(NAME, VERSION, {
      upgrade(db) {
        db.createObjectStore('docs'); // out-of-line keys: no index to maintain per row
        db.createObjectStore('meta');
        db.createObjectStore('outbox', { keyPath: 'seq' });
        db.createObjectStore('results', { keyPath: 'id' });
        db.createObjectStore('blobs', { keyPath: 'sha256' });
        db.createObjectStore('work', { keyPath: 'job_id' });
      },
      blocking() {
        // A newer app version wants to upgrade the schema: let it (this page reloads later).
        dbPromise?.then((db) => db.close());
        dbPromise = null;
      },
    });
  }
  return dbPromise;
}

/** Roll a transaction back (if it is still open) and wait until it has ended. */
async function abandon(tx) {
  try {
    tx.abort();
  } catch {
    // it had already finished or aborted
  }
  await tx.done.catch(() => {});
}

/** Ask the browser not to evict our data under storage pressure. */
export async function persist() {
  if (!navigator.storage?.persist) return false;
  return (await navigator.storage.persisted()) || navigator.storage.persist();
}

// --- meta ----------------------------------------------------------------------------------

export async function getMeta(name) {
  return (await open()).get('meta', name);
}

export async function setMeta(name, value) {
  await (await open()).put('meta', value, name);
  notify(['meta']);
}

/** This installation's device record, created (with a fresh device id) on first use. */
export async function device() {
  const db = await open();
  const tx = db.transaction('meta', 'readwrite');
  let dev = await tx.store.get('device');
  if (!dev) {
    dev = { device_id: crypto.randomUUID(), next_seq: 1 };
    tx.store.put(dev, 'device');
  }
  await tx.done;
  return dev;
}

// --- replica ---------------------------------------------------------------------------------

/** Apply one pull page and store its cursor, in one transaction; returns the rows applied.
 * The requests go to the native store without per-row promises: IndexedDB queues them in
 * order and the transaction commits them together. */
export async function applyPage(changes, cursor) {
  const db = await open();
  const tx = db.transaction(['docs', 'meta'], 'readwrite');
  const docs = unwrap(tx.objectStore('docs'));
  let applied = 0;
  for (const c of changes) {
    if (!KINDS.has(c.kind)) continue; // kinds of a newer schema are ignored
    const key = `${c.kind}:${c.id}`;
    if (c.op === 'put') docs.put({ v: c.v, doc: c.doc }, key);
    else if (c.op === 'remove') docs.delete(key);
    else continue;
    applied += 1;
  }
  unwrap(tx.objectStore('meta')).put(cursor, 'cursor');
  await tx.done;
  notify(['docs', 'meta']);
  return applied;
}

// "kind:" up to (not including) "kind;" — ';' is the character after ':'.
const kindRange = (kind) => IDBKeyRange.bound(`${kind}:`, `${kind};`, false, true);

/** Every document of a kind: [{id, v, doc}]. */
export async function docsOfKind(kind) {
  const tx = (await open()).transaction('docs');
  const range = kindRange(kind);
  const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range)]);
  const skip = kind.length + 1;
  return values.map((value, i) => ({ id: keys[i].slice(skip), v: value.v, doc: value.doc }));
}

/** One document: {id, v, doc}, or undefined. */
export async function getDoc(kind, id) {
  const value = await (await open()).get('docs', `${kind}:${id}`);
  return value && { id, v: value.v, doc: value.doc };
}

export async function countDocs() {
  return (await open()).count('docs');
}

/** Empty the replica and its cursor, only if nothing is queued (checked in the same
 * transaction). Returns false, wiping nothing, when the outbox is not empty. */
export async function wipeReplica() {
  const db = await open();
  const tx = db.transaction(['docs', 'meta', 'outbox'], 'readwrite');
  if ((await tx.objectStore('outbox').count()) > 0) {
    await abandon(tx);
    return false;
  }
  tx.objectStore('docs').clear();
  tx.objectStore('meta').delete('cursor');
  await tx.done;
  notify(['docs', 'meta']);
  return true;
}

/** Forget everything but the language: for a logout with nothing queued. A new device id is
 * made at the next login (the server binds a device id to one user). Refuses (false) when the
 * outbox or pending files are not empty. */
export async function wipeAll() {
  const db = await open();
  const names = ['docs', 'meta', 'outbox', 'results', 'blobs', 'work'];
  const tx = db.transaction(names, 'readwrite');
  const queued = await tx.objectStore('outbox').count();
  const files = await tx.objectStore('blobs').count();
  if (queued + files > 0) {
    await abandon(tx);
    return false;
  }
  for (const name of names) tx.objectStore(name).clear();
  await tx.done;
  notify(names);
  return true;
}

// --- outbox ----------------------------------------------------------------------------------

function eventTime(date = new Date()) {
  const pad = (n, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.` +
    `${pad(date.getMilliseconds(), 3)}${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

/**
 * Queue operations and the local change they belong to, atomically.
 *   drafts  operation objects without seq/id/at ({op: "job.status", job_id, ...}), or a
 *           synchronous function ({pending, answered, job}) => drafts that decides them from
 *           the outbox, the answers not yet pulled and the job's replica document as they are
 *           inside this transaction (so quick taps each see the others); throwing from it
 *           queues nothing
 *   jobId   the job whose work record `update(work, ops, job)` rewrites (optional)
 *   blobs   files to keep until uploaded: [{sha256, content_type, data: ArrayBuffer}]
 * Resolves with the queued operations once the transaction has committed (durably).
 */
export async function queue(drafts, { jobId = null, update = null, blobs = [] } = {}) {
  const db = await open();
  const names = ['meta', 'outbox', 'work', 'blobs', 'docs', 'results'];
  // strict: the commit is flushed to disk before we report the work saved
  const tx = db.transaction(names, 'readwrite', { durability: 'strict' });
  try {
    const meta = tx.objectStore('meta');
    const dev = await meta.get('device');
    if (!dev) throw new Error('no device record: log in first');
    const job = jobId ? await tx.objectStore('docs').get(`job:${jobId}`) : null; // {v, doc}
    if (typeof drafts === 'function') {
      const pending = await tx.objectStore('outbox').getAll();
      const answered = (await tx.objectStore('results').getAll()).filter((r) => !r.pulled);
      drafts = drafts({ pending, answered: answered.sort((a, b) => a.seq - b.seq), job });
    }
    const at = eventTime();
    const ops = drafts.map(({ op, ...members }, i) => ({
      op, seq: dev.next_seq + i, id: crypto.randomUUID(), at, ...members,
    }));
    for (const op of ops) tx.objectStore('outbox').add(op);
    meta.put({ ...dev, next_seq: dev.next_seq + ops.length }, 'device');
    for (const b of blobs) tx.objectStore('blobs').put(b);
    if (jobId && update) {
      const work = tx.objectStore('work');
      const prev = (await work.get(jobId)) || { job_id: jobId };
      work.put({ ...update(prev, ops, job), job_id: jobId });
    }
    await tx.done;
    notify(['outbox', 'work', 'blobs']);
    return ops;
  } catch (err) {
    await abandon(tx);
    throw err;
  }
}

/** The oldest queued operations, in seq order. */
export async function outbox(limit = Infinity) {
  const db = await open();
  const out = [];
  let cursor = await db.transaction('outbox').store.openCursor();
  while (cursor && out.length < limit) {
    out.push(cursor.value);
    cursor = await cursor.continue();
  }
  return out;
}

export async function outboxCount() {
  return (await open()).count('outbox');
}

/** Remove answered operations from the outbox and keep their answers, in one transaction. */
export async function acknowledge(results, sent) {
  const bySeq = new Map(sent.map((op) => [op.seq, op]));
  const db = await open();
  const tx = db.transaction(['outbox', 'results'], 'readwrite');
  const outboxStore = unwrap(tx.objectStore('outbox'));
  const store = unwrap(tx.objectStore('results'));
  const now = new Date().toISOString();
  for (const r of results) {
    outboxStore.delete(r.seq);
    const notable = r.status === 'rejected' || (r.flags && r.flags.length > 0);
    store.put({
      ...r, op: bySeq.get(r.seq) || null, answered_at: now, notable, dismissed: false, pulled: false,
    });
  }
  await tx.done;
  notify(['outbox', 'results']);
  await pruneResults();
}

async function pruneResults() {
  const db = await open();
  const tx = db.transaction('results', 'readwrite');
  const all = await tx.store.getAll();
  const prunable = all
    .filter((r) => !r.notable || r.dismissed)
    .sort((a, b) => (a.answered_at < b.answered_at ? -1 : 1));
  for (const r of prunable.slice(0, Math.max(0, all.length - KEPT_RESULTS))) tx.store.delete(r.id);
  await tx.done;
}

/** A pull has completed: every answer received before it is now reflected in the replica. */
export async function settleResults() {
  const db = await open();
  const tx = db.transaction('results', 'readwrite');
  for (const r of await tx.store.getAll()) if (!r.pulled) tx.store.put({ ...r, pulled: true });
  await tx.done;
  notify(['results']);
}

/** Answers the replica may not show yet (no pull has completed since), oldest first. */
export async function unsettled() {
  const all = await (await open()).getAll('results');
  return all.filter((r) => !r.pulled).sort((a, b) => a.seq - b.seq);
}

export async function results() {
  const all = await (await open()).getAll('results');
  return all.sort((a, b) => b.seq - a.seq);
}

export async function dismissResult(id) {
  const db = await open();
  const tx = db.transaction('results', 'readwrite');
  const r = await tx.store.get(id);
  if (r) tx.store.put({ ...r, dismissed: true });
  await tx.done;
  notify(['results']);
}

// --- files -----------------------------------------------------------------------------------

export async function pendingBlobHashes() {
  return (await open()).getAllKeys('blobs');
}

export async function getBlob(sha256) {
  return (await open()).get('blobs', sha256);
}

/** The server has the file (or refused it as corrupt: `error` is its code); forget it. */
export async function forgetBlob(sha256, error = null) {
  const db = await open();
  const tx = db.transaction(['blobs', 'meta'], 'readwrite');
  tx.objectStore('blobs').delete(sha256);
  if (error) {
    const meta = tx.objectStore('meta');
    const errors = (await meta.get('blob_errors')) || {};
    meta.put({ ...errors, [sha256]: error }, 'blob_errors');
  }
  await tx.done;
  notify(['blobs', 'meta']);
}

// --- per-job local state ------------------------------------------------------------------

export async function getWork(jobId) {
  return (await open()).get('work', jobId);
}

export async function allWork() {
  return (await open()).getAll('work');
}

/** Keep the report being typed (not an operation: nothing is sent until it is submitted). */
export async function saveDraft(jobId, draft) {
  const db = await open();
  const tx = db.transaction('work', 'readwrite');
  const prev = (await tx.store.get(jobId)) || { job_id: jobId };
  tx.store.put({ ...prev, draft });
  await tx.done;
}
