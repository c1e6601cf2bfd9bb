// The write side: each user intent becomes operations (PROTOCOL.md §4) queued together with the
// local change it makes, in one IndexedDB transaction (db.queue). Everything here works offline;
// a promise that resolves means the work is saved on the device. Limits are checked before
// queueing so the server does not have to reject what the device could have refused.
import * as db from './db.js';
import { reportForm, reportHash, sha256Hex } from './canonical.js';
import { kick } from './sync.js';
import { api } from './http.js';
import { effectiveStatus, TRANSITIONS } from './model.js';

export class InputError extends Error {
  constructor(field, rule) {
    super(`${field}: ${rule}`);
    this.field = field;
    this.rule = rule;
  }
}

const TEXT = 10_000;
const COMMENT = 2_000;

function text(field, value, max, { required = false } = {}) {
  const v = String(value ?? '').trim();
  if (required && !v) throw new InputError(field, 'required');
  if (v.length > max) throw new InputError(field, 'too_long');
  return v;
}

function int(field, value, min, max) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(field, 'range');
  return n;
}

/** Queue, keeping the job's number with its work record: the sync screen can still name the
 * job after it left the replica (reassigned), when the server's answer arrives. */
async function queued(drafts, { jobId = null, update = (w) => w, blobs } = {}) {
  const ops = await db.queue(drafts, {
    jobId,
    blobs,
    update: (w, queuedOps, job) => ({ ...update(w, queuedOps), number: job?.doc.number ?? w.number }),
  });
  kick(); // flush when possible; never awaited: the work is saved already
  return ops;
}

/** Move a job. The base status is the job's status with every queued move applied, decided
 * inside the queueing transaction, so quick successive taps chain correctly. */
export async function setStatus(jobId, to, note = '') {
  const clean = text('note', note, COMMENT);
  return queued(({ pending, answered, job }) => {
    if (!job) throw new InputError('job', 'gone');
    const { status } = effectiveStatus(job.doc, jobId, pending, answered);
    if (!(TRANSITIONS[status] || []).includes(to)) throw new InputError('status', 'not_now');
    return [{ op: 'job.status', job_id: jobId, to, base_status: status, note: clean }];
  }, { jobId, update: (w) => ({ ...w, last_status: to }) });
}

/**
 * Submit the repair report (a new version when one was submitted before) and consume, from the
 * own van, the parts it lists beyond what earlier versions already consumed — one transaction.
 * `existing` is the report document of this job in the replica (another device's or an older
 * install's), whose id and version the new submit continues.
 */
export async function submitReport(job, input, { van, existing, work }) {
  const parts = [];
  for (const p of input.parts || []) {
    if (!p.part_id) continue;
    parts.push({ part_id: String(p.part_id), qty: int('qty', p.qty, 1, 100_000) });
  }
  if (parts.length > 200) throw new InputError('parts', 'too_many');
  if (parts.length && !van) throw new InputError('parts', 'no_van');
  const reportId = work?.report_id || (existing ? existing.doc.report_id || existing.id : crypto.randomUUID());
  const form = reportForm({
    report_id: reportId,
    job_id: job.id,
    diagnosis: text('diagnosis', input.diagnosis, TEXT, { required: true }),
    root_cause_category: text('root_cause_category', input.root_cause_category, 64, { required: true }),
    root_cause: text('root_cause', input.root_cause, TEXT),
    prevention: text('prevention', input.prevention, TEXT),
    actions: text('actions', input.actions, TEXT, { required: true }),
    labour_minutes: int('labour_minutes', input.labour_minutes, 0, 10_000),
    parts,
  });
  const consumed = { ...(work?.consumed || {}) };
  const drafts = [{ op: 'report.submit', ...form }];
  const wanted = new Map();
  for (const p of parts) wanted.set(p.part_id, (wanted.get(p.part_id) || 0) + p.qty);
  for (const [partId, qty] of wanted) {
    const delta = qty - (consumed[partId] || 0);
    if (delta > 0) {
      drafts.push({ op: 'part.consume', job_id: job.id, part_id: partId, location_id: van.id, qty: delta });
      consumed[partId] = qty;
    }
  }
  const hash = await reportHash(form); // before the transaction: no awaiting inside it
  return queued(drafts, {
    jobId: job.id,
    update: (w) => {
      const base = w.report_id ? w.base_version || 0 : existing ? existing.doc.version : 0;
      const submits = (w.report_id ? w.submits || 0 : 0) + 1;
      return {
        ...w, report_id: reportId, base_version: base, submits,
        version: base + submits, // the version this submit creates (PROTOCOL.md §4 report.submit)
        form, report_sha256: hash, consumed, draft: null,
      };
    },
  });
}

/** The report version a customer signs on this device: the one this device submitted last,
 * else the latest version in the replica (submitted elsewhere); null when there is none. */
export function signable(job) {
  const w = job.work;
  if (w.form) return { form: w.form, report_id: w.report_id, version: w.version };
  const r = job.report;
  if (!r || r.doc.signed) return null;
  return { form: reportForm({ ...r.doc, report_id: r.id, job_id: job.id }), report_id: r.id, version: r.doc.version };
}

/** The customer signs `target` (from signable()): the PNG is kept as a file until uploaded,
 * and the signature names it by hash (PROTOCOL.md §6). */
export async function captureSignature(jobId, target, signerName, png) {
  const name = text('signer_name', signerName, 200, { required: true });
  if (!target?.form) throw new InputError('report', 'required');
  const bytes = new Uint8Array(await png.arrayBuffer());
  if (bytes.length > 2 * 1024 * 1024) throw new InputError('signature', 'too_large');
  const [imageSha, reportSha] = await Promise.all([sha256Hex(bytes), reportHash(target.form)]);
  const draft = {
    op: 'signature.capture', signature_id: crypto.randomUUID(), report_id: target.report_id,
    report_version: target.version, signer_name: name, image_sha256: imageSha, report_sha256: reportSha,
  };
  return queued([draft], {
    jobId,
    blobs: [{ sha256: imageSha, content_type: 'image/png', data: bytes.buffer }],
    update: (w) => ({
      ...w,
      signed: { version: target.version, signer_name: name, image_sha256: imageSha, report_sha256: reportSha },
    }),
  });
}

export async function submitFeedback(jobId, ratings) {
  const draft = {
    op: 'feedback.submit', feedback_id: crypto.randomUUID(), job_id: jobId,
    attitude: int('attitude', ratings.attitude, 1, 5),
    efficiency: int('efficiency', ratings.efficiency, 1, 5),
    quality: int('quality', ratings.quality, 1, 5),
    comment: text('comment', ratings.comment, COMMENT),
  };
  return queued([draft], { jobId, update: (w) => ({ ...w, feedback: true }) });
}

export async function requestPart(jobId, partId, qty, note = '') {
  if (!jobId) throw new InputError('job', 'required');
  const draft = {
    op: 'part.request', request_id: crypto.randomUUID(), job_id: jobId, part_id: partId,
    qty: int('qty', qty, 1, 100_000), note: text('note', note, COMMENT),
  };
  return queued([draft], { jobId });
}

/** Ask the server (online) for a one-time customer sign-off link for a report. */
export async function issueSignoffLink(reportId, version) {
  const link = await api(`/reports/${reportId}/signoff-links`, { json: { version } });
  return { ...link, url: new URL(link.path, location.origin).href };
}
