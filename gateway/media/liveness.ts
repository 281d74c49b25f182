// Per-leg inactivity detection (issue 7 item 8): a leg whose peer sent neither RTP nor RTCP for
// `timeoutMs` is reported once. While the session is on hold (any direction but sendrecv, RFC 3264
// §8.4) the held peer sends no RTP by design, so only RTCP counts — and a peer that never sent RTCP
// is never timed out on hold. Counters are sampled every checkIntervalMs; pure but for the timer.
import type { LegCounters } from './legs/leg.js';
import type { InactiveListener, InactiveReason } from './types.js';

export interface WatchedLeg {
  callId: string;
  /** The SIP tag of the side the leg faces. */
  tag: string;
  counters: Pick<LegCounters, 'packetsIn' | 'rtcpIn'>;
  onHold: boolean;
}

interface LegState {
  rtp: number;
  rtcp: number;
  lastMedia: number;
  lastRtcp: number | undefined;
  onHold: boolean;
  fired: boolean;
}

export class LivenessWatcher {
  private readonly legs = new Map<string, LegState>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly source: () => WatchedLeg[],
    private readonly notify: InactiveListener,
    private readonly checkIntervalMs = Math.min(1000, Math.max(50, Math.floor(timeoutMs / 5))),
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.check(Date.now()), this.checkIntervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.legs.clear();
  }

  /** One sampling round at `now` (ms). */
  check(now: number): void {
    const live = new Set<string>();
    for (const leg of this.source()) {
      const key = `${leg.callId}\u0000${leg.tag}`;
      live.add(key);
      const state = this.update(key, leg, now);
      const reason = this.expired(state, now);
      if (reason && !state.fired) {
        state.fired = true;
        this.notify(leg.callId, leg.tag, reason);
      }
    }
    for (const key of this.legs.keys()) if (!live.has(key)) this.legs.delete(key);
  }

  private update(key: string, leg: WatchedLeg, now: number): LegState {
    const rtcp = leg.counters.rtcpIn;
    const rtp = leg.counters.packetsIn - rtcp;
    let state = this.legs.get(key);
    if (!state) {
      state = { rtp, rtcp, lastMedia: now, lastRtcp: rtcp > 0 ? now : undefined, onHold: leg.onHold, fired: false };
      this.legs.set(key, state);
      return state;
    }
    if (rtcp !== state.rtcp) state.lastRtcp = now;
    if (rtp !== state.rtp || rtcp !== state.rtcp) state.lastMedia = now;
    if (leg.onHold !== state.onHold) {
      // hold or resume: the peer gets a full timeout to (re)start
      state.lastMedia = now;
      if (state.lastRtcp !== undefined) state.lastRtcp = now;
      state.onHold = leg.onHold;
      state.fired = false;
    }
    state.rtp = rtp;
    state.rtcp = rtcp;
    return state;
  }

  private expired(state: LegState, now: number): InactiveReason | undefined {
    if (!state.onHold) return now - state.lastMedia >= this.timeoutMs ? 'no-rtp-rtcp' : undefined;
    if (state.lastRtcp === undefined) return undefined;
    return now - state.lastRtcp >= this.timeoutMs ? 'no-rtcp-on-hold' : undefined;
  }
}
