// The customer rates attitude, efficiency and repair quality (1–5) and may comment.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { jobDetail } from '../model.js';
import { InputError, submitFeedback } from '../actions.js';
import { go } from '../router.js';
import { t } from '../i18n.js';
import { useLive } from '../live.js';
import { ActionButton, Notice } from './controls.js';
import { Screen } from './ui.js';
import { DIMENSIONS, FeedbackForm } from './ratings.js';
import { toast } from './toast.js';

export function FeedbackView({ id }) {
  const job = useLive(() => jobDetail(id), [id], ['docs', 'work']);
  const [value, setValue] = useState({ attitude: 0, efficiency: 0, quality: 0, comment: '' });
  const [error, setError] = useState(null);
  if (job === undefined) return html`<${Screen} title=${t('feedback_title')} back=${`#/job/${id}`} />`;
  if (job === null) return html`<${Screen} title=${t('job_gone_title')} back="#/jobs"><${Notice} kind="warn">${t('job_gone')}<//><//>`;
  if (job.work.feedback) {
    return html`<${Screen} title=${t('feedback_title')} back=${`#/job/${id}`}>
      <${Notice} kind="info">${t('feedback_thanks')}<//>
      <a class="btn primary" href=${`#/job/${id}`}>${t('back_to_job')}</a><//>`;
  }
  const send = async () => {
    setError(null);
    if (DIMENSIONS.some((d) => !value[d])) return setError(t('rate_all'));
    try {
      await submitFeedback(id, value);
      toast(t('saved_on_device'));
      go(`#/job/${id}`);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      setError(t('invalid_field', { field: t(`field_${err.field}`), rule: t(`rule_${err.rule}`) }));
    }
  };
  return html`<${Screen} title=${t('feedback_title')} back=${`#/job/${id}`}>
    <p class="lead">${t('feedback_lead', { number: job.doc.number })}</p>
    <form onSubmit=${(e) => e.preventDefault()}>
      <${FeedbackForm} value=${value} setValue=${setValue} />
      ${error && html`<${Notice} kind="error">${error}<//>`}
      <${ActionButton} onClick=${send}>${t('submit_feedback')}<//>
    </form>
  <//>`;
}
