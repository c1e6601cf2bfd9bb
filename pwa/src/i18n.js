// Every visible string, in Simplified Chinese (the domain's first language) and English.
// The default follows the browser language; the switch is remembered on the device.
// tests/browser/test_i18n_keys.py checks that every key used in the code exists in both.
import { EN, ZH } from './strings.js';

export const LOCALES = [
  { code: 'zh-CN', name: '中文' },
  { code: 'en', name: 'English' },
];
export const CAUSES = [
  'wear', 'electrical', 'operation', 'installation', 'maintenance', 'environment', 'defect',
];
const DICTS = { 'zh-CN': ZH, en: EN };
const KEY = 'fieldsync.locale';
const bus = new EventTarget();

function initial() {
  const saved = globalThis.localStorage?.getItem(KEY);
  if (saved && DICTS[saved]) return saved;
  const langs = globalThis.navigator?.languages || [globalThis.navigator?.language || 'en'];
  return langs.some((l) => String(l).toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

let locale = initial();
if (globalThis.document) document.documentElement.lang = locale;

export const getLocale = () => locale;

export function setLocale(code) {
  if (!DICTS[code] || code === locale) return;
  locale = code;
  localStorage.setItem(KEY, code);
  document.documentElement.lang = code;
  bus.dispatchEvent(new Event('change'));
}

export function onLocale(fn) {
  bus.addEventListener('change', fn);
  return () => bus.removeEventListener('change', fn);
}

/** The string for `key` with {name} placeholders filled; the key itself when missing. */
export function t(key, params = {}) {
  const text = DICTS[locale][key] ?? EN[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

const fmt = (options) => (iso) => {
  if (!iso) return '';
  const date = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T00:00:00`) : new Date(iso);
  return new Intl.DateTimeFormat(locale, options).format(date);
};
export const fmtDate = fmt({ year: 'numeric', month: 'short', day: 'numeric' });
export const fmtTime = fmt({ hour: '2-digit', minute: '2-digit' });
export const fmtDateTime = fmt({ month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
export const fmtKm = (km) => new Intl.NumberFormat(locale, {
  style: 'unit', unit: 'kilometer', maximumFractionDigits: km < 10 ? 1 : 0,
}).format(km);
export const fmtMoney = (cents) => new Intl.NumberFormat(locale, { style: 'currency', currency: 'CNY' }).format(cents / 100);

/** A catalogue part's name in the current language (the catalogue is Chinese first). */
export const partLabel = (part) => (locale === 'en' && part.name_en ? part.name_en : part.name);
