// Registering the service worker, and the "reload to update" prompt: a new version installs in
// the background and waits; it takes over only when the user chooses, never mid-session.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n.js';

const bus = new EventTarget();
let waiting = null;
let reloading = false;

function offer(worker) {
  waiting = worker;
  bus.dispatchEvent(new Event('update'));
}

export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  const watch = (worker) => worker?.addEventListener('statechange', () => {
    if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
  });
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  watch(reg.installing);
  reg.addEventListener('updatefound', () => watch(reg.installing));
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload(); // only after the user asked for the update
  });
  setInterval(() => reg.update().catch(() => {}), 30 * 60_000);
}

export function UpdatePrompt() {
  const [ready, setReady] = useState(Boolean(waiting));
  useEffect(() => {
    const on = () => setReady(true);
    bus.addEventListener('update', on);
    return () => bus.removeEventListener('update', on);
  }, []);
  if (!ready) return null;
  const update = () => {
    reloading = true;
    waiting.postMessage({ type: 'skip-waiting' });
  };
  return html`<div class="update" role="status">
    <span>${t('update_ready')}</span>
    <button type="button" class="btn primary" onClick=${update}>${t('reload_to_update')}</button>
    <button type="button" class="btn secondary" onClick=${() => setReady(false)}>${t('later')}</button>
  </div>`;
}
