// "Keep me signed in on this device": the page keeps a device token (gateway/http/device-tokens.ts), never
// the password. The token is a digest user name of its own and a secret the gateway accepts for that
// account until it expires or is revoked (Sign out here revokes it; a restart of the gateway revokes all).
import { basicAuthorization } from './ice-servers.js';

/** @typedef {{ user: string, username: string, token: string, expiresAt: number }} DeviceToken */

export const DEVICE_KEY = 'device';

/**
 * The stored device token if it is well formed and not expired (storage is input); else null.
 * @param {unknown} v @param {number} now @returns {DeviceToken | null}
 */
export function deviceToken(v, now) {
  if (typeof v !== 'object' || v === null) return null;
  const d = /** @type {Record<string, unknown>} */ (v);
  const ok = typeof d.user === 'string' && /^[A-Za-z0-9._~+-]{1,64}$/.test(d.user)
    && typeof d.username === 'string' && d.username.startsWith(`${d.user}~`) && d.username.length <= 128
    && typeof d.token === 'string' && /^[A-Za-z0-9_-]{20,128}$/.test(d.token)
    && typeof d.expiresAt === 'number' && d.expiresAt > now;
  return ok ? { user: String(d.user), username: String(d.username), token: String(d.token), expiresAt: Number(d.expiresAt) } : null;
}

/** Trades the password for a device token (once, right after a successful sign-in). @param {string} user @param {string} password
 * @returns {Promise<DeviceToken | null>} */
export async function issueDeviceToken(user, password) {
  try {
    const res = await fetch('/api/device-tokens', { method: 'POST', headers: { Authorization: basicAuthorization(user, password) }, cache: 'no-store' });
    if (res.status !== 201) return null;
    const body = await res.json();
    return deviceToken({ user, ...body }, Date.now());
  } catch {
    return null;
  }
}

/** Revokes it at the gateway (Sign out). @param {DeviceToken} d */
export async function revokeDeviceToken(d) {
  try {
    const res = await fetch('/api/device-tokens/current', { method: 'DELETE', headers: { Authorization: basicAuthorization(d.username, d.token) }, cache: 'no-store' });
    return res.status === 204;
  } catch {
    return false;
  }
}
