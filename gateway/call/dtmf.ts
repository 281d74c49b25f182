// DTMF across the call (policy; the protocol is in sip/ua/info.ts and media/dtmf/): a digit arrives as a
// SIP INFO from either leg, or as RFC 4733 events in either leg's RTP (relayed unchanged by the engine, as
// always). Where it goes depends on the OTHER leg:
//   - it negotiated telephone-event            → RFC 4733 events injected into its RTP stream (the engine
//                                                  uses that leg's payload type: 101 ⇄ 96 renumbering is
//                                                  handled), whatever the digit came as;
//   - it did not, and takes INFO (trunks[].dtmf: 'info') → SIP INFO application/dtmf-relay; RFC 4733 events
//                                                  from the first leg are then taken out of the relay and
//                                                  each one becomes one INFO when it ends (its duration);
//   - neither                                   → nothing can carry it (logged; events relay as before).
import type { Logger } from '../log.js';
import { hasDtmf, type ReceivedDtmf } from '../media/dtmf/types.js';
import { parseAudioSdp } from '../media/sdp/model.js';
import type { SipResponse } from '../sip/message/types.js';
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import { DTMF_RELAY, serializeDtmfRelay, type DtmfDigit } from '../sip/ua/info.js';
import type { Call, CallSide } from './call.js';
import type { CallSession, SessionLeg } from './session-legs.js';

/** trunks[].dtmf: how DTMF reaches a leg that negotiated no telephone-event. */
export type DtmfMode = 'rfc4733' | 'info';

export type DtmfRoute = 'rfc4733' | 'info' | 'none';

const other = (side: CallSide): CallSide => (side === 'caller' ? 'callee' : 'caller');

function hasTelephoneEvent(sdp: string): boolean {
  try {
    return parseAudioSdp(sdp).codecs.some((c) => c.name.toLowerCase() === 'telephone-event');
  } catch {
    return false;
  }
}

/** RFC 4733 §7.1.1 / RFC 3264: a leg negotiated telephone-event when its SDP and ours to it both list it. */
export function negotiatedTelephoneEvent(leg: Pick<SessionLeg, 'remoteSdp' | 'localSdp'>): boolean {
  return hasTelephoneEvent(leg.remoteSdp) && hasTelephoneEvent(leg.localSdp);
}

/** How a digit reaches a leg (see the head of this file). Pure. */
export function dtmfRoute(target: { telephoneEvent: boolean; mode: DtmfMode }): DtmfRoute {
  if (target.telephoneEvent) return 'rfc4733';
  return target.mode === 'info' ? 'info' : 'none';
}

export class CallDtmf {
  /** Each side's trunks[].dtmf (a side that is no trunk: rfc4733). Set by whoever knows the trunk. */
  readonly modes: Partial<Record<CallSide, DtmfMode>> = {};
  private readonly unwatch: Array<() => void> = [];
  /** INFOs toward a side go one after the other (each waits for the previous one's final response). */
  private readonly infoChain: Record<CallSide, Promise<void>> = { caller: Promise.resolve(), callee: Promise.resolve() };
  private closed = false;

  constructor(private readonly call: Call) {}

  private get log(): Logger {
    return this.call.log;
  }

  /** The session hook of `side`: its DTMF INFOs. */
  hooks(side: CallSide): Pick<SessionHooks, 'onDtmfInfo'> {
    return { onDtmfInfo: (digit) => this.fromInfo(side, digit) };
  }

  routeTo(session: CallSession, side: CallSide): DtmfRoute {
    return dtmfRoute({ telephoneEvent: negotiatedTelephoneEvent(session[side]), mode: this.modes[side] ?? 'rfc4733' });
  }

  /** A DTMF INFO from `from` (already answered 200). */
  fromInfo(from: CallSide, digit: DtmfDigit): void {
    const session = this.call.session;
    if (!session || this.closed) return this.log.info({ from, signal: digit.signal }, 'DTMF INFO before the call is answered: not relayed');
    const to = other(from);
    const route = this.routeTo(session, to);
    this.log.info({ from, to, signal: digit.signal, durationMs: digit.durationMs, route }, 'DTMF INFO received');
    if (route === 'info') return this.sendInfo(to, digit);
    if (route === 'none') return;
    const engine = this.call.ctx.media;
    if (!hasDtmf(engine)) return this.log.warn({ to }, 'media engine cannot send RFC 4733 events: DTMF INFO dropped');
    engine
      .sendDtmf({ callId: session.media.key, toTag: session[to].tag, signal: digit.signal, durationMs: digit.durationMs })
      .then((result) => result !== 'sent' && this.log.info({ to, result }, 'RFC 4733 event not sent'))
      .catch((err: Error) => this.log.warn({ err: err.message, to }, 'RFC 4733 event failed'));
  }

  /** The call was answered: RFC 4733 events from a side whose other side takes INFO are converted. */
  attach(session: CallSession): void {
    const engine = this.call.ctx.media;
    for (const from of ['caller', 'callee'] as const) {
      const to = other(from);
      if (this.routeTo(session, to) !== 'info' || !negotiatedTelephoneEvent(session[from])) continue;
      if (!hasDtmf(engine) || !engine.watchDtmf) {
        this.log.warn({ from, to }, 'media engine cannot read RFC 4733 events: no conversion to INFO');
        continue;
      }
      this.log.info({ from, to }, 'RFC 4733 events converted to SIP INFO');
      this.unwatch.push(engine.watchDtmf({ callId: session.media.key, fromTag: session[from].tag }, (d) => this.fromEvents(to, d)));
    }
  }

  /** A transfer put a new party on `side` (Call.handOver): its mode is the new party's (a trunk's
   *  trunks[].dtmf, else rfc4733), and the RFC 4733 → INFO conversions are worked out again for the joined
   *  legs — the engine's splice made a new relay, the old taps are gone. */
  rejoin(session: CallSession, side: CallSide, mode: DtmfMode | undefined): void {
    if (this.closed) return;
    if (mode) this.modes[side] = mode;
    else delete this.modes[side];
    for (const stop of this.unwatch.splice(0)) stop();
    this.attach(session);
  }

  private fromEvents(to: CallSide, d: ReceivedDtmf): void {
    this.sendInfo(to, { signal: d.signal, durationMs: d.durationMs });
  }

  /** INFO application/dtmf-relay toward `to`, after the previous one's final response. */
  private sendInfo(to: CallSide, digit: DtmfDigit): void {
    const body = Buffer.from(serializeDtmfRelay(digit));
    this.infoChain[to] = this.infoChain[to].then(() => this.sendOneInfo(to, body, digit.signal));
  }

  private sendOneInfo(to: CallSide, body: Buffer, signal: string): Promise<void> {
    const leg = this.call.session?.[to];
    if (!leg || this.closed || this.call.ended) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (status: number) => {
        if (status >= 300) this.log.info({ to, signal, status }, 'DTMF INFO refused');
        resolve();
      };
      leg.usage
        .sendInDialog('INFO', { body, contentType: DTMF_RELAY }, {
          onResponse: (res: SipResponse) => res.status >= 200 && done(res.status),
          onTimeout: () => done(408),
          onTransportError: () => done(503),
        })
        .then(() => this.log.info({ to, signal }, 'DTMF INFO sent'))
        .catch((err: Error) => (this.log.info({ err: err.message, to }, 'DTMF INFO not sent'), resolve()));
    });
  }

  /** Idempotent: conversions stop. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.unwatch.splice(0)) stop();
  }
}
