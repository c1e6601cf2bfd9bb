// A signature pad (signature_pad) that stays sharp on high-DPI screens and keeps the strokes
// when the box is resized or the phone is rotated. `handle.current` gets {isEmpty, clear, png}.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import SignaturePad from 'signature_pad';
import { t } from '../i18n.js';

export function SignatureBox({ handle }) {
  const canvas = useRef(null);
  useEffect(() => {
    const el = canvas.current;
    const pad = new SignaturePad(el, { backgroundColor: 'rgb(255,255,255)', penColor: '#0b1f33' });
    let width = 0;
    const fit = () => {
      if (!el.offsetWidth || el.offsetWidth === width) return;
      width = el.offsetWidth;
      const strokes = pad.toData(); // in CSS pixels: independent of the backing store size
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      el.width = el.offsetWidth * ratio;
      el.height = el.offsetHeight * ratio;
      el.getContext('2d').scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    };
    fit();
    const observer = new ResizeObserver(fit);
    observer.observe(el);
    handle.current = {
      isEmpty: () => pad.isEmpty(),
      clear: () => pad.clear(),
      png: () => new Promise((resolve) => el.toBlob(resolve, 'image/png')),
    };
    return () => {
      observer.disconnect();
      pad.off();
    };
  }, []);
  return html`<div class="signature">
    <p id="sig-label" class="label">${t('signature')}</p>
    <canvas ref=${canvas} role="img" aria-labelledby="sig-label" aria-describedby="sig-hint"
      tabindex="0"></canvas>
    <p id="sig-hint" class="hint">${t('signature_hint')}</p>
    <button type="button" class="btn secondary" onClick=${() => handle.current.clear()}>${t('clear_signature')}</button>
  </div>`;
}
