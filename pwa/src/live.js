// Preact hooks that keep a screen in step with the device: IndexedDB changes (this tab and
// others) and the sync state.
import { useEffect, useState } from 'preact/hooks';
import * as db from './db.js';
import { state as syncState, subscribe } from './sync.js';

/** `load()`'s result, reloaded when one of `stores` changes (all stores when omitted). */
export function useLive(load, deps = [], stores = null) {
  const [data, setData] = useState(undefined);
  useEffect(() => {
    let alive = true;
    let timer = null;
    const run = () => load().then((d) => alive && setData(d), (e) => console.error(e));
    run();
    const off = db.onChange((changed) => {
      if (stores && !changed.some((s) => stores.includes(s))) return;
      clearTimeout(timer);
      timer = setTimeout(run, 30); // a burst of pages or acknowledgements reloads once
    });
    return () => {
      alive = false;
      clearTimeout(timer);
      off();
    };
  }, deps);
  return data;
}

export function useSync() {
  const [, tick] = useState(0);
  useEffect(() => subscribe(() => tick((n) => n + 1)), []);
  return syncState;
}
