// MediaEngine backed by an external rtpengine (ng control protocol over UDP): the same contract as
// the embedded engine, so either can carry the gateway's calls.
import type { Logger } from '../../log.js';
import { LivenessWatcher, type WatchedLeg } from '../liveness.js';
import { needsOtherSide } from '../sdp/modification.js';
import {
  MediaError,
  type AnswerRequest,
  type EchoRequest,
  type InactiveListener,
  type LocalAnswerRequest,
  type MediaStats,
  type ModifiableMediaEngine,
  type OfferRequest,
  type RollbackRequest,
  type SdpResult,
} from '../types.js';
import type { DtmfEngine, DtmfSendRequest, DtmfSendResult } from '../dtmf/types.js';
import { answerCommand, deleteCommand, echoAnswerCommand, echoOfferCommand, offerCommand, playDtmfCommand } from './flags.js';
import { NgClient, type NgAddress, type NgDict } from './ng-client.js';
import { legsFromQuery } from './query.js';
import { qualityFromQuery } from './quality.js';
import type { CallQuality } from '../quality.js';
import { CallBook, originOf, type CallRecord, type SideRecord } from './sessions.js';

export interface RtpengineOptions {
  address: NgAddress;
  logger: Logger;
  /** Milliseconds to wait for each ng reply (default 2000). */
  timeoutMs?: number;
  /** media.strictSource (default true): ng `strict source` (see flags.ts sourceFlags). */
  strictSource?: boolean;
  /** media.rtpengineInjectDtmf (default false): ng `inject DTMF` on offers and answers, so SIP INFO digits
   *  can be played as RFC 4733 events (ng `play DTMF`); rtpengine then re-encodes the audio (flags.ts). */
  injectDtmf?: boolean;
  /** As the embedded engine's inactivityTimeoutMs: rtpengine's own --timeout / --silent-timeout end a
   *  call inside rtpengine without telling the gateway, so the legs are polled with ng `query`
   *  (per-tag packet counters) instead. Off when absent or 0. */
  inactivityTimeoutMs?: number;
}

function sdpOf(reply: NgDict, command: string): SdpResult {
  if (typeof reply.sdp !== 'string') throw new MediaError('bad-sdp', `rtpengine ${command}: reply without sdp`);
  return { sdp: reply.sdp };
}

class RtpengineMediaEngine implements ModifiableMediaEngine, DtmfEngine {
  private readonly book = new CallBook();
  private readonly inactive = new Set<InactiveListener>();
  private readonly liveness: LivenessWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private watched: WatchedLeg[] = [];
  private polling = false;
  /** Final figures of calls deleted lately (read by the call layer after the call ended). */
  private readonly finished = new Map<string, CallQuality>();
  /** The figures of the liveness poll's last query per call (qualityNow). */
  private readonly latest = new Map<string, CallQuality>();

  constructor(
    private readonly ng: NgClient,
    private readonly logger: Logger,
    private readonly strict: boolean,
    inactivityTimeoutMs = 0,
    /** media.rtpengineInjectDtmf: offers/answers carry inject-DTMF, sendDtmf plays DTMF. */
    private readonly injectDtmf = false,
  ) {
    if (inactivityTimeoutMs > 0) {
      const notify: InactiveListener = (callId, leg, reason) => this.inactive.forEach((l) => l(callId, leg, reason));
      this.liveness = new LivenessWatcher(inactivityTimeoutMs, () => this.watched, notify);
      const every = Math.min(1000, Math.max(100, Math.floor(inactivityTimeoutMs / 5)));
      this.poller = setInterval(() => void this.poll(), every);
      this.poller.unref?.();
    }
  }

  async offer(request: OfferRequest): Promise<SdpResult> {
    const produced = sdpOf(await this.ng.request(offerCommand(request, this.strict, this.injectDtmf)), 'offer');
    this.book.offered(request);
    return produced;
  }

  async answer(request: AnswerRequest): Promise<SdpResult> {
    const produced = sdpOf(await this.ng.request(answerCommand(request, this.strict, this.injectDtmf)), 'answer');
    this.book.answered(request, produced.sdp);
    return produced;
  }

  /** rtpengine has no local answer: the offer goes to it, and the other side's last SDP (unchanged)
   *  answers it again. */
  async answerLocally(request: LocalAnswerRequest): Promise<SdpResult> {
    const call = this.book.get(request.callId);
    const [mine, otherTag] = call ? this.sides(call, request.fromTag) : [];
    if (!call || !mine || !otherTag) throw new MediaError('unknown-call', `no established call ${request.callId} with tag ${request.fromTag}`);
    if (call.pending) throw new MediaError('bad-sdp', `call ${request.callId}: an offer is outstanding`);
    const change = needsOtherSide(mine.sdp, request.sdp);
    if (change) throw new MediaError('bad-sdp', `call ${request.callId}: this offer changes the ${change}; the other side must answer it`);
    const origin = originOf(request.sdp);
    if (origin && mine.lastAnswer?.origin === origin) return { sdp: mine.lastAnswer.sdp };
    const other = call.sides.get(otherTag)!;
    await this.offer({ callId: request.callId, fromTag: request.fromTag, sdp: request.sdp, toProfile: other.profile, ...(request.peerAddress ? { peerAddress: request.peerAddress } : {}) });
    return this.answer({ callId: request.callId, fromTag: request.fromTag, toTag: otherTag, sdp: other.sdp, ...(other.peerAddress ? { peerAddress: other.peerAddress } : {}) });
  }

  /** rtpengine applied the rejected offer already: the committed offer and answer are replayed. */
  async rollback(request: RollbackRequest): Promise<void> {
    const call = this.book.get(request.callId);
    if (!call?.pending || call.pending.fromTag !== request.fromTag || !call.committed) return;
    const { offer, answer } = call.committed;
    await this.ng.request(offerCommand(offer, this.strict, this.injectDtmf));
    await this.ng.request(answerCommand(answer, this.strict, this.injectDtmf));
    call.pending = undefined;
    this.logger.info({ callId: request.callId, fromTag: request.fromTag }, 'rtpengine: re-offer rolled back');
  }

  /** ng `play DTMF` from the other party of `toTag` (flags.ts): rtpengine writes the events in `toTag`'s
   *  payload type into the stream toward it and returns at once; resolves after their duration. Reading
   *  RFC 4733 from a leg (watchDtmf) is not offered: rtpengine reports DTMF only to its --dtmf-log-dest. */
  async sendDtmf(request: DtmfSendRequest): Promise<DtmfSendResult> {
    const call = this.book.get(request.callId);
    const [target, fromTag] = call ? this.sides(call, request.toTag) : [];
    if (!target || !fromTag) return 'unknown-call';
    if (!this.injectDtmf) return 'unsupported';
    if (!/telephone-event/i.test(target.sdp)) return 'no-telephone-event';
    await this.ng.request(playDtmfCommand(request.callId, fromTag, request.signal, request.durationMs));
    await new Promise((resolve) => setTimeout(resolve, request.durationMs));
    return 'sent';
  }

  onInactive(listener: InactiveListener): () => void {
    this.inactive.add(listener);
    return () => this.inactive.delete(listener);
  }

  private sides(call: CallRecord, tag: string): [SideRecord, string] | [] {
    const mine = call.sides.get(tag);
    const committed = call.committed;
    if (!mine || !committed) return [];
    const other = committed.offer.fromTag === tag ? committed.answer.toTag : committed.offer.fromTag;
    return [mine, other];
  }

  /** One liveness round: ng query per established call, then the watcher's check. */
  private async poll(): Promise<void> {
    if (this.polling) return; // the previous round is still waiting for rtpengine
    this.polling = true;
    try {
      this.watched = await this.queryLegs();
      this.liveness?.check(Date.now());
    } finally {
      this.polling = false;
    }
  }

  private async queryLegs(): Promise<WatchedLeg[]> {
    const legs: WatchedLeg[] = [];
    for (const callId of this.book.ids()) {
      const call = this.book.get(callId);
      if (!call?.committed) continue;
      const tags = [call.committed.offer.fromTag, call.committed.answer.toTag];
      try {
        const reply = await this.ng.request({ command: 'query', 'call-id': callId });
        legs.push(...legsFromQuery(callId, reply, tags));
        this.latest.set(callId, qualityFromQuery(reply, tags)); // qualityNow (the call record)
      } catch (err) {
        this.logger.debug({ err, callId }, 'rtpengine query failed');
      }
    }
    return legs;
  }

  async echo(request: EchoRequest): Promise<SdpResult> {
    const produced = sdpOf(await this.ng.request(echoOfferCommand(request, this.strict)), 'offer');
    try {
      return sdpOf(await this.ng.request(echoAnswerCommand(request, produced.sdp, this.strict)), 'answer');
    } catch (err) {
      await this.delete(request.callId);
      throw err;
    }
  }

  async delete(callId: string): Promise<void> {
    // rtpengine's delete reply carries no statistics (10.5): the last query before it is the call's final figures
    const known = this.book.get(callId)?.committed !== undefined;
    const final = known ? await this.quality(callId).catch(() => this.latest.get(callId)) : undefined;
    this.book.delete(callId);
    this.latest.delete(callId);
    if (final) {
      this.finished.set(callId, final);
      if (this.finished.size > 256) this.finished.delete(this.finished.keys().next().value!);
    }
    try {
      await this.ng.request(deleteCommand(callId));
    } catch (err) {
      // The contract: "Idempotent; unknown calls are ignored." rtpengine replies "Unknown call-id".
      if (err instanceof MediaError && err.code === 'unknown-call') return;
      this.logger.warn({ err, callId }, 'rtpengine delete failed');
    }
  }

  /** Per-leg figures from an ng `query` (rtpengine/quality.ts); after delete, the last ones read. */
  async quality(callId: string): Promise<CallQuality | undefined> {
    const call = this.book.get(callId);
    if (!call?.committed) return this.finished.get(callId);
    const tags = [call.committed.offer.fromTag, call.committed.answer.toTag];
    return qualityFromQuery(await this.ng.request({ command: 'query', 'call-id': callId }), tags);
  }

  /** Without a round trip: the figures of the last liveness poll (every second or so with
   *  media.inactivityTimeout on), or the final ones of a deleted call. */
  qualityNow(callId: string): CallQuality | undefined {
    return this.latest.get(callId) ?? this.finished.get(callId);
  }

  /** rtpengine keeps its counters; reading them takes an ng `query` round trip, which this
   *  synchronous call cannot make. */
  stats(_callId: string): MediaStats | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    this.liveness?.stop();
    this.ng.close();
  }
}

/** Connect to rtpengine's ng socket; rejects naming the address when it does not answer a ping. */
export async function createRtpengineMediaEngine(options: RtpengineOptions): Promise<ModifiableMediaEngine & DtmfEngine> {
  const ng = new NgClient(options.address, options.timeoutMs ?? 2000, options.logger);
  try {
    await ng.request({ command: 'ping' });
  } catch (err) {
    ng.close();
    const where = `${options.address.host}:${options.address.port}`;
    throw new Error(`rtpengine at ${where} did not answer a ping: ${(err as Error).message}`, { cause: err });
  }
  options.logger.info({ address: options.address }, 'rtpengine media engine connected');
  return new RtpengineMediaEngine(ng, options.logger, options.strictSource ?? true, options.inactivityTimeoutMs, options.injectDtmf ?? false);
}
