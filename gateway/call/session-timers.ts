// RFC 4028 session timers on each leg of a Call, independently: the caller's dialog (we are the UAS of
// its INVITE) and the callee's (we are the UAC). The protocol rules are sip/ua/session-timer.ts's
// SessionTimer; this file is the B2BUA policy and the real timers:
//  - which legs ask for timers: toward trunks (and users' PBXs) by default (calls.sessionTimers.trunks),
//    toward users' devices only with calls.sessionTimers.users (sip.js does no timers) — but any peer
//    that asks (Supported/Require: timer, or a Session-Expires) is honoured, on either leg;
//  - every re-INVITE/UPDATE received on a leg is a session refresh (§9): too small an interval gets 422,
//    the 2xx carries Session-Expires, and the leg's timer restarts — whoever answers it (modify.ts);
//  - as refresher we send UPDATE without SDP when the peer allows it (RFC 4028 §7.1 prefers UPDATE), else
//    a re-INVITE repeating our last SDP unchanged (RFC 3264 §8: same o= version);
//  - a refresh that fails (408, 481, timeout …) or an interval that runs out unrefreshed ends the call:
//    BYE with a Reason (RFC 3326) on both legs (§10).
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { hasOptionTag } from '../sip/message/extension-headers.js';
import { getHeader } from '../sip/message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../sip/message/types.js';
import type { ClientTransactionHandlers, ServerTransaction } from '../sip/transaction/types.js';
import type { DialogRequestOptions } from '../sip/ua/dialog-request.js';
import type { Respond, SessionHooks } from '../sip/ua/in-dialog.js';
import { glareRetryDelay } from '../sip/ua/offer-answer.js';
import { ABSOLUTE_MIN_SE, negotiateUas, SessionTimer, TIMER_TAG, type SessionTimerConfig, type UacOutcome, type UasDecision } from '../sip/ua/session-timer.js';
import { reply } from '../sip/ua/uas.js';

export type SessionTimersConfig = GatewayConfig['calls']['sessionTimers'];

/** The pure module's settings from calls.sessionTimers. A config file cannot go below RFC 4028's 90 s;
 *  a parsed config built by a test may (a few seconds), and then the floor follows it. */
export function timerSettings(c: SessionTimersConfig): SessionTimerConfig {
  return { interval: c.interval, minSE: c.minSE, preferRefresher: c.refresher, floor: Math.min(ABSOLUTE_MIN_SE, c.minSE) };
}

/** RFC 4028 §3/§8: the request asks for session timers (the option tag, or a Session-Expires). */
export function asksForTimer(req: SipRequest): boolean {
  return hasOptionTag(req, 'Supported', TIMER_TAG) || hasOptionTag(req, 'Require', TIMER_TAG) || getHeader(req, 'Session-Expires') !== undefined;
}

/** RFC 4028 §9: an INVITE whose Session-Expires is below our Min-SE (from a UAC that supports timers)
 *  "MUST" get 422 with our Min-SE — before the call is routed. Returns those header fields, else undefined. */
export function intervalTooSmall(req: SipRequest, c: SessionTimersConfig): HeaderField[] | undefined {
  const decision = negotiateUas(req, timerSettings(c));
  return decision.kind === 'reject' ? decision.headers : undefined;
}

export const TOO_SMALL = 'Session Interval Too Small';

/** How a leg's timer reaches its peer (call/session-legs.ts SessionLeg fits). */
export interface RefreshTarget {
  usage: { sendInDialog(method: string, o: DialogRequestOptions, handlers: ClientTransactionHandlers): Promise<SipRequest> };
  /** Methods the peer's Allow named. */
  allows: readonly string[];
  /** Our last SDP to this peer. */
  localSdp: string;
  /** RFC 3261 §14.1: we generated the dialog's Call-ID (the glare retry delay depends on it). */
  ownsCallId: boolean;
}

export interface LegTimerEnv {
  log: Logger;
  /** The leg's dialog, once answered. */
  target(): RefreshTarget | undefined;
  /** The session expired or its refresh failed: end the call with BYE + this Reason on both legs. */
  expire(reason: string): void;
}

/** The session timer of one leg, with its real timer. Time is Date.now() (fake timers in unit tests). */
export class LegSessionTimer {
  private readonly st: SessionTimer;
  private due: NodeJS.Timeout | undefined;
  private closed = false;
  private noUpdate = false;

  constructor(
    settings: SessionTimerConfig,
    private readonly env: LegTimerEnv,
  ) {
    this.st = new SessionTimer(() => Date.now(), settings);
  }

  get active(): boolean {
    return this.st.active;
  }
  get weRefresh(): boolean {
    return this.st.weRefresh;
  }
  get interval(): number | undefined {
    return this.st.interval;
  }

  /** Timer header fields for a request we send on this leg (§7.1); the request is now in flight. */
  requestSent(purpose: 'refresh' | 'modify' = 'modify'): HeaderField[] {
    const headers = this.st.requestHeaders();
    this.st.onRequestSent(purpose);
    return headers;
  }

  /** A final response to a request of ours on this leg (a 2xx restarts the timer, §7.2). */
  onResponse(res: SipResponse, method: string): UacOutcome {
    const outcome = this.st.onResponse(res, method);
    if (res.status >= 200) this.schedule();
    return outcome;
  }

  /** Our request timed out (Timer B/F) or could not be sent. */
  onTimeoutOfRequest(): UacOutcome {
    return this.st.onTimeout();
  }

  /** The outcome of the session layer's own request (a modification): only 'end' matters (§10). */
  settleModify(outcome: UacOutcome): void {
    if (outcome.kind === 'end') this.expire(outcome.reason);
    else this.schedule();
  }

  /** A session refresh request from the peer (§9): the decision for our response. */
  onRequest(req: SipRequest): UasDecision {
    return this.st.onRequest(req);
  }

  /** The final status we answered the peer's request with (a 2xx restarts the timer). */
  onResponseSent(status: number): void {
    this.st.onResponseSent(status);
    if (status >= 200) this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.due);
  }

  private schedule(): void {
    clearTimeout(this.due);
    const next = this.st.timers()[0];
    if (this.closed || !next) return;
    this.due = setTimeout(() => {
      if (next.action === 'bye') return this.expire(next.reason ?? 'SIP ;cause=408');
      this.refresh();
    }, Math.max(0, next.at - Date.now()));
    this.due.unref?.();
  }

  private expire(reason: string): void {
    if (this.closed) return;
    this.env.log.info({ reason }, 'session timer: ending the call');
    this.close();
    this.env.expire(reason);
  }

  /** §7.1/§9: our refresh. RFC 3311 §5.1: UPDATE only toward a peer whose Allow names it. */
  private refresh(method?: 'UPDATE' | 'INVITE'): void {
    const target = this.env.target();
    if (this.closed || !target) return;
    const use = method ?? (target.allows.includes('UPDATE') && !this.noUpdate ? 'UPDATE' : 'INVITE');
    const headers = this.requestSent('refresh');
    const body = use === 'INVITE' ? { body: Buffer.from(target.localSdp), contentType: 'application/sdp' } : {};
    this.schedule(); // only the backstop BYE while the refresh runs
    const failed = () => this.settle(this.st.onTimeout(), use, target);
    target.usage
      .sendInDialog(use, { headers, ...body }, {
        onResponse: (res) => res.status >= 200 && this.settle(this.onResponse(res, use), use, target),
        onTimeout: failed,
        onTransportError: failed,
      })
      .catch((err: Error) => {
        this.env.log.info({ err: err.message }, 'session refresh not sent');
        failed();
      });
  }

  private settle(outcome: UacOutcome, method: 'UPDATE' | 'INVITE', target: RefreshTarget): void {
    if (this.closed) return;
    switch (outcome.kind) {
      case 'end':
        return this.expire(outcome.reason);
      case 'retry':
        return this.refresh(method);
      case 'retry-invite':
        this.noUpdate = true;
        return this.refresh('INVITE');
      case 'glare':
        clearTimeout(this.due);
        this.due = setTimeout(() => this.refresh(method), glareRetryDelay(target.ownsCallId, Math.random));
        return;
      default:
        this.env.log.debug({ interval: this.st.interval, weRefresh: this.st.weRefresh }, 'session refreshed');
        return this.schedule();
    }
  }
}

type InDialogSender = RefreshTarget['usage'];

/** RFC 4028 §7.4: every session refresh request we send in a timed dialog — a hold, a codec change —
 *  carries Supported: timer, Session-Expires and Min-SE (without, the peer's 2xx would end the session
 *  timer), and its final response is the leg's (§7.2; a 408/481 ends the call, §10). A request that
 *  already has Session-Expires (the timer's own refresh) passes unchanged. */
export function timedSender(usage: InDialogSender, leg: () => LegSessionTimer | undefined): InDialogSender {
  return {
    sendInDialog(method, o, handlers) {
      const timer = leg();
      const own = (o.headers ?? []).some((h) => h.name.toLowerCase() === 'session-expires');
      if (!timer || own || (method !== 'INVITE' && method !== 'UPDATE')) return usage.sendInDialog(method, o, handlers);
      const headers = [...(o.headers ?? []), ...timer.requestSent('modify')];
      return usage.sendInDialog(method, { ...o, headers }, {
        onResponse: (res) => {
          if (res.status >= 200) timer.settleModify(timer.onResponse(res, method));
          handlers.onResponse(res);
        },
        onTimeout: () => (timer.settleModify(timer.onTimeoutOfRequest()), handlers.onTimeout()),
        onTransportError: (err) => (timer.settleModify(timer.onTimeoutOfRequest()), handlers.onTransportError(err)),
      });
    },
  };
}

/** A server transaction whose final response gets the leg's Session-Expires (2xx) and restarts the
 *  timer: the session layer answers through it (respond or tx) without knowing about timers. */
function decorated(tx: ServerTransaction, leg: LegSessionTimer, headers: HeaderField[]): ServerTransaction {
  const respond = (res: SipResponse): void => {
    if (res.status >= 200 && res.status < 300 && getHeader(res, 'Session-Expires') === undefined) res.headers.push(...headers);
    tx.respond(res);
    if (res.status >= 200) leg.onResponseSent(res.status);
  };
  return new Proxy(tx, { get: (t, p) => (p === 'respond' ? respond : Reflect.get(t, p, t)) });
}

/** SessionHooks that see every re-INVITE/UPDATE of a leg as a session refresh (§9) before `inner` (the
 *  session layer's policy) answers it; `leg(req)` is undefined for a leg without session timers. */
export function timedHooks(leg: (req: SipRequest) => LegSessionTimer | undefined, inner: SessionHooks): SessionHooks {
  const wrap =
    (hook: SessionHooks['onReinvite']): SessionHooks['onReinvite'] =>
    (req, respond, tx, dialog) => {
      const timer = leg(req);
      if (!timer) return hook(req, respond, tx, dialog);
      const decision = timer.onRequest(req);
      if (decision.kind === 'reject') return reply(tx, 422, TOO_SMALL, { headers: decision.headers });
      const timedTx = decorated(tx, timer, decision.headers);
      const timedRespond: Respond = (status, reason, options) => reply(timedTx, status, reason, options);
      hook(req, timedRespond, timedTx, dialog);
    };
  return {
    onReinvite: wrap(inner.onReinvite.bind(inner)),
    onUpdate: wrap(inner.onUpdate.bind(inner)),
    onAck: inner.onAck?.bind(inner),
  };
}

export type TimedSide = 'caller' | 'callee';

export interface CallTimersEnv {
  log: Logger;
  /** The side's dialog once answered (Call.session: call/session-legs.ts SessionLeg). */
  target(side: TimedSide): RefreshTarget | undefined;
  /** End the call: BYE with this Reason on both legs. */
  expire(reason: string): void;
}

/** Both legs' timers of one call. The call asks it for the header fields of its initial INVITE (callee
 *  leg) and of its 2xx (caller leg), and wraps each side's SessionHooks with hooks(). */
export class CallSessionTimers {
  private readonly legs: Record<TimedSide, LegSessionTimer>;
  /** The leg runs session timers because we asked or were asked (else only a request that asks starts them). */
  private readonly enabled: Record<TimedSide, boolean> = { caller: false, callee: false };

  constructor(
    private readonly cfg: SessionTimersConfig,
    env: CallTimersEnv,
  ) {
    const settings = timerSettings(cfg);
    const leg = (side: TimedSide) => new LegSessionTimer(settings, { log: env.log, target: () => env.target(side), expire: env.expire });
    this.legs = { caller: leg('caller'), callee: leg('callee') };
  }

  leg(side: TimedSide): LegSessionTimer {
    return this.legs[side];
  }

  /** Header fields for our 2xx to the caller's INVITE (§9: Session-Expires, Require: timer); the caller
   *  leg's timer starts. `network`: the caller is a trunk or PBX (`trunks`), else a user (`users`). */
  answerHeaders(invite: SipRequest, network: boolean): HeaderField[] {
    if (!asksForTimer(invite) && !(network ? this.cfg.trunks : this.cfg.users)) return [];
    this.enabled.caller = true;
    const decision = this.legs.caller.onRequest(invite);
    if (decision.kind === 'reject') return []; // answered 422 before routing (intervalTooSmall)
    this.legs.caller.onResponseSent(200);
    return decision.headers;
  }

  /** Header fields for the callee leg's INVITE (§7.1): `network` = toward a trunk or a user's PBX. */
  inviteHeaders(network: boolean): HeaderField[] {
    if (!(network ? this.cfg.trunks : this.cfg.users)) return [];
    this.enabled.callee = true;
    return this.legs.callee.requestSent('modify');
  }

  /** §7.3: a 422 to the callee leg's INVITE → the Session-Expires and Min-SE to send it again with
   *  (replacing the first ones), or undefined when it cannot be satisfied. */
  readonly retryHeaders = (res: SipResponse): HeaderField[] | undefined => {
    const outcome = this.legs.callee.onResponse(res, 'INVITE');
    if (outcome.kind !== 'retry') return undefined;
    return this.legs.callee.requestSent('modify').filter((h) => h.name !== 'Supported');
  };

  /** §7.2: the callee's 2xx to our INVITE decides the callee leg's interval and refresher. */
  answered(res: SipResponse): void {
    this.legs.callee.onResponse(res, 'INVITE');
    if (this.legs.callee.active) this.enabled.callee = true;
  }

  /** `side`'s session hooks with every re-INVITE/UPDATE seen as a refresh by that leg's timer. */
  hooks(side: TimedSide, inner: SessionHooks): SessionHooks {
    return timedHooks((req) => (this.enabled[side] || this.legs[side].active || asksForTimer(req) ? this.legs[side] : undefined), inner);
  }

  /** The call was answered (Call.establish): the session layer's own re-INVITEs and UPDATEs on each leg
   *  go through timedSender, so they carry the leg's timer headers and their 2xx restart its timer. */
  attach(session: Record<TimedSide, { usage: InDialogSender }>): void {
    for (const side of ['caller', 'callee'] as const) {
      const leg = session[side];
      leg.usage = timedSender(leg.usage, () => (this.enabled[side] || this.legs[side].active ? this.legs[side] : undefined));
    }
  }

  close(): void {
    this.legs.caller.close();
    this.legs.callee.close();
  }
}
