// Today's and upcoming jobs, by schedule or by distance from where the engineer is.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { jobList, sortJobs } from '../model.js';
import { currentPosition } from '../geo.js';
import { t, fmtTime, fmtDate, fmtKm } from '../i18n.js';
import { useLive } from '../live.js';
import { Notice } from './controls.js';
import { Screen, SlaChip, StatusChip } from './ui.js';

const ORDER_KEY = 'fieldsync.jobOrder';

function JobCard({ job }) {
  const d = job.doc;
  return html`<li>
    <a class="card job" href=${`#/job/${job.id}`}>
      <div class="row">
        <strong class="num" translate=${false}>${d.number}</strong>
        <${StatusChip} status=${job.status} queued=${job.queued} />
      </div>
      <div class="summary" translate=${false}>${d.summary}</div>
      <div class="meta" translate=${false}>
        <span>${job.customer?.name || '—'}</span>
        ${d.scheduled_start && html`<span>${job.group === 'today' ? fmtTime(d.scheduled_start) : fmtDate(d.scheduled_start)}</span>`}
        ${job.distance != null && html`<span>${fmtKm(job.distance)}</span>`}
      </div>
      <div class="row chips">
        <span class="chip urgency-${d.request?.urgency}">${t(`urgency_${d.request?.urgency}`)}</span>
        <${SlaChip} request=${d.request} status=${job.status} />
        ${job.ready
          ? html`<span class="chip ready" title=${t('offline_ready_hint')}>✓ ${t('offline_ready')}</span>`
          : html`<span class="chip not-ready">${t('not_offline_ready')}</span>`}
      </div>
    </a>
  </li>`;
}

export function JobsView({ problems }) {
  const [order, setOrder] = useState(localStorage.getItem(ORDER_KEY) || 'schedule');
  const [position, setPosition] = useState(null);
  const [locating, setLocating] = useState(false);
  const jobs = useLive(() => jobList(position), [position], ['docs', 'outbox', 'work', 'results']);

  const locate = async () => {
    setLocating(true);
    setPosition(await currentPosition());
    setLocating(false);
  };
  useEffect(() => {
    if (order === 'distance') locate(); // a saved distance order: locate once on opening
  }, []);
  const choose = (value) => {
    setOrder(value);
    localStorage.setItem(ORDER_KEY, value);
    if (value === 'distance' && !position) locate();
  };

  const sorted = jobs ? sortJobs(jobs, order) : [];
  const section = (group, title) => {
    const rows = sorted.filter((j) => j.group === group);
    if (!rows.length) return null;
    return html`<section aria-labelledby=${`h-${group}`}>
      <h2 id=${`h-${group}`}>${title} <span class="muted">(${rows.length})</span></h2>
      <ul class="cards">${rows.map((j) => html`<${JobCard} key=${j.id} job=${j} />`)}</ul>
    </section>`;
  };

  return html`<${Screen} title=${t('jobs_title')}>
    ${problems > 0 && html`<${Notice} kind="error">
      <a href="#/sync">${t('problems_banner', { n: problems })}</a><//>`}
    <div class="toolbar" role="group" aria-label=${t('order_by')}>
      ${['schedule', 'distance'].map((o) => html`<button type="button"
        class="seg ${order === o ? 'on' : ''}" aria-pressed=${order === o}
        onClick=${() => choose(o)}>${t(`order_${o}`)}</button>`)}
    </div>
    ${order === 'distance' && !position && !locating && html`<p class="hint">${t('no_position')}</p>`}
    ${jobs === undefined && html`<p>${t('loading')}</p>`}
    ${jobs && !sorted.length && html`<p class="empty">${t('no_jobs')}</p>`}
    ${section('today', t('jobs_today'))}
    ${section('upcoming', t('jobs_upcoming'))}
    ${section('other', t('jobs_other_open'))}
  <//>`;
}
