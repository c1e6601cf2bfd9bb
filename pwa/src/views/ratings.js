// The three 1–5 ratings and a comment (on the device and on the customer link page).
import { html } from 'htm/preact';
import { t } from '../i18n.js';
import { Field, Rating } from './controls.js';

export const DIMENSIONS = ['attitude', 'efficiency', 'quality'];

export function FeedbackForm({ value, setValue }) {
  return html`${DIMENSIONS.map((d) => html`<${Rating} name=${d} label=${t(`rate_${d}`)}
      value=${value[d]} onChange=${(n) => setValue({ ...value, [d]: n })} />`)}
    <${Field} label=${t('comment')} id="comment">
      <textarea id="comment" rows="3" maxlength="2000" value=${value.comment}
        onInput=${(e) => setValue({ ...value, comment: e.target.value })}></textarea>
    <//>`;
}

