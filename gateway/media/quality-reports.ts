// The embedded engine's RTCP per leg (media.rtcp) and its quality figures per call.
//  - 'generate': the gateway terminates RTCP on every leg. Each leg's monitor (rtcp/monitor.ts) builds
//    the gateway's own SR/RR + SDES toward that leg's peer on the RFC 3550 §6.2 schedule (rtcpInterval),
//    describing what the gateway sent to and received from that peer; the peers' RTCP is read, not relayed.
//  - 'relay': RTCP passes from leg to leg as it came (the relay's behaviour before); it is still read for
//    the figures and the round trip, and the report intervals still close on the same schedule.
// The figures of a call that ended stay readable for a while (the call layer writes its record after).
import type { MediaCall, Side } from './call.js';
import { mediaClock } from './legs/leg.js';
import type { RtcpMonitor } from './rtcp/monitor.js';
import type { CallQuality } from './quality.js';
import type { Codec } from './sdp/model.js';

export type RtcpMode = 'relay' | 'generate';

/** RFC 3550 §6.2: "the recommended minimum fixed interval is 5 seconds"; §6.2: "it is also RECOMMENDED
 *  that ... the delay before sending the first compound RTCP packet be set to half the minimum". */
export const RTCP_MIN_INTERVAL_MS = 5000;
/** Ended calls whose figures are kept for the call layer (call record) to read. */
const FINISHED_KEPT = 256;

/** RFC 3550 §6.3.1 / A.7 for the two members of a call leg: the deterministic interval is the 5 s minimum
 *  (a G.711 call's 5 % RTCP share, 400 bytes/s, would allow one ~100-byte packet per member every 0.5 s),
 *  halved for the first report, then "uniformly distributed between 0.5 and 1.5 times" it so that peers do
 *  not synchronise. No reconsideration (the membership is fixed), hence no e−3/2 compensation either. */
export function rtcpInterval(initial: boolean, random: () => number, minMs = RTCP_MIN_INTERVAL_MS): number {
  const td = initial ? minMs / 2 : minMs;
  return td * (0.5 + random());
}

export class CallQualityBook {
  private timer: NodeJS.Timeout | undefined;
  private readonly synced = new WeakMap<RtcpMonitor, Codec[]>();
  private readonly finished = new Map<string, CallQuality>();

  constructor(
    readonly mode: RtcpMode,
    private readonly calls: () => Iterable<MediaCall>,
    private readonly random: () => number = Math.random,
    private readonly minIntervalMs = RTCP_MIN_INTERVAL_MS,
  ) {}

  start(tickMs = 200): void {
    this.timer ??= setInterval(() => this.tick(mediaClock()), tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: every leg whose report is due gets it (generate) or closes its interval (relay). Only
   *  sessions that were answered (or echo): an offer not answered yet may be one of several forks, and the
   *  offerer would get reports from each. */
  tick(now: number): void {
    for (const call of this.calls()) {
      if (call.state === 'offered' && !call.pending) continue;
      for (const side of sidesOf(call)) {
        const monitor = side.open.leg.rtcp;
        if (!monitor) continue;
        this.syncCodecs(side, monitor);
        if (monitor.nextReportAt === undefined) {
          monitor.nextReportAt = now + rtcpInterval(true, this.random, this.minIntervalMs);
          continue;
        }
        if (now < monitor.nextReportAt) continue;
        monitor.nextReportAt = now + rtcpInterval(false, this.random, this.minIntervalMs);
        if (this.mode === 'generate') side.open.leg.sendRtcp(monitor.report(now, performance.timeOrigin + now));
        else monitor.closeInterval(now);
      }
    }
  }

  /** The codecs a side negotiated (in its payload type numbers) tell its monitor the clock rates. */
  private syncCodecs(side: Side, monitor: RtcpMonitor): void {
    if (side.codecs && this.synced.get(monitor) !== side.codecs) {
      this.synced.set(monitor, side.codecs);
      monitor.setCodecs(side.codecs);
    }
  }

  /** The figures of a call now, per leg facing a known tag. */
  snapshot(call: MediaCall): CallQuality {
    const legs = [];
    for (const side of sidesOf(call)) {
      const monitor = side.open.leg.rtcp;
      if (!monitor || side.tag === undefined) continue;
      this.syncCodecs(side, monitor);
      legs.push(monitor.snapshot(side.tag));
    }
    return { source: 'embedded', legs };
  }

  /** A call is being deleted: its last figures are kept for a while. */
  finish(call: MediaCall): CallQuality {
    const final = this.snapshot(call);
    this.finished.delete(call.id);
    this.finished.set(call.id, final);
    if (this.finished.size > FINISHED_KEPT) this.finished.delete(this.finished.keys().next().value!);
    return final;
  }

  /** Figures of an ended call (until FINISHED_KEPT later calls ended). */
  finishedCall(callId: string): CallQuality | undefined {
    return this.finished.get(callId);
  }
}

function sidesOf(call: MediaCall): Side[] {
  return call.answerer ? [call.offerer, call.answerer] : [call.offerer];
}
