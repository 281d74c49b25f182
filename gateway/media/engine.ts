// The embedded media engine: rtpengine-style offer / answer / delete keyed by call, relaying between a
// browser leg (ICE-lite + DTLS-SRTP) and a trunk leg (plain RTP), or echoing a leg back to itself.
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { Admission, type AdmissionOptions } from './admission.js';
import { callStats, localTransport, moveCall, newSide, type MediaCall } from './call.js';
import { createDtlsCertificate, type DtlsCertificate } from './dtls/certificate.js';
import { EmbeddedDtmf, withOfferedTelephoneEvent } from './dtmf/embedded.js';
import type { DtmfEngine, DtmfSendRequest, DtmfSendResult, DtmfWatchRequest, ReceivedDtmf } from './dtmf/types.js';
import { openLeg, type LegDeps, type OpenLeg } from './legs/factory.js';
import { DEFAULT_ICE_TCP_LIMITS, type IceTcpLimits } from './legs/ice-tcp.js';
import { LivenessWatcher, type WatchedLeg } from './liveness.js';
import { PortAllocator, type PortRange } from './ports.js';
import type { CallQuality } from './quality.js';
import { CallQualityBook, type RtcpMode } from './quality-reports.js';
import { Bridge, loopBack } from './relay.js';
import { matchAnswerCodecs } from './sdp/codecs.js';
import { produceAnswer, produceOffer, produceSelfAnswer } from './sdp/convert.js';
import { parseFor, requireText } from './sdp/request.js';
import { effectiveDirection } from './sdp/direction.js';
import type { AudioDescription } from './sdp/model.js';
import { answerLocally, answerSetup, applyRemote, commitReoffer, recordAnswered, reoffer, rollbackReoffer, type LocalEnd } from './session.js';
import { SocketTracker } from './sockets.js';
import { splice } from './splice.js';
import {
  MediaError,
  type AnswerRequest,
  type EchoRequest,
  type EngineLoad,
  type InactiveListener,
  type LocalAnswerRequest,
  type MediaProfile,
  type MediaStats,
  type OfferRequest,
  type RollbackRequest,
  type SdpResult,
  type SocketCounts,
  type SpliceableMediaEngine,
  type SpliceRequest,
} from './types.js';

export interface EmbeddedMediaEngineOptions {
  /** Address the media sockets bind (e.g. 127.0.0.1). */
  bindAddress: string;
  /** Address written into SDP (c=, candidates); default bindAddress. */
  advertiseAddress?: string;
  portRange: PortRange;
  /** The first port tried (default portRange.from; a replacement media worker's is random, workers/host.ts). */
  firstPort?: number;
  logger: Logger;
  /** media.strictSource (default true): plain RTP legs take media only from the SDP's c= address or
   *  the request's peerAddress, latched by the first packet (RTP Bleed protection). */
  strictSource?: boolean;
  /** media.iceTcp (default true): browser legs also accept ICE-TCP on their port and offer a passive
   *  TCP host candidate (RFC 6544), for browsers whose network blocks UDP. */
  iceTcp?: boolean;
  /** Per-leg ICE-TCP limits (connections, frame size, time to a valid check); tests shorten them. */
  iceTcpLimits?: Partial<IceTcpLimits>;
  /** Report a leg whose peer sent no RTP and no RTCP for this long (on hold: whose RTCP stopped);
   *  see liveness.ts. Off when absent or 0. */
  inactivityTimeoutMs?: number;
  /** media.rtcp: 'relay' (default here) passes RTCP between legs; 'generate' terminates it on each leg and
   *  sends the gateway's own SR/RR there (quality-reports.ts). */
  rtcp?: RtcpMode;
  /** RFC 3550 §6.2 minimum report interval (default 5000 ms); tests only. */
  rtcpMinIntervalMs?: number;
  /** media.admission: no new call while this thread is too busy (admission.ts); `worker`: its index in load().
   *  Absent: the load is measured, no call is refused (the gateway passes media.admission, on by default). */
  admission?: AdmissionOptions;
  /** The DTLS certificate to use (media workers share main's, so one fingerprint); default: a new one. */
  certificate?: DtlsCertificate;
}

/** The embedded engine also counts the sockets it holds (tests: every way a call ends frees them), and
 *  sends and takes RFC 4733 events (dtmf/embedded.ts). */
export interface EmbeddedMediaEngine extends Required<DtmfEngine>, SpliceableMediaEngine {
  openSockets(): SocketCounts;
  quality(callId: string): Promise<CallQuality | undefined>;
  /** The same, synchronously (the call record is written in the call's 'ended' event). */
  qualityNow(callId: string): CallQuality | undefined;
  /** Each engine thread's load and admission (one entry here; one per worker thread when sharded). */
  load(): EngineLoad[];
}

export async function createEmbeddedMediaEngine(options: EmbeddedMediaEngineOptions): Promise<EmbeddedMediaEngine> {
  const certificate = options.certificate ?? (await createDtlsCertificate());
  return new Engine(options, certificate);
}

class Engine implements EmbeddedMediaEngine {
  private readonly calls = new Map<string, MediaCall>();
  /** The latest offer() / echo() in progress per call key. delete(), close() or a newer request for
   *  the key withdraw it: when its legs are open it releases them instead of installing the call. */
  private readonly pending = new Map<string, symbol>();
  private readonly ports: PortAllocator;
  private readonly address: string;
  private readonly deps: LegDeps;
  private readonly sockets = new SocketTracker();
  private readonly inactive = new Set<InactiveListener>();
  private readonly liveness: LivenessWatcher | undefined;
  /** RFC 4733 events injected toward a leg / taken from a leg (dtmf/embedded.ts). */
  private readonly dtmf: EmbeddedDtmf;
  /** RTCP per leg and the quality figures (quality-reports.ts). */
  private readonly reports: CallQualityBook;
  private readonly admission: Admission;
  private closed = false;

  constructor(
    options: EmbeddedMediaEngineOptions,
    private readonly certificate: DtlsCertificate,
  ) {
    this.ports = new PortAllocator(options.portRange, options.firstPort);
    this.address = options.advertiseAddress ?? options.bindAddress;
    this.dtmf = new EmbeddedDtmf((callId) => this.calls.get(callId), options.logger);
    this.deps = {
      ports: this.ports,
      bindAddress: options.bindAddress,
      certificate,
      logger: options.logger,
      strictSource: options.strictSource ?? true,
      iceTcp: options.iceTcp ?? true,
      iceTcpLimits: { ...DEFAULT_ICE_TCP_LIMITS, ...options.iceTcpLimits },
      sockets: this.sockets,
    };
    this.reports = new CallQualityBook(options.rtcp ?? 'relay', () => this.calls.values(), Math.random, options.rtcpMinIntervalMs);
    this.reports.start();
    this.admission = new Admission(options.admission ?? { enabled: false }, options.logger);
    if (options.inactivityTimeoutMs) {
      const report: InactiveListener = (callId, leg, reason) => this.reportInactive(callId, leg, reason);
      this.liveness = new LivenessWatcher(options.inactivityTimeoutMs, () => this.watchedLegs(), report);
      this.liveness.start();
    }
  }

  private get local(): LocalEnd {
    return { address: this.address, certificate: this.certificate };
  }

  private get logger(): Logger {
    return this.deps.logger;
  }

  async offer(request: OfferRequest): Promise<SdpResult> {
    const callId = requireText(request?.callId, 'callId');
    const fromTag = requireText(request.fromTag, 'fromTag');
    if (request.toProfile !== 'rtp' && request.toProfile !== 'webrtc') {
      throw new MediaError('bad-sdp', `toProfile must be 'rtp' or 'webrtc', got ${String(request.toProfile)}`);
    }
    const desc = parseFor(request.sdp);
    const existing = this.calls.get(callId);
    const established = existing?.state === 'answered' || existing?.pending !== undefined;
    if (established && (existing!.offerer.tag === fromTag || existing!.answerer?.tag === fromTag)) {
      const produced = reoffer(existing!, fromTag, desc, this.local, request.codecs, request.peerAddress);
      this.logger.info({ callId, fromTag }, 'media re-offer');
      return produced;
    }
    this.admission.check(callId, this.calls.has(callId)); // a new call key: MediaError 'overloaded' while too busy
    const ticket = this.claim(callId);
    await this.remove(callId); // any other offer for a known call starts its media afresh
    const logger = this.logger.child({ callId });
    const offererLeg = await this.open(desc.profile, logger, [], callId, ticket);
    const answererLeg = await this.open(request.toProfile, logger, [offererLeg], callId, ticket);
    try {
      this.settle(callId, ticket);
      return this.startOffer(callId, fromTag, desc, offererLeg, answererLeg, request);
    } catch (err) {
      await Promise.all([offererLeg.release(), answererLeg.release()]);
      throw err;
    }
  }

  private bridge(a: OpenLeg, b: OpenLeg): Bridge {
    const bridge = new Bridge(a.leg, b.leg);
    bridge.relayRtcp = this.reports.mode === 'relay';
    return bridge;
  }

  /** Start a request for `callId`, withdrawing any earlier one still in progress. */
  private claim(callId: string): symbol {
    const ticket = Symbol(callId);
    this.pending.set(callId, ticket);
    return ticket;
  }

  /** A request whose legs are open: if it was withdrawn meanwhile (delete(), close(), a newer
   *  request), throw unknown-call so the caller releases the legs at once; else it is done pending. */
  private settle(callId: string, ticket: symbol): void {
    if (this.pending.get(callId) !== ticket) {
      throw new MediaError('unknown-call', `call ${callId} was deleted or re-offered while its media was being set up`);
    }
    this.pending.delete(callId);
  }

  private startOffer(
    callId: string,
    fromTag: string,
    desc: AudioDescription,
    offererLeg: OpenLeg,
    answererLeg: OpenLeg,
    request: OfferRequest,
  ): SdpResult {
    const answerer = newSide(undefined, answererLeg, 'actpass');
    const produced = produceOffer(desc, localTransport(answerer, this.address, this.certificate), request.codecs);
    const offerer = newSide(fromTag, offererLeg, answerSetup(desc));
    applyRemote(offererLeg, desc, true, request.peerAddress, offerer.setup);
    const call: MediaCall = {
      id: callId,
      state: 'offered',
      offerer,
      offer: desc,
      answerer,
      sentCodecs: produced.codecs,
      bridge: this.bridge(offererLeg, answererLeg),
    };
    this.calls.set(callId, call);
    this.logger.debug({ callId, from: desc.profile, to: answererLeg.profile }, 'media offer');
    return { sdp: produced.sdp };
  }

  /** Open a leg; on failure, or when the request was withdrawn meanwhile, release those already
   *  opened for it. */
  private async open(profile: MediaProfile, logger: Logger, opened: OpenLeg[], callId: string, ticket: symbol): Promise<OpenLeg> {
    try {
      if (this.closed) throw new MediaError('no-ports', 'media engine is closed');
      return await openLeg(profile, this.deps, logger);
    } catch (err) {
      if (this.pending.get(callId) === ticket) this.pending.delete(callId);
      await Promise.all(opened.map((o) => o.release()));
      throw err;
    }
  }

  async answer(request: AnswerRequest): Promise<SdpResult> {
    const call = this.calls.get(requireText(request?.callId, 'callId'));
    if (!call || !call.answerer) throw new MediaError('unknown-call', `no offered call ${String(request.callId)}`);
    const offered = call.pending ?? call;
    if (offered.offerer.tag !== request.fromTag) {
      throw new MediaError('unknown-call', `call ${call.id} was offered by tag ${offered.offerer.tag}, not ${String(request.fromTag)}`);
    }
    const toTag = requireText(request.toTag, 'toTag');
    const desc = parseFor(request.sdp);
    if (desc.profile !== offered.answerer!.open.profile) {
      throw new MediaError('bad-sdp', `answer is ${desc.profile} but the offer sent was ${offered.answerer!.open.profile}`);
    }
    matchAnswerCodecs(offered.sentCodecs, desc.codecs); // no common codec: throws before anything changes
    commitReoffer(call);
    const answerer = call.answerer!;
    const kept = request.keepTelephoneEvent ? withOfferedTelephoneEvent(desc, call.sentCodecs) : desc;
    const produced = produceAnswer(call.offer, call.sentCodecs, kept, localTransport(call.offerer, this.address, this.certificate));
    applyRemote(answerer.open, desc, false, request.peerAddress);
    answerer.tag = toTag;
    call.bridge?.setPayloadMap(call.offerer.open.leg, produced.match.answerToOffer);
    recordAnswered(call, desc, produced.sdp, produced.match.codecs);
    moveCall(call, 'answered');
    this.logger.debug({ callId: call.id, codecs: produced.match.codecs.map((c) => c.name), direction: desc.direction }, 'media answer');
    return { sdp: produced.sdp };
  }

  async answerLocally(request: LocalAnswerRequest): Promise<SdpResult> {
    const call = this.calls.get(requireText(request?.callId, 'callId'));
    if (!call || !call.answerer) throw new MediaError('unknown-call', `no established call ${String(request.callId)}`);
    const produced = answerLocally(call, requireText(request.fromTag, 'fromTag'), parseFor(request.sdp), this.local, request.peerAddress);
    this.logger.info({ callId: call.id, fromTag: request.fromTag }, 'media offer answered locally');
    return produced;
  }

  async rollback(request: RollbackRequest): Promise<void> {
    const call = this.calls.get(request?.callId);
    if (call && rollbackReoffer(call, request.fromTag)) this.logger.info({ callId: call.id, fromTag: request.fromTag }, 'media re-offer rolled back');
  }

  /** Transfer: see SpliceRequest (media/splice.ts). */
  async splice(request: SpliceRequest): Promise<void> {
    const dropped = splice(this.calls, request);
    const joined = this.calls.get(request.b.callId)?.bridge;
    if (joined) joined.relayRtcp = this.reports.mode === 'relay';
    this.logger.info({ a: request.a, b: request.b }, 'media calls spliced');
    await Promise.all(dropped.map((side) => side.open.release()));
  }

  onInactive(listener: InactiveListener): () => void {
    this.inactive.add(listener);
    return () => this.inactive.delete(listener);
  }

  private reportInactive(callId: string, leg: string, reason: Parameters<InactiveListener>[2]): void {
    this.logger.info({ callId, leg, reason }, 'media inactive');
    for (const listener of this.inactive) listener(callId, leg, reason);
  }

  /** The legs liveness watches: of answered calls (both sides) and echo calls. */
  private watchedLegs(): WatchedLeg[] {
    const legs: WatchedLeg[] = [];
    for (const call of this.calls.values()) {
      if (call.state === 'offered' && !call.pending) continue;
      const onHold = [call.offerer.remote, call.answerer?.remote].some((d) => d !== undefined && effectiveDirection(d) !== 'sendrecv');
      for (const side of [call.offerer, call.answerer]) {
        if (side?.tag !== undefined) legs.push({ callId: call.id, tag: side.tag, counters: side.open.leg.counters, onHold });
      }
    }
    return legs;
  }

  sendDtmf(request: DtmfSendRequest): Promise<DtmfSendResult> {
    return this.dtmf.send(request);
  }

  watchDtmf(request: DtmfWatchRequest, listener: (dtmf: ReceivedDtmf) => void): () => void {
    return this.dtmf.watch(request, listener);
  }

  openSockets(): SocketCounts {
    return this.sockets.counts();
  }

  async echo(request: EchoRequest): Promise<SdpResult> {
    const callId = requireText(request?.callId, 'callId');
    const fromTag = requireText(request.fromTag, 'fromTag');
    const desc = parseFor(request.sdp);
    const existing = this.calls.get(callId);
    if (existing?.state === 'echo' && existing.offerer.tag === fromTag && existing.offerer.open.profile === desc.profile) {
      return this.reecho(existing, desc, request);
    }
    this.admission.check(callId, this.calls.has(callId));
    const ticket = this.claim(callId);
    await this.remove(callId);
    const open = await this.open(desc.profile, this.logger.child({ callId, echo: true }), [], callId, ticket);
    try {
      this.settle(callId, ticket);
      const side = newSide(fromTag, open, answerSetup(desc));
      const sdp = produceSelfAnswer(desc, localTransport(side, this.address, this.certificate), request.codecs);
      applyRemote(open, desc, true, request.peerAddress, side.setup);
      loopBack(open.leg, open.profile === 'webrtc' ? undefined : randomInt(1, 2 ** 32 - 1));
      this.calls.set(callId, { id: callId, state: 'echo', offerer: side, offer: desc, sentCodecs: [] });
      this.logger.info({ callId, profile: desc.profile }, 'media echo');
      return { sdp };
    } catch (err) {
      await open.release();
      throw err;
    }
  }

  /** A re-offer to an echo call: same leg, same ICE/DTLS, new answer. */
  private reecho(call: MediaCall, desc: AudioDescription, request: EchoRequest): SdpResult {
    const side = call.offerer;
    side.setup = answerSetup(desc, side.open);
    const sdp = produceSelfAnswer(desc, localTransport(side, this.address, this.certificate), request.codecs);
    applyRemote(side.open, desc, true, request.peerAddress, side.setup);
    call.offer = desc;
    moveCall(call, 'echo');
    return { sdp };
  }

  /** Frees the call's ports before resolving. An offer() or echo() for the key still opening its legs
   *  is withdrawn: it releases them as soon as they are open and rejects with unknown-call. */
  async delete(callId: string): Promise<void> {
    this.pending.delete(callId);
    await this.remove(callId);
  }

  private async remove(callId: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    this.dtmf.drop(callId);
    moveCall(call, 'deleted');
    const quality = this.reports.finish(call);
    await Promise.all([call.offerer.open.release(), call.answerer?.open.release()]);
    this.logger.info({ callId, stats: callStats(call).legs, quality: quality.legs }, 'media deleted');
  }

  /** Live figures, or the final ones of a call deleted lately (quality-reports.ts). */
  async quality(callId: string): Promise<CallQuality | undefined> {
    return this.qualityNow(callId);
  }

  qualityNow(callId: string): CallQuality | undefined {
    const call = this.calls.get(callId);
    return call ? this.reports.snapshot(call) : this.reports.finishedCall(callId);
  }

  load(): EngineLoad[] {
    return [this.admission.engineLoad(this.calls.size)];
  }

  stats(callId: string): MediaStats | undefined {
    const call = this.calls.get(callId);
    return call ? callStats(call) : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.admission.close();
    this.liveness?.stop();
    this.reports.stop();
    this.pending.clear();
    await Promise.all([...this.calls.keys()].map((id) => this.delete(id)));
  }
}
