// One job: customer, site, asset and its history; status moves (offline); report, sign-off and
// feedback steps; problems the server reported about this job.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { jobDetail, TARGETS, TRANSITIONS } from '../model.js';
import { InputError, issueSignoffLink, setStatus } from '../actions.js';
import { toast } from './toast.js';
import { dismissResult } from '../db.js';
import { t, fmtDate, fmtDateTime } from '../i18n.js';
import { useLive, useSync } from '../live.js';
import { ActionButton, Notice } from './controls.js';
import { Screen, SlaChip, StatusChip } from './ui.js';
import { problemText } from './problems.js';

function Warranty({ asset }) {
  if (!asset.warranty_end) return html`<span class="chip">${t('warranty_unknown')}</span>`;
  const inside = asset.warranty_end >= new Date().toISOString().slice(0, 10);
  return html`<span class="chip ${inside ? 'ok' : 'warn'}">${inside
    ? t('warranty_until', { date: fmtDate(asset.warranty_end) })
    : t('warranty_ended', { date: fmtDate(asset.warranty_end) })}</span>`;
}

function StatusButtons({ job }) {
  const allowed = new Set(TRANSITIONS[job.status] || []);
  const [error, setError] = useState(null);
  const move = async (to) => {
    setError(null);
    try {
      await setStatus(job.id, to);
      toast(t('saved_on_device'));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      setError(t('status_not_now'));
    }
  };
  return html`<section aria-labelledby="h-status">
    <h2 id="h-status">${t('status')}: <${StatusChip} status=${job.status} queued=${job.queued} /></h2>
    <div class="grid-buttons">
      ${TARGETS.map((to) => html`<${ActionButton} kind=${`status-btn to-${to}`}
        disabled=${!allowed.has(to)} onClick=${() => move(to)}>
        ${t(`action_${to}`)}<//>`)}
    </div>
    ${error && html`<${Notice} kind="error">${error}<//>`}
    ${job.queued > 0 && html`<p class="hint">${t('status_saved_offline')}</p>`}
  </section>`;
}

function SignoffLink({ job }) {
  const sync = useSync();
  const [link, setLink] = useState(null);
  const [error, setError] = useState(null);
  const report = job.report;
  if (!report || report.doc.signed) return null;
  const issue = async () => {
    setError(null);
    try {
      setLink(await issueSignoffLink(report.doc.report_id || report.id, report.doc.version));
    } catch (err) {
      setError(t('link_failed', { code: err.code || err.message }));
    }
  };
  return html`<div class="link-box">
    <${ActionButton} kind="secondary" disabled=${!sync.online} onClick=${issue}>${t('send_link')}<//>
    ${!sync.online && html`<p class="hint">${t('link_needs_network')}</p>`}
    ${link && html`<div class="field"><label for="signoff-url">${t('link_ready', { date: fmtDateTime(link.expires_at) })}</label>
      <input id="signoff-url" readonly value=${link.url} onFocus=${(e) => e.target.select()} /></div>`}
    ${error && html`<${Notice} kind="error">${error}<//>`}
  </div>`;
}

/** A step's button: a link when it can be taken now, else a dimmed label saying why not. */
function Step({ href, enabled, children }) {
  return enabled
    ? html`<a class="btn secondary" href=${href}>${children}</a>`
    : html`<span class="btn secondary" aria-disabled="true">${children}</span>`;
}

function Steps({ job }) {
  const w = job.work;
  const signed = Boolean(w.signed) || Boolean(job.report?.doc.signed);
  const hasReport = Boolean(w.form) || Boolean(job.report);
  const canWork = ['on_site', 'work_started', 'needs_parts', 'escalated', 'completed'].includes(job.status);
  return html`<section aria-labelledby="h-steps">
    <h2 id="h-steps">${t('report_and_signoff')}</h2>
    <ol class="steps">
      <li class=${hasReport ? 'done' : ''}>
        <${Step} href=${`#/job/${job.id}/report`} enabled=${canWork || hasReport}>
          ${hasReport ? t('edit_report', { v: w.version || job.report?.doc.version || 1 }) : t('write_report')}<//>
        ${!canWork && !hasReport && html`<p class="hint">${t('report_after_arrival')}</p>`}
      </li>
      <li class=${signed ? 'done' : ''}>
        ${signed
          ? html`<span>✓ ${t('signed_by', { name: w.signed?.signer_name || job.report?.doc.signer_name || '' })}</span>`
          : html`<${Step} href=${`#/job/${job.id}/signoff`} enabled=${hasReport}>${t('customer_signoff')}<//>`}
      </li>
      <li class=${w.feedback ? 'done' : ''}>
        ${w.feedback
          ? html`<span>✓ ${t('feedback_given')}</span>`
          : html`<${Step} href=${`#/job/${job.id}/feedback`} enabled=${true}>${t('customer_feedback')}<//>`}
      </li>
    </ol>
    ${!signed && html`<${SignoffLink} job=${job} />`}
  </section>`;
}

export function JobView({ id }) {
  const job = useLive(() => jobDetail(id), [id]);
  if (job === undefined) return html`<${Screen} title=${t('loading')} back="#/jobs" />`;
  if (job === null) {
    return html`<${Screen} title=${t('job_gone_title')} back="#/jobs">
      <${Notice} kind="warn">${t('job_gone')}<//>
      <a class="btn secondary" href="#/sync">${t('nav_sync')}</a>
    <//>`;
  }
  const d = job.doc;
  const phone = job.customer?.phone || d.request?.contact_phone;
  const site = job.site;
  return html`<${Screen} title=${d.number} dataTitle back="#/jobs">
    ${job.problems.map((r) => html`<${Notice} kind="error">
      <strong>${t(`op_${r.op?.op}`)}: </strong>${problemText(r)}
      <button type="button" class="link" onClick=${() => dismissResult(r.id)}>${t('dismiss')}</button><//>`)}
    <p class="summary" translate=${false}>${d.summary}</p>
    <div class="row chips">
      <span class="chip urgency-${d.request?.urgency}">${t(`urgency_${d.request?.urgency}`)}</span>
      <${SlaChip} request=${d.request} status=${job.status} />
      ${d.is_repeat_visit && html`<span class="chip warn">${t('repeat_visit')}</span>`}
      ${d.free_of_charge && html`<span class="chip ok">${t('free_of_charge')}</span>`}
    </div>
    ${d.request?.problem && html`<p class="problem"><span class="muted">${t('reported_problem')}: </span><span translate=${false}>${d.request.problem}</span></p>`}

    <${StatusButtons} job=${job} />

    <section aria-labelledby="h-customer" class="card">
      <h2 id="h-customer">${t('customer')}</h2>
      <p translate=${false}><strong>${job.customer?.name || '—'}</strong></p>
      ${d.request?.contact_name && html`<p>${t('contact')}: <span translate=${false}>${d.request.contact_name}</span></p>`}
      ${phone && html`<a class="btn secondary" href=${`tel:${phone}`} aria-label=${t('call', { phone })}><span aria-hidden="true">☎ </span><span translate=${false}>${phone}</span></a>`}
    </section>

    ${site && html`<section aria-labelledby="h-site" class="card">
      <h2 id="h-site">${t('site')}</h2>
      <div translate=${false}>
        <p><strong>${site.name}</strong></p>
        <p>${site.address}</p>
        ${site.notes && html`<p class="muted">${site.notes}</p>`}
      </div>
      <a class="btn secondary" href=${`geo:${site.lat},${site.lon}?q=${site.lat},${site.lon}`}
        aria-label=${t('open_map_label', { name: site.name })}>${t('open_map')}</a>
      <p class="hint" translate=${false}>${site.lat.toFixed(5)}, ${site.lon.toFixed(5)}</p>
    </section>`}

    ${job.asset && html`<section aria-labelledby="h-asset" class="card">
      <h2 id="h-asset">${t('asset')}</h2>
      <p translate=${false}><strong>${job.asset.model_name}</strong> (${job.asset.model_code})</p>
      <p>${t('serial')}: <span translate=${false}>${job.asset.serial}</span></p>
      <${Warranty} asset=${job.asset} />
      <h3>${t('service_history')}</h3>
      ${job.history.length === 0 && html`<p class="muted">${t('no_history')}</p>`}
      <ul class="history">${job.history.map((h) => html`<li>
        <span translate=${false}><strong>${fmtDate(h.doc.completed_at)}</strong> · ${h.doc.number} · ${h.doc.engineer_name}</span>
        ${h.doc.is_repeat_visit && html` <span class="chip warn">${t('repeat_visit')}</span>`}
        <div translate=${false}>${h.doc.diagnosis || h.doc.summary}</div>
        ${h.doc.root_cause_category && html`<div class="muted">${t(`cause_${h.doc.root_cause_category}`)}: <span translate=${false}>${h.doc.root_cause}</span></div>`}
      </li>`)}</ul>
    </section>`}

    <${Steps} job=${job} />
  <//>`;
}
