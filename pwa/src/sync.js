// The sync loop of PROTOCOL.md §10, mirroring sync/client.py: upload files, push the outbox,
// pull the replica log. What must stay true whatever fails and whenever the page dies:
// - an operation leaves the outbox only when the server answered it (applied or rejected), and
//   the answer is kept for the user (db.acknowledge);
// - a reset pushes the whole outbox first and wipes only when it is empty (db.wipeReplica
//   re-checks inside its transaction); if the push cannot finish nothing is wiped;
// - upgrade_required keeps everything and stops syncing until the app is updated;
// - an expired login keeps everything; syncing resumes after the next login;
// - network failures, 408, 429 and 5xx are retried with exponential backoff and full jitter.
// One sync at a time across tabs (Web Locks); the network is never awaited inside a transaction.
import * as db from './db.js';
import { refresh, session } from './auth.js';
import { api, Problem } from './http.js';

export const PROTOCOL = 1;
export const SCHEMA = 1;
const MAX_BATCH = 1000;
const MAX_PUSH_BYTES = 16 * 1024 * 1024 - 4096;
const MAX_HASHES = 1000;
const PAGE = 2000;
const PERIOD_MS = 60_000;

/** What the UI shows; `subscribe` to hear about changes. */
export const state = {
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  running: false,
  phase: 'idle', // idle | upload | push | pull | reset
  received: 0, // changes received by the pull in progress
  remaining: null, // changes still to come, when the server says (an optional page member)
  initial: false, // the pull in progress started from an empty replica
  error: null, // the last failure's code (retrying), or null
  stop: null, // why syncing stopped until the user acts: upgrade_required | login_expired | fault
  faultDetail: null,
  attempt: 0,
  nextRetryAt: null,
  stats: { rows: 0, applyMs: 0, pullMs: 0 }, // last pull: rows applied and time in IndexedDB
};
const listeners = new Set();

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function set(patch) {
  Object.assign(state, patch);
  for (const fn of listeners) fn(state);
}

class Stop extends Error {
  constructor(code, detail) {
    super(detail || code);
    this.code = code;
  }
}

// --- the three steps -----------------------------------------------------------------------

async function uploadBlobs() {
  const pending = await db.pendingBlobHashes();
  for (let i = 0; i < pending.length; i += MAX_HASHES) {
    const hashes = pending.slice(i, i + MAX_HASHES);
    const { missing } = await api('/sync/blobs/missing', { json: { hashes } });
    const absent = new Set(missing);
    for (const sha256 of hashes) {
      let error = null;
      if (absent.has(sha256)) {
        const blob = await db.getBlob(sha256);
        if (!blob) continue;
        try {
          await api(`/sync/blobs/${sha256}`, {
            method: 'PUT', raw: blob.data, contentType: blob.content_type,
          });
        } catch (err) {
          // A file the server refuses is corrupt: drop it and tell the user; never block.
          if (!(err instanceof Problem) || ![400, 413, 415].includes(err.status)) throw err;
          error = err.code;
        }
      }
      await db.forgetBlob(sha256, error);
    }
  }
}

function nextBatch(ops) {
  const batch = [];
  let size = 256;
  for (const op of ops.slice(0, MAX_BATCH)) {
    const bytes = JSON.stringify(op).length * 3; // an upper bound of its UTF-8 size
    if (batch.length && size + bytes > MAX_PUSH_BYTES) break;
    batch.push(op);
    size += bytes + 1;
  }
  return batch;
}

/** Push the whole outbox; returns the number of operations answered. */
async function push() {
  const { device_id } = await db.device();
  let answered = 0;
  for (;;) {
    const ops = nextBatch(await db.outbox(MAX_BATCH));
    if (!ops.length) return answered;
    const reply = await api('/sync/push', {
      json: { protocol: PROTOCOL, schema: SCHEMA, device_id, ops },
    });
    await db.acknowledge(reply.results, ops);
    answered += reply.results.length;
    if (reply.stopped) {
      // out_of_order / id_conflict are client faults: report, never renumber or drop.
      throw new Stop('fault', `${reply.stopped.code}: ${reply.stopped.detail}`);
    }
    if (!reply.results.length) throw new Stop('fault', 'the server answered a push with nothing');
  }
}

async function pullPages() {
  const { device_id } = await db.device();
  const cursor = (await db.getMeta('cursor')) ?? null;
  set({ received: 0, initial: cursor === null });
  const stats = { rows: 0, applyMs: 0, pullMs: 0 };
  const started = performance.now();
  const ask = (after) =>
    api('/sync/pull', {
      json: { protocol: PROTOCOL, schema: SCHEMA, cursor: after, limit: PAGE, device_id },
    });
  // One request ahead: the next page is asked for (with the cursor just received) while this
  // one is written to IndexedDB. The stored cursor still always belongs to the stored replica;
  // an answer for a page never stored (a failed write) is dropped — pulling is read-only.
  let ahead = ask(cursor);
  try {
    for (;;) {
      const page = await ahead;
      ahead = page.has_more ? ask(page.cursor) : null;
      const t0 = performance.now();
      stats.rows += await db.applyPage(page.changes, page.cursor);
      stats.applyMs += performance.now() - t0;
      set({ received: state.received + page.changes.length, remaining: page.remaining ?? null });
      if (!page.has_more) break;
    }
  } finally {
    ahead?.catch(() => {}); // nobody reads it: keep its failure from being reported as unhandled
  }
  stats.pullMs = performance.now() - started;
  await db.settleResults();
  set({ stats });
}

async function pull() {
  try {
    await pullPages();
  } catch (err) {
    if (!(err instanceof Problem) || !['reset_required', 'bad_cursor'].includes(err.code)) {
      throw err;
    }
    set({ phase: 'reset' });
    await push(); // a reset never discards queued operations
    if (!(await db.wipeReplica())) throw new Problem(503, { code: 'unavailable' });
    await pullPages();
  }
}

// --- the loop ------------------------------------------------------------------------------

let timer = null;

function backoffMs(attempt, retryAfter) {
  const cap = Math.min(30_000, 500 * 2 ** attempt);
  return Math.max(Math.random() * cap, (retryAfter || 0) * 1000);
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(() => syncNow('timer'), ms);
  set({ nextRetryAt: Date.now() + ms });
}

async function runOnce() {
  const refused = await db.getMeta('refused_versions');
  if (refused && refused[0] === PROTOCOL && refused[1] === SCHEMA) {
    throw new Stop('upgrade_required');
  }
  const current = await session();
  if (!current) return;
  if (current.expired) throw new Stop('login_expired');
  set({ phase: 'upload' });
  await uploadBlobs();
  set({ phase: 'push' });
  await push();
  set({ phase: 'pull' });
  await pull();
  await db.setMeta('last_sync', new Date().toISOString());
}

async function guarded() {
  set({ running: true, error: null });
  try {
    await runOnce();
    set({ attempt: 0, stop: null, faultDetail: null });
    schedule(PERIOD_MS);
  } catch (err) {
    if (err instanceof Stop) {
      set({ stop: err.code, faultDetail: err.code === 'fault' ? err.message : null });
    } else if (err instanceof Problem && err.code === 'upgrade_required') {
      await db.setMeta('refused_versions', [PROTOCOL, SCHEMA]);
      set({ stop: 'upgrade_required' });
    } else if (err instanceof Problem && err.code === 'login_expired') {
      set({ stop: 'login_expired' });
    } else if (err instanceof Problem && (err.retryable || err.code === 'unavailable')) {
      const attempt = state.attempt + 1;
      set({ error: err.code, attempt });
      schedule(backoffMs(attempt, err.retryAfter));
    } else {
      // A client bug or an unexpected answer: report it and retry slowly; keep everything.
      set({ error: err.code || String(err), attempt: state.attempt + 1 });
      schedule(PERIOD_MS);
      console.error('sync failed', err);
    }
  } finally {
    set({ running: false, phase: 'idle' });
  }
}

let running = null;
let again = false;

/** Sync now. Coalesced: a request while a sync runs makes it run once more afterwards, and
 * the promise settles when no more runs are wanted. */
export function syncNow(reason = 'manual') {
  if (!state.online && reason !== 'manual') return Promise.resolve();
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      if (navigator.locks) await navigator.locks.request('fieldsync-sync', guarded);
      else await guarded();
    } while (again);
  })().finally(() => {
    running = null;
  });
  return running;
}

/** After queueing: flush now if we can, and ask for Background Sync where the browser has it
 * (optional: unsupported or not permitted, the online event covers it). */
export function kick() {
  navigator.serviceWorker?.getRegistration()
    .then((reg) => reg?.sync?.register('fieldsync-outbox'))
    .catch(() => {});
  return syncNow('queued');
}

/** Wire the triggers: start, online, focus/visibility, a timer, and the service worker. */
export function start() {
  addEventListener('online', async () => {
    set({ online: true, attempt: 0 });
    try {
      await refresh(); // a fresh access token first, then flush and pull
    } catch {
      // offline again, or the login expired: the sync below reports which
    }
    syncNow('online');
  });
  addEventListener('offline', () => set({ online: false }));
  addEventListener('focus', () => syncNow('focus'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncNow('visible');
  });
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'flush') {
      syncNow('background').then(() => event.ports[0]?.postMessage({ done: true }));
    }
  });
  return syncNow('start');
}

/** Clear a stop the user has dealt with (logged in again, or the app was updated). */
export function resume() {
  set({ stop: null, attempt: 0 });
  return syncNow('manual');
}
