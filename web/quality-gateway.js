// The gateway's own figures for the current call (GET /api/me/calls: what it received on both legs, from
// its RTP count and RTCP), shown in the quality panel beside the browser's getStats figures: what the
// gateway got from this browser and what it got from the other side, so a person can tell whether lost
// audio is their connection or the far party's (the browser alone hears the loss either way: the
// gateway relays the far side's gaps). Asked every POLL_MS while the panel is open during a call, signed
// in as the user (HTTP Basic with the same credentials as /api/ice-servers: the password or the device
// token). The pure part (findCall, gatewayFigures) is unit-tested (test/unit/web/quality-gateway.test.ts).
import { basicAuthorization } from './ice-servers.js';

/** How often the open panel asks the gateway (ms). */
export const POLL_MS = 3000;
/** Loss (%) above which a side counts as losing audio, at most this for "fine" (the verdict line). */
const BAD_LOSS = 3;
const FINE_LOSS = 1;

/** @typedef {{ packets: number, lost: number | null, lossPercent: number | null, intervalLossPercent: number | null,
 *              jitterMs: number | null, mos: number | null }} Direction */
/** @typedef {{ in: Direction, out: Direction, rttMs: number | null, codec?: string }} Side */
/** @typedef {{ callId?: string, state: string, quality?: { source: string, you?: Side, far?: Side } }} MyCall */
/** @typedef {{ lossPercent: number | null, jitterMs: number | null, rttMs: number | null, mos: number | null }} SideFigures */
/** @typedef {{ you: SideFigures | null, far: SideFigures | null, lines: { you: string, far: string }, verdict: string }} GatewayFigures */

/** The entry of /api/me/calls for our sip.js session, by the Call-ID of our own leg. @param {unknown} calls @param {string} callId */
export function findCall(calls, callId) {
  if (!Array.isArray(calls) || !callId) return undefined;
  return /** @type {MyCall | undefined} */ (calls.find((c) => c && typeof c === 'object' && c.callId === callId));
}

/** @param {unknown} v */
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** What the gateway received from one party: the loss of the latest report interval (the call so far
 *  before the first one). @param {Side | undefined} s @returns {SideFigures | null} */
function sideOf(s) {
  if (!s || typeof s !== 'object' || !s.in) return null;
  const loss = num(s.in.intervalLossPercent) ?? num(s.in.lossPercent);
  return { lossPercent: loss === null ? null : Math.max(0, loss), jitterMs: num(s.in.jitterMs), rttMs: num(s.rttMs), mos: num(s.in.mos) };
}

/** @param {number | null} v @param {string} unit @param {number} digits */
const fig = (v, unit, digits) => (v === null ? '—' : `${v.toFixed(digits)}${unit}`);

/** @param {SideFigures | null} s @param {boolean} withMos */
function line(s, withMos) {
  if (!s) return 'no figures yet';
  const parts = [`loss ${fig(s.lossPercent, ' %', 1)}`, `jitter ${fig(s.jitterMs, ' ms', 0)}`];
  if (s.rttMs !== null) parts.push(`round trip ${fig(s.rttMs, ' ms', 0)}`);
  if (withMos && s.mos !== null) parts.push(`MOS ${s.mos.toFixed(1)}`);
  return parts.join(', ');
}

/** Where audio is being lost, in people's words ('' when neither side loses any to speak of).
 *  @param {SideFigures | null} you @param {SideFigures | null} far */
function verdictOf(you, far) {
  const [y, f] = [you?.lossPercent ?? null, far?.lossPercent ?? null];
  if (y === null || f === null) return '';
  if (y > BAD_LOSS && f > BAD_LOSS) return 'Audio is being lost on both sides of the call.';
  if (f > BAD_LOSS && y <= FINE_LOSS) return 'The other side’s connection is losing audio — not yours.';
  if (y > BAD_LOSS && f <= FINE_LOSS) return 'Your connection is losing audio on its way to the phone server.';
  return '';
}

/** The panel's gateway lines for a /api/me/calls entry (null: nothing known yet). @param {MyCall | undefined} call
 *  @returns {GatewayFigures | null} */
export function gatewayFigures(call) {
  const q = call?.quality;
  if (!q) return null;
  const [you, far] = [sideOf(q.you), sideOf(q.far)];
  return {
    you,
    far,
    lines: { you: `Gateway saw from you: ${line(you, false)}`, far: `From the other side: ${line(far, true)}` },
    verdict: verdictOf(you, far),
  };
}

/** /api/me/calls on the gateway that answers `iceUrl` (the /api/ice-servers URL the phone uses). @param {string} iceUrl */
export function myCallsUrl(iceUrl) {
  return new URL('/api/me/calls', iceUrl).toString();
}

/** @typedef {{ credentials(): { url: string, user: string, password: string } | undefined | null, callId(): string,
 *              active(): boolean, show(f: GatewayFigures | null): void, fetch?: typeof fetch, periodMs?: number }} GatewayQualityOptions */

/** Polls the gateway for the current call while `active()`, and hands the figures to `show` (null: none). */
export class GatewayQuality {
  /** @param {GatewayQualityOptions} o */
  constructor(o) {
    this.o = o;
    /** The Call-ID the figures shown belong to. */
    this.shownFor = '';
    this.busy = false;
    this.timer = setInterval(() => void this.poll(), o.periodMs ?? POLL_MS);
  }

  /** Asks now (the panel was just opened). Never throws. */
  async poll() {
    const callId = this.o.callId();
    if (this.shownFor && this.shownFor !== callId) this.#show(null, ''); // another call: its figures go
    const creds = this.o.credentials();
    if (this.busy || !callId || !creds || !this.o.active()) return;
    this.busy = true;
    try {
      const res = await (this.o.fetch ?? fetch)(myCallsUrl(creds.url), {
        headers: { Authorization: basicAuthorization(creds.user, creds.password) },
        cache: 'no-store',
        credentials: 'omit',
        signal: AbortSignal.timeout(POLL_MS),
      });
      // 401 (signed out meanwhile, locked): no figures, and no retry storm — the next period asks again.
      const figures = res.ok ? gatewayFigures(findCall(await res.json(), callId)) : null;
      if (this.o.callId() === callId) this.#show(figures, callId);
    } catch {
      // the gateway did not answer in time: the figures shown stay until the next answer
    } finally {
      this.busy = false;
    }
  }

  /** @param {GatewayFigures | null} f @param {string} callId */
  #show(f, callId) {
    this.shownFor = f ? callId : '';
    this.o.show(f);
  }

  stop() {
    clearInterval(this.timer);
  }
}
