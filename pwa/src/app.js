// The app shell: who is logged in, the first sync's progress, and which screen shows.
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import * as db from './db.js';
import { session } from './auth.js';
import * as sync from './sync.js';
import { t } from './i18n.js';
import { useLive, useSync } from './live.js';
import { useRoute } from './router.js';
import { registerServiceWorker, UpdatePrompt } from './sw-client.js';
import { Notice, useLocale } from './views/controls.js';
import { Header, Nav } from './views/ui.js';
import { Toasts } from './views/toast.js';
import { LoginView } from './views/login.js';
import { JobsView } from './views/jobs.js';
import { JobView } from './views/job.js';
import { ReportView } from './views/report.js';
import { SignoffView } from './views/signoff.js';
import { FeedbackView } from './views/feedback.js';
import { PartsView } from './views/parts.js';
import { SyncView } from './views/syncstatus.js';

let started = false;

function InitialSync({ state }) {
  return html`<main id="main" class="initial">
    <h1 tabindex="-1">${t('initial_sync_title')}</h1>
    <p>${t('initial_sync_lead')}</p>
    ${state.remaining == null
      ? html`<progress aria-label=${t('initial_sync_title')}></progress>`
      : html`<progress aria-label=${t('initial_sync_title')} value=${state.received}
          max=${state.received + state.remaining}></progress>`}
    <p role="status">${t('initial_sync_count', { n: state.received.toLocaleString() })}</p>
    ${state.error && html`<${Notice} kind="warn">${t('initial_sync_failed', { code: state.error })}<//>`}
  </main>`;
}

function Screens({ user, onLoggedOut }) {
  const route = useRoute();
  const [first, id, step] = route.parts;
  const problems = useLive(async () => (await db.results()).filter((r) => r.notable && !r.dismissed).length, [], ['results']);
  switch (first) {
    case 'job':
      if (step === 'report') return html`<${ReportView} id=${id} user=${user} />`;
      if (step === 'signoff') return html`<${SignoffView} id=${id} />`;
      if (step === 'feedback') return html`<${FeedbackView} id=${id} />`;
      return html`<${JobView} id=${id} />`;
    case 'parts':
      return html`<${PartsView} user=${user} query=${route.query} />`;
    case 'sync':
      return html`<${SyncView} user=${user} onLoggedOut=${onLoggedOut} />`;
    default:
      return html`<${JobsView} problems=${problems || 0} />`;
  }
}

function App() {
  useLocale();
  const [user, setUser] = useState(undefined);
  const [notice, setNotice] = useState(null);
  const state = useSync();
  const pending = useLive(() => db.outboxCount(), [], ['outbox']);
  const cursor = useLive(() => db.getMeta('cursor'), [], ['meta', 'docs']);
  const route = useRoute();

  useEffect(() => {
    session().then((s) => setUser(s?.user || null));
  }, []);
  useEffect(() => {
    if (!user) return;
    if (!started) {
      started = true;
      sync.start();
    } else {
      sync.resume();
    }
  }, [user]);

  const onLoggedOut = (kept) => {
    if (kept === -1) setNotice(null); // login expired: log in again, everything is kept
    else setNotice(kept > 0 ? t('logged_out_kept', { n: kept }) : null);
    setUser(null);
  };

  if (user === undefined) return null;
  if (user === null) return html`<${LoginView} onLoggedIn=${setUser} notice=${notice} /><${Toasts} />`;
  const firstSync = cursor === undefined || cursor === null;
  return html`<${Header} pending=${pending || 0} />
    <${UpdatePrompt} />
    ${firstSync && route.parts[0] !== 'sync'
      ? html`<${InitialSync} state=${state} />`
      : html`<${Screens} user=${user} onLoggedOut=${onLoggedOut} />`}
    <${Nav} active=${route.parts[0] === 'job' ? 'jobs' : route.parts[0] || 'jobs'} />
    <${Toasts} />`;
}

registerServiceWorker();
db.persist().catch(() => {});
render(html`<${App} />`, document.getElementById('app'));

// A read-only window into the sync engine for tests and support (no secrets: counters only).
globalThis.fieldsync = { state: sync.state };
