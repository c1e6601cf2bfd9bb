// The parts catalogue from the local replica: search, availability in the own van and the
// nearest depots, and part requests for a job.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { availability, jobList, partRequests, parts as allParts, searchParts, CLOSED } from '../model.js';
import { InputError, requestPart } from '../actions.js';
import { currentPosition } from '../geo.js';
import { getDoc } from '../db.js';
import { partLabel, t, fmtKm, fmtMoney } from '../i18n.js';
import { useLive } from '../live.js';
import { ActionButton, Field, Notice } from './controls.js';
import { Screen } from './ui.js';
import { toast } from './toast.js';

function RequestForm({ part, jobs, defaultJob, onDone }) {
  const [jobId, setJobId] = useState(defaultJob || jobs[0]?.id || '');
  const [qty, setQty] = useState(1);
  const [note, setNote] = useState('');
  const [error, setError] = useState(null);
  const send = async () => {
    setError(null);
    try {
      await requestPart(jobId, part.id, qty, note);
      toast(t('saved_on_device'));
      onDone();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      setError(t('invalid_field', { field: t(`field_${err.field}`), rule: t(`rule_${err.rule}`) }));
    }
  };
  return html`<div class="request-form">
    <${Field} label=${t('for_job')} id=${`rq-job-${part.id}`}>
      <select id=${`rq-job-${part.id}`} value=${jobId} onChange=${(e) => setJobId(e.target.value)}>
        ${jobs.map((j) => html`<option value=${j.id}>${j.doc.number} · ${j.customer?.name || ''}</option>`)}
      </select>
    <//>
    <${Field} label=${t('quantity')} id=${`rq-qty-${part.id}`}>
      <input id=${`rq-qty-${part.id}`} type="number" inputmode="numeric" min="1" value=${qty}
        onInput=${(e) => setQty(e.target.value)} />
    <//>
    <${Field} label=${t('note')} id=${`rq-note-${part.id}`}>
      <input id=${`rq-note-${part.id}`} maxlength="2000" value=${note} onInput=${(e) => setNote(e.target.value)} />
    <//>
    ${error && html`<${Notice} kind="error">${error}<//>`}
    <${ActionButton} onClick=${send} disabled=${!jobId}>${t('request_part')}<//>
  </div>`;
}

function PartRow({ part, user, position, jobs, defaultJob }) {
  const [open, setOpen] = useState(false);
  const [asking, setAsking] = useState(false);
  const rows = useLive(() => (open ? availability(part.id, user.id, position) : Promise.resolve(null)),
    [open, position], ['docs']);
  const d = part.doc;
  return html`<li class="card part">
    <button type="button" class="part-head" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      <span translate=${false}><strong>${d.sku}</strong> ${partLabel(d)}
        <span class="muted"> · ${fmtMoney(d.unit_price_cents)} · ${(d.compatible_models || []).join(', ')}</span></span>
    </button>
    ${open && rows && html`<table class="avail">
      <caption class="sr-only">${t('availability')}</caption>
      <thead><tr><th scope="col">${t('location')}</th><th scope="col">${t('on_hand')}</th><th scope="col">${t('distance')}</th></tr></thead>
      <tbody>${rows.slice(0, 6).map((r) => html`<tr class=${r.own ? 'own' : ''}>
        <td>${r.own ? t('my_van') : html`<span translate=${false}>${r.location.name}</span>`}</td><td>${r.on_hand}</td>
        <td translate=${false}>${r.own ? '—' : r.distance != null ? fmtKm(r.distance) : '—'}</td></tr>`)}</tbody>
    </table>`}
    ${open && !asking && jobs.length > 0 && html`<button type="button" class="btn secondary"
      onClick=${() => setAsking(true)}>${t('request_part')}…</button>`}
    ${open && asking && html`<${RequestForm} part=${part} jobs=${jobs} defaultJob=${defaultJob}
      onDone=${() => setAsking(false)} />`}
  </li>`;
}

export function PartsView({ user, query: params }) {
  const [query, setQuery] = useState('');
  const [position, setPosition] = useState(null);
  const data = useLive(async () => {
    const [catalogue, jobs, requests, me] = await Promise.all([
      allParts(), jobList(null), partRequests(), getDoc('user', user.id)]);
    const home = me?.doc.home_lat != null ? [me.doc.home_lat, me.doc.home_lon] : null;
    return { catalogue, jobs: jobs.filter((j) => !CLOSED.has(j.status)), requests, home };
  }, [], ['docs', 'outbox']);
  const defaultJob = params.get('job');
  const hits = data ? searchParts(data.catalogue, query) : [];
  return html`<${Screen} title=${t('parts_title')}>
    <${Field} label=${t('search_parts')} id="part-search" hint=${t('search_parts_hint')}>
      <input id="part-search" type="search" value=${query} aria-describedby="part-search-hint"
        onInput=${(e) => setQuery(e.target.value)} />
    <//>
    <button type="button" class="btn secondary" onClick=${async () => setPosition(await currentPosition())}>
      ${position ? t('nearest_from_here') : t('use_my_position')}</button>
    ${data && html`<p class="muted">${t('parts_count', { n: hits.length, total: data.catalogue.length })}</p>`}
    <ul class="cards">${hits.map((p) => html`<${PartRow} key=${p.id} part=${p} user=${user}
      position=${position || data.home} jobs=${data.jobs} defaultJob=${defaultJob} />`)}</ul>
    ${data && data.requests.length > 0 && html`<section aria-labelledby="h-requests">
      <h2 id="h-requests">${t('my_part_requests')}</h2>
      <ul class="plain">${data.requests.map((r) => html`<li>
        <span translate=${false}>${r.part?.sku || r.doc.part_id} × ${r.doc.qty}</span>
        <span class="chip">${t(`request_${r.doc.status}`)}</span></li>`)}</ul>
    </section>`}
  <//>`;
}
