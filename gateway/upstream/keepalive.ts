// Trunk keep-alive (issue 7 item 8): an OPTIONS request (RFC 3261 §11) toward a trunk every `interval`
// seconds, and the trunk's liveness derived from the outcomes — what Kamailio's dispatcher probing and
// Asterisk's qualify do. Any final response means the trunk answered (even 404/405/501: §11.2 lets a UAS
// reject OPTIONS, and a rejection is still an answer); no answer (Timer F → 408) or a transport error
// (→ 503, §8.1.3.1) is a miss, and `failures` misses in a row mark the trunk down. Failover reads the state.
import { defineMachine, StateMachine } from '../lib/state-machine.js';
import type { Logger } from '../log.js';
import { parseUri } from '../sip/message/index.js';
import type { NameAddr, SipUri } from '../sip/message/types.js';
import type { TransactionLayer } from '../sip/transaction/types.js';
import type { SipTransport, Target } from '../sip/transport/types.js';
import { buildRequest, localContact, type ViaSpec } from '../sip/ua/request.js';
import { resolveTarget } from '../sip/ua/target.js';

/** unknown: no probe has finished yet (the first one goes out one interval after start). up: the last
 *  probe was answered. down: the last `failures` probes in a row went unanswered. */
export type KeepaliveState = 'unknown' | 'up' | 'down';

export const KEEPALIVE_MACHINE = defineMachine<KeepaliveState>('trunk keep-alive', {
  unknown: ['up', 'down'],
  up: ['down'],
  down: ['up'],
});

export interface KeepaliveStatus {
  state: KeepaliveState;
  /** Seconds between probes. */
  interval: number;
  /** The last finished probe's code: the trunk's final response, or 408 (no answer) / 503 (transport
   *  error, unresolvable host, no listener) as RFC 3261 §8.1.3.1 tells the TU to treat them. */
  lastCode?: number;
  lastReason?: string;
  /** Milliseconds from sending the last answered OPTIONS to its final response. */
  rttMs?: number;
  /** Probes in a row that went unanswered (0 once one is answered). */
  failures: number;
  /** ISO time of the last state change (absent while unknown). */
  since?: string;
}

export interface KeepaliveOptions {
  /** The trunk's name, for logs. */
  name: string;
  /** The trunk's URI: the OPTIONS Request-URI and To, and where it is sent (RFC 3263, sip/ua/target). */
  uri: string;
  /** Seconds between probes. */
  intervalS: number;
  /** Consecutive misses that mark the trunk down. */
  failures: number;
  /** User part of our From (the trunk account's username, else "gateway"). */
  fromUser?: string;
  transport: Pick<SipTransport, 'localAddress'>;
  transactions: Pick<TransactionLayer, 'sendRequest'>;
  logger: Logger;
  resolve?: (uri: SipUri) => Promise<Target>;
  now?: () => number;
}

export class TrunkKeepalive {
  private readonly fsm = new StateMachine(KEEPALIVE_MACHINE, 'unknown');
  private readonly uri: SipUri;
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private cseq = 0;
  private misses = 0;
  private lastCode: number | undefined;
  private lastReason: string | undefined;
  private rttMs: number | undefined;
  private since: number | undefined;

  constructor(private readonly o: KeepaliveOptions) {
    this.uri = parseUri(o.uri);
    this.now = o.now ?? Date.now;
  }

  get state(): KeepaliveState {
    return this.fsm.state;
  }

  /** Subscribes to up/down moves (failover); returns the unsubscribe function. */
  onChange(listener: (state: KeepaliveState) => void): () => void {
    return this.fsm.onChange((c) => listener(c.to));
  }

  /** Probes every interval from now on, the first one interval from now. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** No further probe is sent and no outcome of one in flight counts; no timer is left. Idempotent. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  status(): KeepaliveStatus {
    const s: KeepaliveStatus = { state: this.fsm.state, interval: this.o.intervalS, failures: this.misses };
    if (this.lastCode !== undefined) s.lastCode = this.lastCode;
    if (this.lastReason !== undefined) s.lastReason = this.lastReason;
    if (this.rttMs !== undefined) s.rttMs = this.rttMs;
    if (this.since !== undefined) s.since = new Date(this.since).toISOString();
    return s;
  }

  /** A fixed cadence: each probe stands alone, so a trunk that stops answering is down within
   *  interval × failures + Timer F (probes overlap while Timer F is longer than the interval). */
  private schedule(): void {
    this.timer = setTimeout(() => {
      if (!this.running) return;
      this.schedule();
      void this.probe();
    }, this.o.intervalS * 1000);
  }

  private async probe(): Promise<void> {
    let target: Target;
    try {
      target = await (this.o.resolve ?? resolveTarget)(this.uri);
    } catch (err) {
      return this.missed(503, `cannot resolve: ${(err as Error).message}`);
    }
    if (!this.running) return;
    const sentBy = this.o.transport.localAddress(target.transport, target.address);
    if (!sentBy) return this.missed(503, `no ${target.transport} listener`);
    const req = this.options({ transport: target.transport, sentBy });
    const sentAt = this.now();
    try {
      this.o.transactions.sendRequest(req, target, {
        onResponse: (res) => {
          if (res.status >= 200) this.answered(res.status, res.reason, this.now() - sentAt);
        },
        // §8.1.3.1: "treated as a 408 (Request Timeout)" / "treated as a 503 (Service Unavailable)".
        onTimeout: () => this.missed(408, 'Request Timeout'),
        onTransportError: (err) => this.missed(503, `transport error: ${err.message}`),
      });
    } catch (err) {
      this.missed(503, `transport error: ${(err as Error).message}`);
    }
  }

  /** §11.1: "An OPTIONS request … is constructed using the standard rules for a SIP request as discussed
   *  in Section 8.1.1" (Max-Forwards 70, a new Call-ID and From tag, no To tag); "A Contact header field
   *  MAY be present"; "An Accept header field SHOULD be included … Typically, this is set to a format
   *  that is used to describe the media capabilities of a UA, such as SDP (application/sdp)." */
  private options(via: ViaSpec) {
    const to: NameAddr = { uri: { ...this.uri, headers: {} }, params: {} };
    const from: NameAddr = { uri: { ...localContact(via, this.o.fromUser ?? 'gateway').uri, params: {} }, params: {} };
    this.cseq += 1;
    return buildRequest({
      method: 'OPTIONS',
      uri: { ...this.uri, headers: {} },
      from,
      to,
      cseq: this.cseq,
      via,
      contact: localContact(via),
      headers: [{ name: 'Accept', value: 'application/sdp' }],
    });
  }

  private answered(code: number, reason: string, rttMs: number): void {
    if (!this.running) return;
    this.misses = 0;
    this.lastCode = code;
    this.lastReason = reason;
    this.rttMs = rttMs;
    this.move('up');
  }

  private missed(code: number, reason: string): void {
    if (!this.running) return;
    this.misses += 1;
    this.lastCode = code;
    this.lastReason = reason;
    if (this.misses >= this.o.failures) this.move('down');
  }

  private move(next: KeepaliveState): void {
    const from = this.fsm.state;
    if (from === next) return;
    this.fsm.to(next);
    this.since = this.now();
    const fields = { trunk: this.o.name, from, to: next, code: this.lastCode, reason: this.lastReason };
    this.o.logger.info(next === 'up' ? { ...fields, rttMs: this.rttMs } : { ...fields, failures: this.misses }, 'trunk keep-alive state');
  }
}
