// A short confirmation ("saved on this device"), announced politely to screen readers.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

const bus = new EventTarget();

export function toast(message) {
  bus.dispatchEvent(new CustomEvent('toast', { detail: message }));
}

export function Toasts() {
  const [message, setMessage] = useState(null);
  useEffect(() => {
    let timer = null;
    const on = (e) => {
      setMessage(e.detail);
      clearTimeout(timer);
      timer = setTimeout(() => setMessage(null), 4000);
    };
    bus.addEventListener('toast', on);
    return () => bus.removeEventListener('toast', on);
  }, []);
  return html`<div class="toast" role="status" aria-live="polite">${message}</div>`;
}
