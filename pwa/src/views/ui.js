// The app's frame and status pieces: header, navigation, screen title, chips.
import { html } from 'htm/preact';
import { t, fmtDateTime } from '../i18n.js';
import { useSync } from '../live.js';
import { LanguageSwitch } from './controls.js';

export function Header({ pending = 0 }) {
  const sync = useSync();
  const online = sync.online;
  return html`<a class="skip" href="#main">${t('skip_to_content')}</a>
  <header class="top">
    <a class="brand" href="#/jobs">${t('app_name')}</a>
    <a class="net ${online ? 'on' : 'off'}" href="#/sync" aria-label=${t('sync_status')}>
      <span class="dot" aria-hidden="true"></span>${online ? t('online') : t('offline')}
      ${pending > 0 && html`<span class="count" title=${t('pending_ops')}>${pending}</span>`}
    </a>
    <${LanguageSwitch} />
  </header>`;
}

export function Nav({ active }) {
  const item = (href, key, icon) => html`<a href=${href} class=${active === key ? 'active' : ''}
      aria-current=${active === key ? 'page' : undefined}>
    <span aria-hidden="true" class="icon">${icon}</span>${t(`nav_${key}`)}</a>`;
  return html`<nav class="bottom" aria-label=${t('main_navigation')}>
    ${item('#/jobs', 'jobs', '▤')}${item('#/parts', 'parts', '⚙')}${item('#/sync', 'sync', '⇅')}
  </nav>`;
}

export function Screen({ title, back, children, actions, dataTitle = false }) {
  return html`<main id="main">
    <div class="title">
      ${back && html`<a class="back" href=${back} aria-label=${t('back')}>‹</a>`}
      <h1 tabindex="-1" translate=${dataTitle ? false : undefined}>${title}</h1>
      ${actions}
    </div>
    ${children}
  </main>`;
}

export const StatusChip = ({ status, queued }) => html`<span class="chip status-${status}">
  ${t(`status_${status}`)}${queued ? html` <span class="queued">· ${t('not_sent')}</span>` : ''}</span>`;

/** The SLA clock of an open job: overdue, due soon (< 4 h) or just the due time. */
export function SlaChip({ request, status }) {
  if (!request || status === 'completed' || status === 'cancelled') return null;
  const due = request.resolution_due && Date.parse(request.resolution_due);
  if (!due) return null;
  const hours = (due - Date.now()) / 3_600_000;
  const cls = hours < 0 ? 'sla-over' : hours < 4 ? 'sla-soon' : 'sla-ok';
  const label = hours < 0
    ? t('sla_overdue', { h: Math.ceil(-hours) })
    : hours < 48 ? t('sla_due_in', { h: Math.floor(hours) }) : t('sla_due_on', { when: fmtDateTime(request.resolution_due) });
  return html`<span class="chip ${cls}" title=${t('sla_resolution_due')}>${label}</span>`;
}

