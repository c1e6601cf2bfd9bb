// The customer signs on the engineer's device: the summary of exactly the report version being
// signed, their name and a signature. The report hash is computed here from that same form, so
// the signature is bound to what the customer saw (PROTOCOL.md §5.2).
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { jobDetail, parts as allParts } from '../model.js';
import { captureSignature, InputError, signable } from '../actions.js';
import { reportHash } from '../canonical.js';
import { go } from '../router.js';
import { t, partLabel } from '../i18n.js';
import { useLive } from '../live.js';
import { ActionButton, Field, Notice } from './controls.js';
import { Screen } from './ui.js';
import { SignatureBox } from './signature.js';
import { ReportSummary } from './summary.js';
import { toast } from './toast.js';

export function SignoffView({ id }) {
  const data = useLive(async () => {
    const [job, catalogue] = await Promise.all([jobDetail(id), allParts()]);
    const target = job ? signable(job) : null;
    const hash = target ? await reportHash(target.form) : null;
    return { job, catalogue, target, hash };
  }, [id], ['docs', 'work']);
  const [name, setName] = useState('');
  const [error, setError] = useState(null);
  const pad = useRef(null);

  useEffect(() => {
    if (data?.job && !name) setName(data.job.doc.request?.contact_name || '');
  }, [data]);
  if (!data) return html`<${Screen} title=${t('signoff_title')} back=${`#/job/${id}`} />`;
  const { job, catalogue, target, hash } = data;
  if (!job) return html`<${Screen} title=${t('job_gone_title')} back="#/jobs"><${Notice} kind="warn">${t('job_gone')}<//><//>`;
  const w = job.work;
  if (w.signed || job.report?.doc.signed) {
    return html`<${Screen} title=${t('signoff_title')} back=${`#/job/${id}`}>
      <${Notice} kind="info">${t('signed_by', { name: w.signed?.signer_name || job.report.doc.signer_name || '' })}<//>
      <a class="btn primary" href=${`#/job/${id}/feedback`}>${t('customer_feedback')}</a><//>`;
  }
  if (!target) {
    return html`<${Screen} title=${t('signoff_title')} back=${`#/job/${id}`}>
      <${Notice} kind="warn">${t('signoff_needs_report')}<//>
      <a class="btn primary" href=${`#/job/${id}/report`}>${t('write_report')}</a><//>`;
  }
  const names = new Map(catalogue.map((p) => [p.id, p.doc]));

  const confirm = async () => {
    setError(null);
    if (!name.trim()) return setError(t('signer_name_required'));
    if (pad.current.isEmpty()) return setError(t('signature_required'));
    try {
      await captureSignature(id, target, name, await pad.current.png());
      toast(t('saved_on_device'));
      go(`#/job/${id}/feedback`);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      setError(t('invalid_field', { field: t(`field_${err.field}`), rule: t(`rule_${err.rule}`) }));
    }
  };

  return html`<${Screen} title=${t('signoff_title')} back=${`#/job/${id}`}>
    <p class="lead">${t('signoff_lead')}</p>
    <${ReportSummary} form=${target.form} version=${target.version} hash=${hash}
      partName=${(pid) => (names.get(pid) ? `${names.get(pid).sku} ${partLabel(names.get(pid))}` : pid)} number=${job.doc.number}
      customer=${job.customer?.name} />
    <${Field} label=${t('signer_name')} id="signer-name">
      <input id="signer-name" autocomplete="name" maxlength="200" value=${name}
        onInput=${(e) => setName(e.target.value)} />
    <//>
    <${SignatureBox} handle=${pad} />
    ${error && html`<${Notice} kind="error">${error}<//>`}
    <${ActionButton} onClick=${confirm}>${t('confirm_signature')}<//>
  <//>`;
}
