// Fetch with the access token and RFC 9457 problems turned into errors with a stable `code`.
// A network failure is the code "unavailable" (status 0), as PROTOCOL.md §9 suggests.
import { accessToken, refresh } from './auth.js';

const LOGIN_EXPIRED = 'login_expired';

export class Problem extends Error {
  constructor(status, body = {}, retryAfter = null) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || (status === 0 ? 'unavailable' : `http_${status}`);
    this.body = body;
    this.retryAfter = retryAfter;
  }

  /** 408, 429, 5xx and network failures are worth retrying with backoff. */
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  const after = Number(response.headers.get('retry-after'));
  return new Problem(response.status, body, Number.isFinite(after) && after > 0 ? after : null);
}

async function send(path, { method, body, contentType, token }) {
  const headers = {};
  if (contentType) headers['content-type'] = contentType;
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, body, headers, cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    throw new Problem(0, { code: 'unavailable', detail: String(err) });
  }
}

/** A token from `get`, with auth failures as Problems: offline stays retryable, a refused
 * refresh token becomes "login_expired" (log in again; nothing queued is lost). */
async function tokenOr(get) {
  try {
    return await get();
  } catch (err) {
    if (err.code === 'offline' || err.status === 0) throw new Problem(0, { code: 'unavailable' });
    if (err.status >= 500 || err.status === 429 || err.status === 408) {
      throw new Problem(err.status, { code: err.code });
    }
    throw new Problem(401, { code: LOGIN_EXPIRED, detail: 'log in again' });
  }
}

/**
 * Call the API. JSON bodies are encoded here; `raw` sends bytes as they are. With `auth` (the
 * default) an expired access token is refreshed once and the request retried (PROTOCOL.md §8).
 * Resolves with the parsed JSON (or null for 204); rejects with a Problem.
 */
export async function api(path, { method = 'POST', json, raw, contentType, auth = true } = {}) {
  const body = json !== undefined ? JSON.stringify(json) : raw;
  const type = json !== undefined ? 'application/json' : contentType;
  let token = auth ? await tokenOr(accessToken) : null;
  let response = await send(path, { method, body, contentType: type, token });
  if (auth && response.status === 401) {
    token = await tokenOr(() => refresh(token));
    response = await send(path, { method, body, contentType: type, token });
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
