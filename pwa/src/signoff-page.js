// The customer's sign-off page, opened from a one-time link (/signoff.html#<token>): read the
// report summary, sign, rate. Online only; the token stays in the URL fragment (never sent to
// the server in a URL) and goes in POST bodies. Used, expired or changed links get a clear
// page, not an error.
import { html, render } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { partLabel, t } from './i18n.js';
import { ActionButton, Field, LanguageSwitch, Notice, useLocale } from './views/controls.js';
import { FeedbackForm, DIMENSIONS } from './views/ratings.js';
import { SignatureBox } from './views/signature.js';
import { ReportSummary } from './views/summary.js';

const PAGES = { link_used: 'link_used', link_expired: 'link_expired', report_changed: 'link_changed', link_invalid: 'link_invalid', invalid: 'link_invalid' };

async function call(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      credentials: 'omit', cache: 'no-store',
    });
  } catch {
    return { error: 'offline' };
  }
  const data = await response.json().catch(() => ({}));
  return response.ok ? { data } : { error: data.code || `http_${response.status}`, field: data.errors?.[0]?.field };
}

async function base64Png(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function Page({ title, children }) {
  return html`<header class="top"><span class="brand">${t('app_name')}</span><${LanguageSwitch} /></header>
    <main id="main"><div class="title"><h1 tabindex="-1">${title}</h1></div>${children}</main>`;
}

function Closed({ code }) {
  const key = PAGES[code];
  if (!key) return html`<${Page} title=${t('link_title')}><${Notice} kind="error">${t(code === 'offline' ? 'link_offline' : 'link_error', { code })}<//><//>`;
  return html`<${Page} title=${t(`${key}_title`)}><p class="lead" data-code=${code}>${t(key)}</p><//>`;
}

function SignForm({ token, report }) {
  const [name, setName] = useState('');
  const [ratings, setRatings] = useState({ attitude: 0, efficiency: 0, quality: 0, comment: '' });
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const pad = useRef(null);
  if (done) return done.error ? html`<${Closed} code=${done.error} />` : html`<${Page} title=${t('link_done_title')}><p class="lead">${t('link_done')}</p><//>`;
  const partName = (id) => {
    const p = report.parts.find((x) => x.part_id === id);
    return p ? `${p.sku} ${partLabel(p)}` : id;
  };
  const send = async () => {
    setError(null);
    if (!name.trim()) return setError(t('signer_name_required'));
    if (pad.current.isEmpty()) return setError(t('signature_required'));
    if (DIMENSIONS.some((d) => !ratings[d])) return setError(t('rate_all'));
    const answer = await call('/signoff/sign', {
      token, signer_name: name.trim(), signature_png: await base64Png(await pad.current.png()), ...ratings,
    });
    if (answer.error && !PAGES[answer.error] && answer.error !== 'offline') {
      return setError(t('link_error', { code: answer.field ? `${answer.error}: ${answer.field}` : answer.error }));
    }
    if (answer.error === 'offline') return setError(t('link_offline'));
    setDone(answer.error ? { error: answer.error } : answer.data);
  };
  return html`<${Page} title=${t('link_title')}>
    <p class="lead">${t('link_lead')}</p>
    <p><span class="muted">${t('link_engineer')}: </span>${report.engineer_name}
      · <span class="muted">${t('link_site')}: </span>${report.site_name}</p>
    <${ReportSummary} form=${report} version=${report.report_version} hash=${report.report_sha256}
      partName=${partName} number=${report.job_number} customer=${report.customer_name} />
    <${Field} label=${t('signer_name')} id="signer-name">
      <input id="signer-name" autocomplete="name" maxlength="120" value=${name} onInput=${(e) => setName(e.target.value)} />
    <//>
    <${SignatureBox} handle=${pad} />
    <${FeedbackForm} value=${ratings} setValue=${setRatings} />
    ${error && html`<${Notice} kind="error">${error}<//>`}
    <${ActionButton} onClick=${send}>${t('link_sign_and_send')}<//>
  <//>`;
}

function SignoffPage() {
  useLocale();
  const token = decodeURIComponent(location.hash.replace(/^#/, ''));
  const [state, setState] = useState(null);
  useEffect(() => {
    if (!token) setState({ error: 'link_invalid' });
    else call('/signoff/view', { token }).then(setState);
  }, []);
  if (!state) return html`<${Page} title=${t('link_title')}><p>${t('loading')}</p><//>`;
  if (state.error) return html`<${Closed} code=${state.error} />`;
  return html`<${SignForm} token=${token} report=${state.data} />`;
}

render(html`<${SignoffPage} />`, document.getElementById('app'));
