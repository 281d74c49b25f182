// Per-leg inactivity (liveness.ts) on fake timers: no RTP and no RTCP for the timeout → reported once;
// on hold only RTCP counts, and a peer that never sent RTCP is never timed out on hold.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LivenessWatcher, type WatchedLeg } from '../../../gateway/media/liveness.js';
import type { InactiveReason } from '../../../gateway/media/types.js';

const TIMEOUT = 10_000;

function setup(onHold = false) {
  const leg: WatchedLeg = { callId: 'c1', tag: 'trunk', counters: { packetsIn: 0, rtcpIn: 0 }, onHold };
  const reports: Array<[string, string, InactiveReason]> = [];
  const watcher = new LivenessWatcher(TIMEOUT, () => [leg], (...r) => reports.push(r), 1000);
  watcher.start();
  const rtp = () => void leg.counters.packetsIn++;
  const rtcp = () => {
    leg.counters.packetsIn++;
    leg.counters.rtcpIn++;
  };
  return { leg, reports, watcher, rtp, rtcp };
}

describe('LivenessWatcher', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('reports a silent leg once, after the timeout and not before', () => {
    const { reports, watcher } = setup();
    vi.advanceTimersByTime(TIMEOUT); // first sample at 1 s starts the clock
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(reports).toEqual([['c1', 'trunk', 'no-rtp-rtcp']]);
    vi.advanceTimersByTime(5 * TIMEOUT);
    expect(reports).toHaveLength(1);
    watcher.stop();
  });

  it('RTP keeps a leg alive; so does RTCP alone', () => {
    const { reports, watcher, rtp, rtcp } = setup();
    for (let s = 0; s < 30; s++) {
      if (s < 15) rtp();
      else rtcp();
      vi.advanceTimersByTime(1000);
    }
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(TIMEOUT + 1000); // then nothing at all
    expect(reports).toEqual([['c1', 'trunk', 'no-rtp-rtcp']]);
    watcher.stop();
  });

  it('on hold without any RTCP ever: never times out', () => {
    const { reports, watcher } = setup(true);
    vi.advanceTimersByTime(20 * TIMEOUT);
    expect(reports).toEqual([]);
    watcher.stop();
  });

  it('on hold only RTCP counts: RTP does not keep it alive once RTCP stopped', () => {
    const { reports, watcher, rtp, rtcp } = setup(true);
    rtcp();
    vi.advanceTimersByTime(1000);
    for (let s = 0; s < 12; s++) {
      rtp();
      vi.advanceTimersByTime(1000);
    }
    expect(reports).toEqual([['c1', 'trunk', 'no-rtcp-on-hold']]);
    watcher.stop();
  });

  it('resume gives a full timeout again; a leg that disappears (call deleted) is forgotten', () => {
    const { leg, reports, watcher, rtp } = setup(true);
    vi.advanceTimersByTime(3 * TIMEOUT);
    leg.onHold = false; // resumed: the clock starts at the resume
    vi.advanceTimersByTime(TIMEOUT - 1000);
    rtp();
    vi.advanceTimersByTime(TIMEOUT - 1000);
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(2000);
    expect(reports).toEqual([['c1', 'trunk', 'no-rtp-rtcp']]);
    watcher.stop();
  });
});
