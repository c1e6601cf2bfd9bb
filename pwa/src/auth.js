// Login sessions: log in once online, keep working offline, refresh the access token when the
// network returns. Tokens live in IndexedDB (via db.js) so the app opens offline after a
// restart. Refresh tokens rotate and a reused one revokes the whole login, so refreshing is
// single-flight across tabs (Web Locks) and re-reads the stored token inside the lock.
// An expired login never discards anything: the replica, outbox and files stay.
import * as db from './db.js';

const SKEW_MS = 30_000;

export class AuthError extends Error {
  constructor(code, message, status = 0) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

async function post(path, json, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method: 'POST', headers, body: JSON.stringify(json), cache: 'no-store', credentials: 'omit',
    });
  } catch {
    throw new AuthError('offline');
  }
  const body = response.status === 204 ? null : await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new AuthError(body?.code || `http_${response.status}`, body?.detail, response.status);
  }
  return body;
}

function sessionOf(tokens) {
  return {
    user: tokens.user,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
    expired: false,
  };
}

export function session() {
  return db.getMeta('session');
}

/** Log in. Data of another user with unsent work on this device blocks it (never dropped). */
export async function login(username, password) {
  const tokens = await post('/auth/login', { username, password });
  if (tokens.user.role !== 'engineer') {
    throw new AuthError('not_engineer', 'this app is for field engineers');
  }
  const owner = await db.getMeta('owner');
  if (owner && owner.id !== tokens.user.id) {
    if (!(await db.wipeAll())) {
      await post('/auth/logout', {}, tokens.access_token).catch(() => {});
      throw new AuthError('other_owner', owner.username);
    }
  }
  await db.setMeta('owner', { id: tokens.user.id, username: tokens.user.username });
  await db.setMeta('session', sessionOf(tokens));
  await db.device();
  return tokens.user;
}

function withLock(fn) {
  return navigator.locks ? navigator.locks.request('fieldsync-auth', fn) : fn();
}

let inflight = null;

const transient = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

/**
 * A fresh access token. `stale` is the token the caller found refused or expiring: when another
 * tab has already replaced it, that newer token is used instead of rotating again. Rejects with
 * AuthError("expired") when the refresh token is refused (the user must log in again).
 */
export function refresh(stale = null) {
  inflight ??= withLock(async () => {
    const current = await session();
    if (!current || current.expired) throw new AuthError('expired');
    if (stale && current.access_token !== stale && current.expires_at - SKEW_MS > Date.now()) {
      return current.access_token;
    }
    try {
      const tokens = await post('/auth/refresh', { refresh_token: current.refresh_token });
      const next = sessionOf(tokens);
      await db.setMeta('session', next);
      return next.access_token;
    } catch (err) {
      if (err.code === 'offline' || transient(err.status)) throw err;
      await db.setMeta('session', { ...current, expired: true });
      throw new AuthError('expired');
    }
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}

/** The access token to send, refreshed first when it is about to expire. */
export async function accessToken() {
  const current = await session();
  if (!current || current.expired) throw new AuthError('expired');
  if (current.expires_at - SKEW_MS > Date.now()) return current.access_token;
  return refresh(current.access_token);
}

/**
 * Log out. With operations or files still queued and `keep` not set, nothing happens and the
 * number queued is returned so the UI can warn. With `keep`, the login ends but the queued work
 * stays on the device for the same user's next login.
 */
export async function logout({ keep = false } = {}) {
  const queued = (await db.outboxCount()) + (await db.pendingBlobHashes()).length;
  if (queued > 0 && !keep) return { blocked: queued };
  const current = await session();
  if (current && !current.expired) {
    await post('/auth/logout', {}, current.access_token).catch(() => {});
  }
  if (queued === 0) await db.wipeAll();
  else await db.setMeta('session', null);
  return { blocked: 0, kept: queued };
}
