// Sync status: online or not, what is queued, when the last sync succeeded, and every rejected
// or flagged operation with its reason and what to do — until the engineer dismisses it.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { syncOverview } from '../model.js';
import { dismissResult } from '../db.js';
import { logout } from '../auth.js';
import { resume, syncNow } from '../sync.js';
import { t, fmtDateTime } from '../i18n.js';
import { useLive, useSync } from '../live.js';
import { ActionButton, Notice } from './controls.js';
import { Screen } from './ui.js';
import { problemText } from './problems.js';

function OpLabel({ op, numbers }) {
  if (!op) return t('unknown_operation');
  return html`<span>${t(`op_${op.op}`)}</span>
    ${op.op === 'job.status' && html` → <span>${t(`status_${op.to}`)}</span>`}
    ${op.op === 'part.consume' && html` <span translate=${false}>× ${op.qty}</span>`}
    ${op.job_id && html` · <span translate=${false}>${numbers.get(op.job_id) || op.job_id.slice(0, 8)}</span>`}`;
}

function Account({ user, onLoggedOut }) {
  const [warning, setWarning] = useState(null);
  const out = async (keep) => {
    const r = await logout({ keep });
    if (r.blocked) setWarning(r.blocked);
    else onLoggedOut(r.kept);
  };
  return html`<section aria-labelledby="h-account">
    <h2 id="h-account">${t('account')}</h2>
    <p>${t('logged_in_as', { name: user.display_name, user: user.username })}</p>
    ${warning
      ? html`<${Notice} kind="warn">${t('logout_unsent', { n: warning })}
          <div class="row gap">
            <${ActionButton} kind="primary" onClick=${() => syncNow('manual')}>${t('sync_now')}<//>
            <${ActionButton} kind="danger" onClick=${() => out(true)}>${t('logout_keep')}<//>
          </div><//>`
      : html`<${ActionButton} kind="secondary" onClick=${() => out(false)}>${t('log_out')}<//>`}
  </section>`;
}

const STOPS = { upgrade_required: 'stop_upgrade', login_expired: 'stop_login', fault: 'stop_fault' };

export function SyncView({ user, onLoggedOut }) {
  const sync = useSync();
  const data = useLive(syncOverview, [], null);
  return html`<${Screen} title=${t('sync_title')}>
    <dl class="facts">
      <dt>${t('connection')}</dt>
      <dd><span class="net ${sync.online ? 'on' : 'off'}"><span class="dot" aria-hidden="true"></span>
        ${sync.online ? t('online') : t('offline')}</span></dd>
      <dt>${t('pending_ops')}</dt><dd data-testid="pending-count">${data ? data.pending.length : '…'}</dd>
      <dt>${t('pending_files')}</dt><dd>${data ? data.blobs.length : '…'}</dd>
      <dt>${t('last_sync')}</dt><dd>${data?.lastSync ? html`<span translate=${false}>${fmtDateTime(data.lastSync)}</span>` : t('never')}</dd>
      <dt>${t('sync_state')}</dt><dd>${sync.running ? t(`phase_${sync.phase}`) : sync.error ? t('retrying', { code: sync.error }) : t('idle')}</dd>
    </dl>
    ${sync.stop && html`<${Notice} kind="error">${t(STOPS[sync.stop] || 'stop_fault')}
      ${sync.faultDetail && html`<div class="muted">${sync.faultDetail}</div>`}
      ${sync.stop === 'login_expired'
        ? html`<button type="button" class="btn secondary" onClick=${() => onLoggedOut(-1)}>${t('log_in_again')}</button>`
        : html`<button type="button" class="btn secondary" onClick=${resume}>${t('try_again')}</button>`}<//>`}
    <${ActionButton} onClick=${() => syncNow('manual')} disabled=${!sync.online}>${t('sync_now')}<//>

    <section aria-labelledby="h-problems">
      <h2 id="h-problems">${t('problems')} ${data && html`<span class="muted">(${data.problems.length})</span>`}</h2>
      ${data && data.problems.length === 0 && html`<p class="muted">${t('no_problems')}</p>`}
      <ul class="cards">${data && data.problems.map((r) => html`<li class="card problem ${r.status}">
        <div class="row"><strong><${OpLabel} op=${r.op} numbers=${data.numbers} /></strong>
          <span class="chip ${r.status === 'rejected' ? 'bad' : 'warn'}">${r.status === 'rejected' ? t('rejected') : t('applied_with_note')}</span></div>
        <p>${problemText(r)}</p>
        <p class="muted" translate=${false}>${r.code || (r.flags || []).join(', ')} · ${fmtDateTime(r.received_at)}</p>
        <button type="button" class="btn secondary" onClick=${() => dismissResult(r.id)}>${t('dismiss')}</button>
      </li>`)}</ul>
      ${data && Object.entries(data.blobErrors).map(([sha, code]) => html`<${Notice} kind="error">
        ${t('blob_refused', { code, sha: sha.slice(0, 12) })}<//>`)}
    </section>

    <section aria-labelledby="h-pending">
      <h2 id="h-pending">${t('queued_ops')}</h2>
      ${data && data.pending.length === 0 && html`<p class="muted">${t('nothing_queued')}</p>`}
      <ul class="plain">${data && data.pending.map((op) => html`<li><span translate=${false}>#${op.seq} </span>
        <${OpLabel} op=${op} numbers=${data.numbers} /><span class="muted" translate=${false}> · ${fmtDateTime(op.at)}</span></li>`)}</ul>
    </section>

    ${data && data.recent.length > 0 && html`<section aria-labelledby="h-recent">
      <h2 id="h-recent">${t('recently_sent')}</h2>
      <ul class="plain">${data.recent.map((r) => html`<li>✓ <${OpLabel} op=${r.op} numbers=${data.numbers} /></li>`)}</ul>
    </section>`}

    <${Account} user=${user} onLoggedOut=${onLoggedOut} />
  <//>`;
}
