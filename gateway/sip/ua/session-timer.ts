// RFC 4028 session timers for one dialog: negotiation on either side of a session refresh request
// (INVITE, re-INVITE, UPDATE) and the schedule that follows from it. Pure: time comes from `now()`,
// and timers() says what is due when; the call layer owns the real timers and sends the messages.
// Section numbers follow RFC 4028's table of contents; text in "quotes" is the RFC's wording as quoted
// by other implementations (the RFC itself could not be fetched here); the rest is paraphrased.
// Note §5: Min-SE appears in responses only in a 422, so a 2xx never carries it.
import {
  type Refresher,
  formatSessionExpires,
  hasOptionTag,
  parseMinSE,
  parseSessionExpires,
} from '../message/extension-headers.js';
import { getHeader } from '../message/headers.js';
import type { HeaderField, SipRequest, SipResponse } from '../message/types.js';

/** RFC 4028 option tag (§3: "Supported: timer", "Require: timer"). */
export const TIMER_TAG = 'timer';
/** Default session interval we ask for / grant, seconds (RFC 4028 §4 recommends 1800). */
export const DEFAULT_SESSION_INTERVAL = 1800;
/** RFC 4028 §4/§5: the Min-SE "MUST NOT be less than 90 seconds"; also our default minimum. */
export const ABSOLUTE_MIN_SE = 90;
export const DEFAULT_MIN_SE = ABSOLUTE_MIN_SE;
/** RFC 4028 §10: the refreshee sends BYE "slightly before the session expiration"; "The minimum of 32
 *  seconds and one third of the session interval is RECOMMENDED." */
export const BYE_MARGIN_MAX_S = 32;

/** RFC 3326 Reason values for the BYE that ends a session. Our choice: protocol SIP with the status that
 *  failed the refresh (408 for a timeout), or 408 when the peer let the interval expire unrefreshed. */
export function refreshFailedReason(status: number): string {
  return `SIP ;cause=${status} ;text="Session refresh failed"`;
}
export const SESSION_EXPIRED_REASON = 'SIP ;cause=408 ;text="Session expired"';

export interface SessionTimerConfig {
  /** Interval we ask for (UAC) or the largest we grant (UAS), seconds. */
  interval: number;
  /** Our minimum; anything below gets 422 (when the peer supports timers). */
  minSE: number;
  /** Who refreshes when a request with `Supported: timer` leaves us the choice (RFC 4028 §9). */
  preferRefresher: Refresher;
  /** The smallest Min-SE anyone may use: RFC 4028's 90 s (ABSOLUTE_MIN_SE). Only tests lower it, to run
   *  sessions of a few seconds; a config file cannot (calls.sessionTimers.minSE >= 90). */
  floor?: number;
}

export const DEFAULT_SESSION_TIMER_CONFIG: Readonly<SessionTimerConfig> = {
  interval: DEFAULT_SESSION_INTERVAL,
  minSE: DEFAULT_MIN_SE,
  preferRefresher: 'uas',
};

/** What was agreed, from the point of view of the transaction that agreed it. */
export interface Negotiated {
  interval: number;
  /** The refresher as written on the wire (uac/uas of that transaction). */
  refresher: Refresher;
}

export type UasDecision =
  | { kind: 'reject'; status: 422; headers: HeaderField[] }
  | { kind: 'accept'; session?: Negotiated; headers: HeaderField[] };

export type UacOutcome =
  /** A 2xx: the session was (re)established; `session` undefined = no session timer (§7.2). */
  | { kind: 'refreshed'; session?: Negotiated }
  /** Send the request again (new CSeq) with these timer headers (422, §7.3). */
  | { kind: 'retry'; headers: HeaderField[] }
  /** Our UPDATE was not understood (405/501): refresh by re-INVITE instead. */
  | { kind: 'retry-invite' }
  /** 491: retry after the RFC 3261 §14.1 glare delay (see offer-answer.ts glareRetryDelay). */
  | { kind: 'glare' }
  /** End the session: BYE with this Reason. */
  | { kind: 'end'; reason: string }
  /** A failure that does not touch the session timer (not a refresh, or a provisional). */
  | { kind: 'none' };

export interface ScheduledAction {
  action: 'refresh' | 'bye';
  /** Absolute time, ms on the `now()` clock. */
  at: number;
  /** For 'bye': the Reason header value. */
  reason?: string;
}

function intOr(value: string | undefined, parse: (t: string) => number): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch {
    return undefined; // a malformed optional header is ignored, as if absent
  }
}

function readSE(msg: SipRequest | SipResponse): Negotiated | { interval: number; refresher?: Refresher } | undefined {
  const v = getHeader(msg, 'Session-Expires');
  if (v === undefined) return undefined;
  try {
    const se = parseSessionExpires(v);
    return se.interval > 0 ? { interval: se.interval, refresher: se.refresher } : undefined;
  } catch {
    return undefined;
  }
}

function seHeaders(n: Negotiated, requireTimer: boolean): HeaderField[] {
  const out: HeaderField[] = [{ name: 'Session-Expires', value: formatSessionExpires(n) }];
  if (requireTimer) out.push({ name: 'Require', value: TIMER_TAG });
  return out;
}

/** RFC 4028 §9 (UAS behaviour) for a received session refresh request (INVITE, re-INVITE, UPDATE).
 *  - Too small an interval: "the UAS MUST reject with 422 ... The 422 response MUST contain a Min-SE
 *    header field" (paraphrased) — only when the request shows timer support; otherwise the interval is
 *    raised to our minimum (RFC 4028 erratum 1687 applies §8.1's proxy rule to the UAS).
 *  - "The UAS MUST NOT increase the value of the Session-Expires header field" but may lower it, never
 *    below the Min-SE of the request.
 *  - The refresher of the request is kept; absent, the UAS chooses, and must choose itself (uas) when the
 *    UAC does not support timers.
 *  - Require: timer goes into the 2xx when the refresher is uac ("MUST") or the UAC supports timers
 *    ("SHOULD"); never toward a UAC that did not say it supports the extension. */
export function negotiateUas(req: SipRequest, cfg: SessionTimerConfig): UasDecision {
  const uacSupports = hasOptionTag(req, 'Supported', TIMER_TAG) || hasOptionTag(req, 'Require', TIMER_TAG);
  const absolute = cfg.floor ?? ABSOLUTE_MIN_SE;
  const reqMin = Math.max(intOr(getHeader(req, 'Min-SE'), parseMinSE) ?? absolute, absolute);
  const floor = Math.max(reqMin, cfg.minSE);
  const se = readSE(req);
  let interval: number;
  if (se !== undefined) {
    if (se.interval < cfg.minSE && uacSupports) {
      return { kind: 'reject', status: 422, headers: [{ name: 'Min-SE', value: String(Math.max(floor, cfg.minSE)) }] };
    }
    interval = se.interval < floor ? floor : Math.max(Math.min(se.interval, cfg.interval), floor);
  } else {
    interval = Math.max(cfg.interval, floor);
  }
  const refresher: Refresher = !uacSupports ? 'uas' : (se?.refresher ?? cfg.preferRefresher);
  const session = { interval, refresher };
  return { kind: 'accept', session, headers: seHeaders(session, uacSupports) };
}

/** RFC 4028 §7.2 (UAC processing a 2xx): "If the 2xx response did not contain a Session-Expires header
 *  field, there is no session expiration." With Session-Expires, "The UAC MUST set the identity of the
 *  refresher to the value of this parameter". A 2xx without `Require: timer` comes from a UAS that does
 *  not support timers (a proxy added Session-Expires, §8.2): only we can refresh, so we are the refresher
 *  whatever it says; the same for a Session-Expires without a refresher (a compliant UAS always sets it). */
export function negotiatedFromUac2xx(res: SipResponse): Negotiated | undefined {
  const se = readSE(res);
  if (se === undefined) return undefined;
  const uasSupports = hasOptionTag(res, 'Require', TIMER_TAG);
  const refresher: Refresher = uasSupports && se.refresher === 'uas' ? 'uas' : 'uac';
  return { interval: se.interval, refresher };
}

/** RFC 4028 §7.2 (UAC) and §9 (UAS): "It is RECOMMENDED that this refresh be sent once half the session
 *  interval has elapsed." §10: the side not refreshing sends BYE "slightly before the session expiration.
 *  The minimum of 32 seconds and one third of the session interval is RECOMMENDED." Milliseconds. */
export function refreshDelayMs(interval: number): number {
  return (interval * 1000) / 2;
}
export function expiryDelayMs(interval: number): number {
  return (interval - Math.min(BYE_MARGIN_MAX_S, interval / 3)) * 1000;
}

/** The session timer of one dialog, on either side. Feed it the session refresh requests and responses
 *  of the dialog (initial INVITE, re-INVITE, UPDATE); read timers() after each call. */
export class SessionTimer {
  private readonly cfg: SessionTimerConfig;
  /** Interval in force (seconds), undefined when no session timer runs. */
  private intervalValue: number | undefined;
  private weRefreshValue = false;
  private refreshedAt = 0;
  /** The largest Min-SE learned from 422s and received requests (§7.4). */
  private minSE: number;
  private inFlight: 'refresh' | 'modify' | false = false;
  private pendingUas: Negotiated | undefined | null = null;

  constructor(
    private readonly now: () => number,
    config: Partial<SessionTimerConfig> = {},
  ) {
    this.cfg = { ...DEFAULT_SESSION_TIMER_CONFIG, ...config };
    const floor = this.cfg.floor ?? ABSOLUTE_MIN_SE;
    if (!(this.cfg.minSE >= floor)) throw new RangeError(`session timer minSE must be >= ${floor}`);
    if (!(this.cfg.interval >= this.cfg.minSE)) throw new RangeError('session timer interval must be >= minSE');
    this.minSE = this.cfg.minSE;
  }

  get active(): boolean {
    return this.intervalValue !== undefined;
  }
  get interval(): number | undefined {
    return this.intervalValue;
  }
  /** True when this side sends the refreshes. */
  get weRefresh(): boolean {
    return this.active && this.weRefreshValue;
  }

  /** Headers for a session refresh request we send (§7.1, §7.4): "Supported: timer", a Session-Expires
   *  at least our Min-SE, and Min-SE. In an established timer session the refresher parameter keeps the
   *  current refresher: uac when we refresh (we are the UAC of this request), uas when the peer does. */
  requestHeaders(): HeaderField[] {
    const interval = Math.max(this.intervalValue ?? this.cfg.interval, this.minSE);
    const refresher: Refresher | undefined = this.active ? (this.weRefreshValue ? 'uac' : 'uas') : undefined;
    return [
      { name: 'Supported', value: TIMER_TAG },
      { name: 'Session-Expires', value: formatSessionExpires({ interval, refresher }) },
      { name: 'Min-SE', value: String(this.minSE) },
    ];
  }

  /** We sent an INVITE/re-INVITE/UPDATE (each is a session refresh, RFC 4028 §1). `purpose`: 'refresh'
   *  when the timer asked for it (timers() said 'refresh'), 'modify' for any other (hold, codec change,
   *  the initial INVITE). No refresh is due while it runs. */
  onRequestSent(purpose: 'refresh' | 'modify' = 'modify'): void {
    this.inFlight = purpose;
  }

  /** A final response to our request. */
  onResponse(res: SipResponse, method: string): UacOutcome {
    if (res.status < 200) return { kind: 'none' };
    const purpose = this.inFlight;
    this.inFlight = false;
    if (res.status < 300) {
      const session = negotiatedFromUac2xx(res);
      this.apply(session, 'uac');
      return { kind: 'refreshed', session };
    }
    if (res.status === 422) return this.on422(res);
    if (res.status === 491) return { kind: 'glare' };
    if (method === 'UPDATE' && (res.status === 405 || res.status === 501)) return { kind: 'retry-invite' };
    // RFC 4028 §10: "If the session refresh request transaction times out or generates a 408 or 481
    // response, then the UAC sends a BYE request" (RFC 3261 §12.2.1.2 says the same for any in-dialog
    // request). Any other failure of a timer-driven refresh also ends the session (our choice: it is not
    // refreshed and would expire anyway); a rejected modification (hold …) leaves session and timer as
    // they were (RFC 3261 §14.1).
    const fatal = res.status === 408 || res.status === 481 || purpose === 'refresh';
    return this.active && fatal ? { kind: 'end', reason: refreshFailedReason(res.status) } : { kind: 'none' };
  }

  /** Our session refresh request timed out (Timer B/F): §10, BYE. */
  onTimeout(): UacOutcome {
    this.inFlight = false;
    return this.active ? { kind: 'end', reason: refreshFailedReason(408) } : { kind: 'none' };
  }

  /** RFC 4028 §7.3: on a 422 the UAC may retry with a Session-Expires no smaller than the response's
   *  Min-SE, and later requests of the dialog carry that Min-SE (§7.4). A 422 that does not raise the
   *  minimum cannot be satisfied: no retry. */
  private on422(res: SipResponse): UacOutcome {
    const theirs = intOr(getHeader(res, 'Min-SE'), parseMinSE);
    const current = Math.max(this.intervalValue ?? this.cfg.interval, this.minSE);
    if (theirs === undefined || theirs <= current) {
      return this.active ? { kind: 'end', reason: refreshFailedReason(422) } : { kind: 'none' };
    }
    this.minSE = theirs;
    if (this.intervalValue !== undefined) this.intervalValue = Math.max(this.intervalValue, theirs);
    return { kind: 'retry', headers: this.requestHeaders() };
  }

  /** A session refresh request from the peer: the decision for our response (§9). Call onResponseSent()
   *  with the final status we send. */
  onRequest(req: SipRequest): UasDecision {
    const theirMin = intOr(getHeader(req, 'Min-SE'), parseMinSE);
    if (theirMin !== undefined) this.minSE = Math.max(this.minSE, theirMin);
    const decision = negotiateUas(req, this.cfg);
    this.pendingUas = decision.kind === 'accept' ? decision.session : null;
    return decision;
  }

  /** The final status we sent to the peer's request; a 2xx starts (or resets) the timer. */
  onResponseSent(status: number): void {
    if (status >= 200 && status < 300 && this.pendingUas !== null) this.apply(this.pendingUas, 'uas');
    if (status >= 200) this.pendingUas = null;
  }

  private apply(session: Negotiated | undefined, ourRole: Refresher): void {
    this.refreshedAt = this.now();
    this.intervalValue = session?.interval;
    this.weRefreshValue = session !== undefined && session.refresher === ourRole;
  }

  /** What is due and when. We refresh: a refresh at half the interval (while our refresh runs, only
   *  the backstop BYE at the full interval). The peer refreshes: BYE at the §10 expiry. No timer: []. */
  timers(): ScheduledAction[] {
    const interval = this.intervalValue;
    if (interval === undefined) return [];
    if (!this.weRefreshValue) {
      return [{ action: 'bye', at: this.refreshedAt + expiryDelayMs(interval), reason: SESSION_EXPIRED_REASON }];
    }
    if (this.inFlight) return [{ action: 'bye', at: this.refreshedAt + interval * 1000, reason: SESSION_EXPIRED_REASON }];
    return [{ action: 'refresh', at: this.refreshedAt + refreshDelayMs(interval) }];
  }
}
