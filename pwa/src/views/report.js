// The repair report: diagnosis, root cause (category + text), prevention, actions, labour and
// the parts used from the engineer's own van. The draft is kept on the device while typing;
// submitting queues the report and the part consumptions together.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { jobDetail, van as vanOf } from '../model.js';
import { InputError, submitReport } from '../actions.js';
import { saveDraft } from '../db.js';
import { go } from '../router.js';
import { CAUSES, t, partLabel } from '../i18n.js';
import { useLive } from '../live.js';
import { parts as allParts } from '../model.js';
import { ActionButton, Field, Notice } from './controls.js';
import { Screen } from './ui.js';
import { toast } from './toast.js';

const EMPTY = {
  diagnosis: '', root_cause_category: '', root_cause: '', prevention: '', actions: '',
  labour_minutes: '', parts: [],
};

function startingForm(job) {
  const w = job.work;
  if (w.draft) return w.draft;
  const src = w.form || job.report?.doc;
  if (!src) return EMPTY;
  return { ...EMPTY, ...src, labour_minutes: String(src.labour_minutes ?? ''), parts: src.parts || [] };
}

function PartsUsed({ rows, setRows, stock, names }) {
  const options = [...stock.values()].filter((s) => names.has(s.part_id))
    .sort((a, b) => b.on_hand - a.on_hand || names.get(a.part_id).sku.localeCompare(names.get(b.part_id).sku));
  const update = (i, patch) => setRows(rows.map((r, j) => (i === j ? { ...r, ...patch } : r)));
  return html`<fieldset class="parts-used">
    <legend>${t('parts_used')}</legend>
    ${options.length === 0 && html`<p class="muted">${t('van_empty')}</p>`}
    ${rows.map((r, i) => html`<div class="part-row">
      <label class="sr-only" for=${`part-${i}`}>${t('part_n', { n: i + 1 })}</label>
      <select id=${`part-${i}`} value=${r.part_id} onChange=${(e) => update(i, { part_id: e.target.value })}>
        <option value="">${t('choose_part')}</option>
        ${options.map((s) => html`<option value=${s.part_id} translate=${false}>
          ${names.get(s.part_id).sku} ${names.get(s.part_id).label} (${t('in_van', { n: s.on_hand })})</option>`)}
      </select>
      <label class="sr-only" for=${`qty-${i}`}>${t('quantity_n', { n: i + 1 })}</label>
      <input id=${`qty-${i}`} class="qty" type="number" inputmode="numeric" min="1" max="100000"
        value=${r.qty} onInput=${(e) => update(i, { qty: e.target.value })} />
      <button type="button" class="btn icon" aria-label=${t('remove_part_n', { n: i + 1 })}
        onClick=${() => setRows(rows.filter((_, j) => j !== i))}>✕</button>
    </div>`)}
    <button type="button" class="btn secondary" disabled=${!options.length}
      onClick=${() => setRows([...rows, { part_id: '', qty: 1 }])}>＋ ${t('add_part')}</button>
  </fieldset>`;
}

export function ReportView({ id, user }) {
  const data = useLive(async () => {
    const [job, v, catalogue] = await Promise.all([jobDetail(id), vanOf(user.id), allParts()]);
    return { job, v, catalogue };
  }, [id], ['docs', 'work']);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const timer = useRef(null);

  useEffect(() => {
    if (data?.job && form === null) setForm(startingForm(data.job));
  }, [data]);
  if (!data || form === null) return html`<${Screen} title=${t('report_title')} back=${`#/job/${id}`} />`;
  const { job, v, catalogue } = data;
  if (!job) return html`<${Screen} title=${t('job_gone_title')} back="#/jobs"><${Notice} kind="warn">${t('job_gone')}<//><//>`;

  const locked = Boolean(job.work.signed) || Boolean(job.report?.doc.signed);
  const names = new Map(catalogue.map((p) => [p.id, { sku: p.doc.sku, label: partLabel(p.doc) }]));
  const set = (patch) => {
    const next = { ...form, ...patch };
    setForm(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => saveDraft(id, next), 300);
  };
  const input = (name, label, { area = false, required = false } = {}) => html`<${Field} label=${`${label}${required ? ' *' : ''}`} id=${name}>
    ${area
      ? html`<textarea id=${name} rows="3" maxlength="10000" required=${required} disabled=${locked}
          value=${form[name]} onInput=${(e) => set({ [name]: e.target.value })}></textarea>`
      : html`<input id=${name} required=${required} disabled=${locked} value=${form[name]}
          onInput=${(e) => set({ [name]: e.target.value })} />`}
  <//>`;

  const submit = async () => {
    setError(null);
    try {
      clearTimeout(timer.current);
      await submitReport(job, form, { van: v.location, existing: job.report, work: job.work });
      toast(t('saved_on_device'));
      go(`#/job/${id}/signoff`);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      setError(t('invalid_field', { field: t(`field_${err.field}`), rule: t(`rule_${err.rule}`) }));
    }
  };

  return html`<${Screen} title=${t('report_title')} back=${`#/job/${id}`}>
    <p class="muted" translate=${false}>${job.doc.number} · ${job.doc.summary}</p>
    ${locked && html`<${Notice} kind="info">${t('report_locked')}<//>`}
    <form onSubmit=${(e) => e.preventDefault()}>
      ${input('diagnosis', t('field_diagnosis'), { area: true, required: true })}
      <${Field} label=${`${t('field_root_cause_category')} *`} id="root_cause_category">
        <select id="root_cause_category" required disabled=${locked} value=${form.root_cause_category}
          onChange=${(e) => set({ root_cause_category: e.target.value })}>
          <option value="">${t('choose')}</option>
          ${CAUSES.map((c) => html`<option value=${c}>${t(`cause_${c}`)}</option>`)}
        </select>
      <//>
      ${input('root_cause', t('field_root_cause'), { area: true })}
      ${input('prevention', t('field_prevention'), { area: true })}
      ${input('actions', t('field_actions'), { area: true, required: true })}
      <${Field} label=${`${t('field_labour_minutes')} *`} id="labour_minutes">
        <input id="labour_minutes" type="number" inputmode="numeric" min="0" max="10000" required
          disabled=${locked} value=${form.labour_minutes} onInput=${(e) => set({ labour_minutes: e.target.value })} />
      <//>
      ${!locked && html`<${PartsUsed} rows=${form.parts} setRows=${(parts) => set({ parts })}
        stock=${v.stock} names=${names} />`}
      ${locked && form.parts.length > 0 && html`<ul translate=${false}>${form.parts.map((p) => html`<li>${names.get(p.part_id)?.sku} × ${p.qty}</li>`)}</ul>`}
      ${error && html`<${Notice} kind="error">${error}<//>`}
      ${!locked && html`<${ActionButton} onClick=${submit}>${t('submit_report')}<//>
        <p class="hint">${t('submit_report_hint')}</p>`}
    </form>
  <//>`;
}
