// Log in (online, once). Afterwards the app opens offline from the stored session.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { login } from '../auth.js';
import { t } from '../i18n.js';
import { Field, LanguageSwitch, Notice } from './controls.js';

const MESSAGES = {
  offline: 'login_offline',
  invalid_credentials: 'login_invalid',
  unauthorized: 'login_invalid',
  rate_limited: 'login_rate_limited',
  not_engineer: 'login_not_engineer',
  other_owner: 'login_other_owner',
};

export function LoginView({ onLoggedIn, notice }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await login(username.trim(), password));
    } catch (err) {
      setError(t(MESSAGES[err.code] || 'login_failed', { user: err.message }));
    } finally {
      setBusy(false);
    }
  };

  return html`<main id="main" class="login">
    <div class="login-top"><${LanguageSwitch} /></div>
    <img src="/icons/icon.svg" alt="" width="72" height="72" />
    <h1 tabindex="-1">${t('app_name')}</h1>
    <p class="lead">${t('login_lead')}</p>
    ${notice && html`<${Notice} kind="warn">${notice}<//>`}
    <form onSubmit=${submit} novalidate>
      <${Field} label=${t('username')} id="username">
        <input id="username" name="username" autocomplete="username" autocapitalize="none"
          required value=${username} onInput=${(e) => setUsername(e.target.value)} />
      <//>
      <${Field} label=${t('password')} id="password">
        <input id="password" name="password" type="password" autocomplete="current-password"
          required value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <//>
      ${error && html`<${Notice} kind="error">${error}<//>`}
      <button class="btn primary wide" type="submit" disabled=${busy || !username || !password}>
        ${busy ? t('logging_in') : t('log_in')}</button>
    </form>
  </main>`;
}
