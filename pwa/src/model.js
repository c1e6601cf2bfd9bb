// The read side: what the screens show, computed from the replica (the server's view) with the
// outbox on top (what this device did that the server has not answered yet). Pure reads.
import * as db from './db.js';
import { distanceKm } from './geo.js';

export const CLOSED = new Set(['completed', 'cancelled']);

// The engineer's moves (sync/jobstatus.py TRANSITIONS): the buttons a status enables.
export const TRANSITIONS = {
  assigned: ['en_route', 'on_site'],
  en_route: ['on_site'],
  on_site: ['work_started', 'needs_parts', 'escalated'],
  work_started: ['completed', 'needs_parts', 'escalated'],
  needs_parts: ['en_route', 'on_site', 'work_started', 'escalated'],
  escalated: ['en_route', 'on_site', 'work_started'],
  completed: [],
};
export const TARGETS = ['en_route', 'on_site', 'work_started', 'completed', 'needs_parts', 'escalated'];

const byId = (rows) => new Map(rows.map((r) => [r.id, r.doc]));

/** The status a job has on this device: the replica's, then what the server answered to moves
 * since the last pull (the replica does not show them yet), then the queued moves — and how
 * many moves are queued. */
export function effectiveStatus(jobDoc, jobId, pending, answered = []) {
  let status = jobDoc.status;
  let queued = 0;
  for (const r of answered) {
    if (r.op?.op === 'job.status' && r.op.job_id === jobId && r.result?.status) status = r.result.status;
  }
  for (const op of pending) {
    if (op.op === 'job.status' && op.job_id === jobId) {
      status = op.to;
      queued += 1;
    }
  }
  return { status, queued };
}

export function localDay(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Jobs for the list: today's, upcoming and other open ones, with what the cards show. */
export async function jobList(position) {
  const [jobs, customers, sites, assets, pending, work, answered] = await Promise.all([
    db.docsOfKind('job'), db.docsOfKind('customer'), db.docsOfKind('site'),
    db.docsOfKind('asset'), db.outbox(), db.allWork(), db.unsettled(),
  ]);
  const c = byId(customers);
  const s = byId(sites);
  const a = byId(assets);
  const w = new Map(work.map((x) => [x.job_id, x]));
  const today = localDay(new Date().toISOString());
  return jobs.map(({ id, doc }) => {
    const site = s.get(doc.site_id) || null;
    const { status, queued } = effectiveStatus(doc, id, pending, answered);
    const day = localDay(doc.scheduled_start);
    const ready = Boolean(c.get(doc.customer_id) && site && (!doc.asset_id || a.get(doc.asset_id)));
    return {
      id, doc, status, queued, ready, day,
      group: day === today ? 'today' : day && day > today ? 'upcoming' : 'other',
      customer: c.get(doc.customer_id) || null,
      site,
      work: w.get(id) || null,
      distance: position && site ? distanceKm(position, [site.lat, site.lon]) : null,
    };
  }).filter((j) => j.group !== 'other' || !CLOSED.has(j.status));
}

export function sortJobs(list, order) {
  const key = order === 'distance'
    ? (j) => (j.distance ?? Infinity)
    : (j) => (j.doc.scheduled_start ? Date.parse(j.doc.scheduled_start) : Infinity);
  return [...list].sort((x, y) => key(x) - key(y) || x.doc.number.localeCompare(y.doc.number));
}

/** The logical id of a report document (its first version's row id when the doc omits it). */
export const logicalReportId = (r) => r.doc.report_id || r.id;

/** Everything the job screen shows, or null when the job is not (or no longer) in the replica. */
export async function jobDetail(jobId) {
  const job = await db.getDoc('job', jobId);
  if (!job) return null;
  const d = job.doc;
  const [customer, site, asset, history, reports, pending, work, answers, answered] = await Promise.all([
    db.getDoc('customer', d.customer_id), db.getDoc('site', d.site_id),
    d.asset_id ? db.getDoc('asset', d.asset_id) : null, db.docsOfKind('service_history'),
    db.docsOfKind('report'), db.outbox(), db.getWork(jobId), db.results(), db.unsettled(),
  ]);
  const { status, queued } = effectiveStatus(d, jobId, pending, answered);
  const mine = reports.filter((r) => r.doc.job_id === jobId).sort((x, y) => y.doc.version - x.doc.version);
  return {
    id: jobId, v: job.v, doc: d, status, queued,
    customer: customer?.doc || null, site: site?.doc || null, asset: asset?.doc || null,
    history: history
      .filter((h) => d.asset_id && h.doc.asset_id === d.asset_id)
      .sort((x, y) => String(y.doc.completed_at).localeCompare(String(x.doc.completed_at))),
    report: mine[0] || null,
    work: work || { job_id: jobId },
    pending: pending.filter((op) => op.job_id === jobId),
    problems: answers.filter((r) => r.notable && !r.dismissed && r.op?.job_id === jobId),
  };
}

/** The engineer's own van (a location document) and its stock, by part id. */
export async function van(userId) {
  const locations = await db.docsOfKind('location');
  const mine = locations.find((l) => l.doc.kind === 'van' && l.doc.engineer_id === userId);
  if (!mine) return { location: null, stock: new Map() };
  const stock = (await db.docsOfKind('stock')).filter((s) => s.doc.location_id === mine.id);
  return { location: mine, stock: new Map(stock.map((s) => [s.doc.part_id, s.doc])) };
}

export async function parts() {
  return (await db.docsOfKind('part')).sort((x, y) => x.doc.sku.localeCompare(y.doc.sku));
}

export function searchParts(all, query, limit = 40) {
  const q = query.trim().toLowerCase();
  const hit = (p) => !q || [p.doc.sku, p.doc.name, p.doc.name_en, ...(p.doc.compatible_models || [])]
    .some((s) => String(s || '').toLowerCase().includes(q));
  return all.filter(hit).slice(0, limit);
}

/** Availability of one part: own van, then warehouses nearest to `position` first. */
export async function availability(partId, userId, position) {
  const [locations, stock] = await Promise.all([db.docsOfKind('location'), db.docsOfKind('stock')]);
  const levels = new Map(stock.filter((s) => s.doc.part_id === partId).map((s) => [s.doc.location_id, s.doc]));
  const rows = locations
    .filter((l) => l.doc.kind !== 'van' || l.doc.engineer_id === userId)
    .map((l) => ({
      id: l.id, location: l.doc, own: l.doc.kind === 'van',
      on_hand: levels.get(l.id)?.on_hand ?? 0,
      distance: position ? distanceKm(position, [l.doc.lat, l.doc.lon]) : null,
    }));
  return rows.sort((x, y) => (y.own - x.own) || ((x.distance ?? 0) - (y.distance ?? 0)));
}

export async function partRequests() {
  const [docs, pending, all] = await Promise.all([db.docsOfKind('part_request'), db.outbox(), parts()]);
  const names = new Map(all.map((p) => [p.id, p.doc]));
  const queued = pending.filter((op) => op.op === 'part.request').map((op) => ({
    id: op.request_id, doc: { ...op, status: 'queued' }, part: names.get(op.part_id),
  }));
  return [...queued, ...docs.map((d) => ({ ...d, part: names.get(d.doc.part_id) }))];
}

/** What the sync screen lists. */
export async function syncOverview() {
  const [pending, answers, blobs, blobErrors, lastSync, jobs, work] = await Promise.all([
    db.outbox(), db.results(), db.pendingBlobHashes(), db.getMeta('blob_errors'),
    db.getMeta('last_sync'), db.docsOfKind('job'), db.allWork(),
  ]);
  const numbers = new Map([
    ...work.filter((w) => w.number).map((w) => [w.job_id, w.number]),
    ...jobs.map((j) => [j.id, j.doc.number]),
  ]);
  return {
    pending,
    problems: answers.filter((r) => r.notable && !r.dismissed),
    recent: answers.filter((r) => !r.notable).slice(0, 10),
    blobs,
    blobErrors: blobErrors || {},
    lastSync: lastSync || null,
    numbers,
  };
}
