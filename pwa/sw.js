// FieldSync service worker: the app shell, cached by version, and nothing else.
// - install: precache SHELL into a cache named by VERSION (fresh from the network);
// - activate: delete every other FieldSync cache, then take control of open pages;
// - fetch: cache-first for the shell (and "/" for page loads); everything else — /auth, /sync,
//   every API call, the customer sign-off page — goes to the network untouched. Data never lives
//   in the HTTP cache: it lives in IndexedDB (src/db.js);
// - a new version waits until the page asks it to take over ("reload to update");
// - Background Sync: ask an open page to flush its outbox (only src/db.js touches IndexedDB).
// VERSION is a hash of the shell files; tests/browser/test_shell.py fails when it is stale.
const VERSION = '401c2f145e75';
const CACHE = `fieldsync-shell-${VERSION}`;
const SHELL = [
  '/index.html',
  '/styles.css',
  '/manifest.webmanifest',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/icon-maskable-512.png',
  '/src/actions.js',
  '/src/app.js',
  '/src/auth.js',
  '/src/canonical.js',
  '/src/db.js',
  '/src/geo.js',
  '/src/http.js',
  '/src/i18n.js',
  '/src/live.js',
  '/src/model.js',
  '/src/router.js',
  '/src/strings.js',
  '/src/sw-client.js',
  '/src/sync.js',
  '/src/views/controls.js',
  '/src/views/feedback.js',
  '/src/views/job.js',
  '/src/views/jobs.js',
  '/src/views/login.js',
  '/src/views/parts.js',
  '/src/views/problems.js',
  '/src/views/ratings.js',
  '/src/views/report.js',
  '/src/views/signature.js',
  '/src/views/signoff.js',
  '/src/views/summary.js',
  '/src/views/syncstatus.js',
  '/src/views/toast.js',
  '/src/views/ui.js',
  '/node_modules/preact/dist/preact.mjs',
  '/node_modules/preact/hooks/dist/hooks.mjs',
  '/node_modules/htm/dist/htm.mjs',
  '/node_modules/htm/preact/index.mjs',
  '/node_modules/idb/build/index.js',
  '/node_modules/signature_pad/dist/signature_pad.js',
];
const PATHS = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith('fieldsync-shell-') && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = request.mode === 'navigate' && url.pathname === '/' ? '/index.html' : url.pathname;
  if (!PATHS.has(path)) return; // network only: API, sync, auth, the customer link page
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(path);
    return hit || fetch(request);
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') event.waitUntil(self.skipWaiting());
});

async function flushThroughPage() {
  const pages = await self.clients.matchAll({ type: 'window' });
  if (!pages.length) throw new Error('no open page to flush the outbox; the browser retries later');
  await new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    pages[0].postMessage({ type: 'flush' }, [channel.port2]);
    setTimeout(resolve, 60_000);
  });
}

self.addEventListener('sync', (event) => {
  if (event.tag === 'fieldsync-outbox') event.waitUntil(flushThroughPage());
});
