// Hash routes (#/jobs, #/job/<id>/report, …): work offline and from the service worker's
// cached index.html without any server routing.
import { useEffect, useState } from 'preact/hooks';

export function parse(hash = location.hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query) };
}

export function go(path) {
  location.hash = path;
}

export function useRoute() {
  const [route, setRoute] = useState(parse());
  useEffect(() => {
    const on = () => {
      setRoute(parse());
      // move focus to the new screen's heading, for keyboard and screen-reader users
      requestAnimationFrame(() => document.querySelector('main h1')?.focus());
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
