// Form controls and notices shared by the app and the customer link page (no storage imports).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { LOCALES, getLocale, onLocale, setLocale, t } from '../i18n.js';

/** Re-render the calling component when the language changes. */
export function useLocale() {
  const [, tick] = useState(0);
  useEffect(() => onLocale(() => tick((n) => n + 1)), []);
}

export function LanguageSwitch() {
  return html`<label class="lang">
    <span class="sr-only">${t('language')}</span>
    <select aria-label=${t('language')} translate=${false} value=${getLocale()} onChange=${(e) => setLocale(e.target.value)}>
      ${LOCALES.map((l) => html`<option value=${l.code}>${l.name}</option>`)}
    </select>
  </label>`;
}

export function Field({ label, id, hint, error, children }) {
  return html`<div class="field ${error ? 'has-error' : ''}">
    <label for=${id}>${label}</label>
    ${children}
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}

export function Rating({ name, label, value, onChange }) {
  return html`<fieldset class="rating">
    <legend>${label}</legend>
    <div class="stars">
      ${[1, 2, 3, 4, 5].map((n) => html`<label class=${n <= value ? 'on' : ''}>
        <input type="radio" name=${name} value=${n} checked=${value === n}
          aria-label=${t('rating_n', { n, label })} onChange=${() => onChange(n)} />
        <span aria-hidden="true">★</span></label>`)}
    </div>
  </fieldset>`;
}

export function Notice({ kind = 'info', children }) {
  return html`<div class="notice ${kind}" role=${kind === 'error' ? 'alert' : 'status'}>${children}</div>`;
}

/** A button that shows "saving…" while its action runs and reports failures. */
export function ActionButton({ onClick, children, kind = 'primary', disabled, label }) {
  const [busy, setBusy] = useState(false);
  const run = async (e) => {
    setBusy(true);
    try {
      await onClick(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" class="btn ${kind}" disabled=${disabled || busy}
    aria-label=${label} onClick=${run}>${busy ? t('saving') : children}</button>`;
}
