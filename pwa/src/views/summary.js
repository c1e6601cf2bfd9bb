// The report summary a customer reads before signing (on the device and on the link page).
import { html } from 'htm/preact';
import { t } from '../i18n.js';

export function ReportSummary({ form, version, hash, partName, number, customer }) {
  return html`<section class="card summary-card" aria-labelledby="h-summary">
    <h2 id="h-summary">${t('report_summary', { v: version })}</h2>
    <dl>
      ${number && html`<dt>${t('job')}</dt><dd translate=${false}>${number}${customer ? ` · ${customer}` : ''}</dd>`}
      <dt>${t('field_diagnosis')}</dt><dd translate=${false}>${form.diagnosis}</dd>
      <dt>${t('field_root_cause')}</dt><dd>${t(`cause_${form.root_cause_category}`)}${form.root_cause && html` — <span translate=${false}>${form.root_cause}</span>`}</dd>
      ${form.prevention && html`<dt>${t('field_prevention')}</dt><dd translate=${false}>${form.prevention}</dd>`}
      <dt>${t('field_actions')}</dt><dd translate=${false}>${form.actions}</dd>
      <dt>${t('field_labour_minutes')}</dt><dd translate=${false}>${form.labour_minutes}</dd>
      <dt>${t('parts_list')}</dt>
      <dd>${form.parts.length === 0 ? t('none') : html`<ul translate=${false}>${form.parts.map((p) => html`<li>${partName(p.part_id)} × ${p.qty}</li>`)}</ul>`}</dd>
    </dl>
    ${hash && html`<p class="hash">${t('report_fingerprint')}: <code translate=${false}>${hash.slice(0, 16)}…</code></p>`}
  </section>`;
}
