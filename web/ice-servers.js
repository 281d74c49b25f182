// The ICE servers the gateway hands a signed-in user (GET /api/ice-servers): TURN URLs with a short-lived
// credential (the TURN REST API scheme), fetched with the user's own name and password. No DOM here.

/** GET /api/ice-servers on the host of the WebSocket endpoint (http: for ws:, https: for wss:). @param {string} wsUrl */
export function iceServersUrl(wsUrl) {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/api/ice-servers';
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** RFC 7617 §2: "Basic " base64(user-id ":" password), the text encoded as UTF-8 (§2.1). @param {string} user @param {string} password */
export function basicAuthorization(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * @typedef {{ urls: string | string[], username?: string, credential?: string }} IceServer
 * @typedef {{ ok: true, iceServers: IceServer[], ttl: number }
 *   | { ok: false, unauthorized: true }
 *   | { ok: false, unauthorized: false, error: string }} IceServersResult
 */

/** @param {unknown} body @returns {{ iceServers: IceServer[], ttl: number } | undefined} */
function validBody(body) {
  const b = /** @type {any} */ (body);
  if (!b || !Array.isArray(b.iceServers) || !b.iceServers.every((/** @type {any} */ s) => s && s.urls)) return undefined;
  return { iceServers: b.iceServers, ttl: Number.isFinite(b.ttl) && b.ttl > 0 ? b.ttl : 0 };
}

/**
 * Asks the gateway for ICE servers. Never throws: a 401 says the user or password is wrong; anything else
 * that goes wrong (network, another status, a body that is no ICE server list) is an `error`.
 * @param {string} url @param {string} user @param {string} password
 * @returns {Promise<IceServersResult>}
 */
export async function fetchIceServers(url, user, password) {
  try {
    const res = await fetch(url, {
      headers: { Authorization: basicAuthorization(user, password) },
      cache: 'no-store',
      credentials: 'omit',
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 401) return { ok: false, unauthorized: true };
    if (!res.ok) return { ok: false, unauthorized: false, error: `HTTP ${res.status}` };
    const body = validBody(await res.json());
    return body ? { ok: true, ...body } : { ok: false, unauthorized: false, error: 'not an ICE server list' };
  } catch (err) {
    return { ok: false, unauthorized: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * sip.js SessionDescriptionHandlerFactory options. The gateway is ICE-lite with a public host candidate:
 * without ICE servers host candidates suffice, so gather briefly; with TURN servers, wait long enough
 * for the relay candidates (an Allocate round trip or two, over TCP where UDP is blocked).
 * @param {IceServer[]} iceServers
 */
export function sdhOptions(iceServers) {
  return { iceGatheringTimeout: iceServers.length > 0 ? 2000 : 500, peerConnectionConfiguration: { iceServers } };
}

/** When to fetch a fresh credential: half its lifetime before it expires (ms; never sooner than 10 s). @param {number} ttl seconds */
export function refreshDelayMs(ttl) {
  return Math.max(10_000, (ttl * 1000) / 2);
}

/**
 * Fetches a fresh TURN credential half its lifetime before the current one expires, until stopped (or
 * `alive()` turns false): each new list is merged into `options` (the object sip.js reads at each new
 * session); a failed fetch keeps the current servers and tries again after as long.
 */
export class IceRefresh {
  /** @param {{ url: string, user: string, password: string, options: object, alive: () => boolean }} o */
  constructor(o) {
    this.o = o;
    this.timer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
  }

  /** @param {number} ttl seconds the current credential lives */
  start(ttl) {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      const { url, user, password, options, alive } = this.o;
      const ice = await fetchIceServers(url, user, password);
      if (!alive()) return; // signed out (or in again) meanwhile
      if (ice.ok) Object.assign(options, sdhOptions(ice.iceServers));
      else console.warn(`softphone: ICE servers not refreshed (${ice.unauthorized ? '401' : ice.error}); keeping the current ones`);
      this.start(ice.ok && ice.ttl > 0 ? ice.ttl : ttl);
    }, refreshDelayMs(ttl));
  }

  stop() {
    clearTimeout(this.timer);
  }
}
