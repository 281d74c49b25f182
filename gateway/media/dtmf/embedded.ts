// DTMF in the embedded engine: a player per (call, leg) that injects RFC 4733 events into the relay's
// stream toward that leg (Bridge.output), and a receiver per (call, leg) tapping the relay's input from
// that leg (Bridge.tap). Payload types are each leg's own (Side.codecs holds every side's codecs in its
// own numbering), so a telephone-event renumbered between the legs (101 ⇄ 96) is sent and read right.
import type { Logger } from 'pino';
import type { MediaCall, Side } from '../call.js';
import type { Codec } from '../sdp/model.js';
import { DtmfReceiver, type ReceivedDtmf } from './receiver.js';
import { eventOf } from './rfc4733.js';
import { DtmfPlayer } from './sender.js';
import type { DtmfSendRequest, DtmfSendResult, DtmfWatchRequest } from './types.js';

const isTelephoneEvent = (name: string) => name.toLowerCase() === 'telephone-event';

/** The telephone-event this side negotiated (RFC 4733 §2.1: at the clock rate of its audio codec). */
export function telephoneEventOf(side: Side | undefined): { pt: number; rate: number } | undefined {
  const codecs = side?.codecs ?? [];
  const rates = new Set(codecs.filter((c) => !isTelephoneEvent(c.name) && c.name.toLowerCase() !== 'cn').map((c) => c.rate));
  const te = codecs.find((c) => isTelephoneEvent(c.name) && rates.has(c.rate));
  return te ? { pt: te.pt, rate: te.rate } : undefined;
}

function sideOf(call: MediaCall, tag: string): Side | undefined {
  if (call.offerer.tag === tag) return call.offerer;
  if (call.answerer?.tag === tag) return call.answerer;
  return undefined;
}

export class EmbeddedDtmf {
  /** callId → tag → what plays toward / listens to that leg. */
  private readonly players = new Map<string, Map<string, DtmfPlayer>>();
  private readonly receivers = new Map<string, Map<string, DtmfReceiver>>();

  constructor(
    private readonly lookup: (callId: string) => MediaCall | undefined,
    private readonly logger: Logger,
  ) {}

  async send(req: DtmfSendRequest): Promise<DtmfSendResult> {
    const call = this.lookup(req.callId);
    const side = call && call.state !== 'deleted' ? sideOf(call, req.toTag) : undefined;
    const stream = side && call!.bridge?.output(side.open.leg);
    const event = eventOf(req.signal);
    if (!side || !stream || event === undefined) return 'unknown-call';
    if (!telephoneEventOf(side)) return 'no-telephone-event';
    const byTag = this.players.get(req.callId) ?? new Map<string, DtmfPlayer>();
    this.players.set(req.callId, byTag);
    let player = byTag.get(req.toTag);
    if (!player) byTag.set(req.toTag, (player = new DtmfPlayer({ stream, format: () => telephoneEventOf(side) })));
    this.logger.info({ callId: req.callId, toTag: req.toTag, signal: req.signal, durationMs: req.durationMs, ...telephoneEventOf(side) }, 'RFC 4733 event injected');
    const sent = await player.play({ event, durationMs: req.durationMs, volume: req.volume });
    return sent ? 'sent' : telephoneEventOf(side) ? 'unknown-call' : 'no-telephone-event';
  }

  watch(req: DtmfWatchRequest, listener: (dtmf: ReceivedDtmf) => void): () => void {
    const call = this.lookup(req.callId);
    const side = call ? sideOf(call, req.fromTag) : undefined;
    const bridge = call?.bridge;
    if (!side || !bridge) return () => undefined;
    const receiver = new DtmfReceiver(() => telephoneEventOf(side), (dtmf) => {
      this.logger.info({ callId: req.callId, fromTag: req.fromTag, signal: dtmf.signal, durationMs: dtmf.durationMs, endSeen: dtmf.endSeen }, 'RFC 4733 event received');
      listener(dtmf);
    });
    const byTag = this.receivers.get(req.callId) ?? new Map<string, DtmfReceiver>();
    this.receivers.set(req.callId, byTag);
    byTag.get(req.fromTag)?.close();
    byTag.set(req.fromTag, receiver);
    const leg = side.open.leg;
    bridge.tap(leg, (packet) => receiver.receive(packet));
    return () => {
      if (byTag.get(req.fromTag) !== receiver) return;
      bridge.tap(leg, undefined);
      receiver.close();
      byTag.delete(req.fromTag);
    };
  }

  /** The call is gone: players stop, receivers forget. */
  drop(callId: string): void {
    for (const p of this.players.get(callId)?.values() ?? []) p.close();
    for (const r of this.receivers.get(callId)?.values() ?? []) r.close();
    this.players.delete(callId);
    this.receivers.delete(callId);
  }
}

/** The answer `desc` as the offerer's answer should list it when the gateway takes the offerer's events
 *  itself (AnswerRequest.keepTelephoneEvent): with the telephone-event we offered (offer numbering) when
 *  the answerer has none. Only the answer to the offerer changes; the answerer's side keeps its codecs. */
export function withOfferedTelephoneEvent<T extends { codecs: Codec[] }>(desc: T, sentCodecs: readonly Codec[]): T {
  if (desc.codecs.some((c) => isTelephoneEvent(c.name))) return desc;
  const rates = new Set(desc.codecs.map((c) => c.rate));
  const te = sentCodecs.find((c) => isTelephoneEvent(c.name) && rates.has(c.rate));
  return te ? { ...desc, codecs: [...desc.codecs, te] } : desc;
}
