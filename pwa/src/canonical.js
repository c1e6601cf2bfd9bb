// Canonical JSON and the report hash — the JavaScript twin of sync/canonical.py (PROTOCOL.md §5.2).
// A customer's signature is bound to reportHash(form); the server recomputes it from the stored
// report, so both sides must produce the same bytes. tests/browser/test_canonical_js.py feeds the
// same inputs to both implementations and compares. Rules:
// - no whitespace; object keys NFC-normalised and sorted by UTF-16 code units (default sort());
// - strings NFC-normalised, then escaped exactly as JSON.stringify does; lone surrogates refused;
// - numbers are integers within ±(2^53 − 1); true/false/null; arrays keep their order.
// Runs in the page, in workers and in node (no DOM use).

export const REPORT_FIELDS = Object.freeze([
  'report_id', 'job_id', 'diagnosis', 'root_cause_category', 'root_cause',
  'prevention', 'actions', 'labour_minutes', 'parts',
]);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function string(text) {
  const norm = text.normalize('NFC');
  if (LONE_SURROGATE.test(norm)) throw new RangeError('canonical JSON refuses lone surrogates');
  return JSON.stringify(norm); // ES2019 JSON.stringify escapes exactly as the spec says
}

function value(obj, out) {
  if (obj === null) out.push('null');
  else if (obj === true) out.push('true');
  else if (obj === false) out.push('false');
  else if (typeof obj === 'number') {
    if (!Number.isInteger(obj)) throw new TypeError(`canonical JSON refuses the non-integer ${obj}`);
    if (!Number.isSafeInteger(obj)) throw new RangeError(`integer ${obj} is outside the JSON-safe range`);
    out.push(String(obj === 0 ? 0 : obj)); // -0 is written as 0
  } else if (typeof obj === 'string') out.push(string(obj));
  else if (Array.isArray(obj)) {
    out.push('[');
    obj.forEach((item, i) => { if (i) out.push(','); value(item, out); });
    out.push(']');
  } else if (typeof obj === 'object' && Object.getPrototypeOf(obj) === Object.prototype) {
    object(obj, out);
  } else {
    throw new TypeError(`canonical JSON has no form for ${typeof obj}`);
  }
}

function object(obj, out) {
  const members = new Map();
  for (const [key, item] of Object.entries(obj)) {
    const norm = key.normalize('NFC');
    if (members.has(norm)) throw new RangeError(`keys collide after NFC normalisation: ${key}`);
    members.set(norm, item);
  }
  out.push('{');
  [...members.keys()].sort().forEach((key, i) => {
    if (i) out.push(',');
    out.push(string(key), ':');
    value(members.get(key), out);
  });
  out.push('}');
}

/** The canonical JSON text of `obj` (encode it as UTF-8 to hash it). */
export function canonicalJson(obj) {
  const out = [];
  value(obj, out);
  return out.join('');
}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The report form of PROTOCOL.md §5.2 from a report.submit operation (or any superset). */
export function reportForm(src) {
  return {
    report_id: String(src.report_id).toLowerCase(),
    job_id: src.job_id,
    diagnosis: src.diagnosis,
    root_cause_category: src.root_cause_category,
    root_cause: src.root_cause,
    prevention: src.prevention,
    actions: src.actions,
    labour_minutes: src.labour_minutes,
    parts: (src.parts || []).map((p) => ({ part_id: p.part_id, qty: p.qty })),
  };
}

/** Lower-case hex SHA-256 of the canonical report form; its keys must be exactly REPORT_FIELDS. */
export async function reportHash(form) {
  const keys = Object.keys(form);
  const missing = REPORT_FIELDS.filter((k) => !keys.includes(k));
  const extra = keys.filter((k) => !REPORT_FIELDS.includes(k));
  if (missing.length || extra.length) {
    throw new RangeError(`report form mismatch: missing ${missing}, unexpected ${extra}`);
  }
  return sha256Hex(new TextEncoder().encode(canonicalJson(form)));
}
