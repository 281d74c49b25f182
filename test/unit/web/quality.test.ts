import { describe, expect, it } from 'vitest';
import { QualityTracker, THRESHOLDS, readStats, type Snapshot } from '../../../web/quality.js';

/** A getStats report as Chromium gives it (a Map-like of stats objects). */
function report(o: { received: number; lost: number; jitter?: number; rtt?: number; fractionLost?: number; pairRtt?: number; jbDelay?: number; jbEmitted?: number; level?: number }) {
  const stats: Array<Record<string, unknown>> = [
    { id: 'IT01A', type: 'inbound-rtp', kind: 'audio', packetsReceived: o.received, packetsLost: o.lost, jitter: o.jitter ?? 0.002,
      jitterBufferDelay: o.jbDelay ?? 0, jitterBufferEmittedCount: o.jbEmitted ?? 0, codecId: 'CIT01_0' },
    { id: 'CIT01_0', type: 'codec', mimeType: 'audio/PCMU', clockRate: 8000 },
    { id: 'OT01A', type: 'outbound-rtp', kind: 'audio', packetsSent: o.received },
    { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' },
    { id: 'CP1', type: 'candidate-pair', currentRoundTripTime: o.pairRtt ?? 0.001 },
    { id: 'IT99V', type: 'inbound-rtp', kind: 'video', packetsReceived: 999, packetsLost: 999 },
    { id: 'SA1', type: 'media-source', kind: 'audio', audioLevel: o.level ?? 0.3 },
  ];
  if (o.rtt !== undefined || o.fractionLost !== undefined) {
    stats.push({ id: 'RI1', type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: o.rtt, fractionLost: o.fractionLost });
  }
  return new Map(stats.map((s) => [s.id as string, s]));
}

/** Snapshots one second apart: `lossEvery` of every 50 packets lost (0: none). */
function run(seconds: number, lostPerSecond: number, extra: Partial<Snapshot> = {}): { tracker: QualityTracker; changes: ReturnType<QualityTracker['push']>[] } {
  const tracker = new QualityTracker();
  const changes = [];
  for (let i = 0; i <= seconds; i++) {
    changes.push(tracker.push({ ...readStats(report({ received: i * (50 - lostPerSecond), lost: i * lostPerSecond, jbDelay: i * 50 * 0.04, jbEmitted: i * 50 }), i * 1000), ...extra }));
  }
  return { tracker, changes };
}

describe('web/quality', () => {
  it('reads the audio figures of a getStats report (video ignored, RTCP round trip first)', () => {
    const snap = readStats(report({ received: 500, lost: 20, jitter: 0.004, rtt: 0.052, fractionLost: 0.25, pairRtt: 0.01 }), 7);
    expect(snap).toEqual({ at: 7, received: 500, lost: 20, jitterMs: 4, jbDelayS: 0, jbEmitted: 0, rttMs: 52, remoteLossPercent: 25, codec: 'PCMU', inputLevel: 0.3 });
    // without an RTCP receiver report: the selected candidate pair's STUN round trip
    expect(readStats(report({ received: 1, lost: 0, pairRtt: 0.01 }), 0).rttMs).toBe(10);
    // RFC 3550 §6.4.1: duplicates can make packetsLost negative — never a negative loss
    expect(readStats(report({ received: 10, lost: -3 }), 0).lost).toBe(0);
  });

  it('a clean call: 0 % loss, a good MOS, no warning', () => {
    const { tracker, changes } = run(8, 0);
    expect(changes[0]!.sample).toBeNull(); // nothing to compare the first snapshot with
    expect(tracker.samples).toHaveLength(8);
    expect(tracker.last).toMatchObject({ lossPercent: 0, jitterMs: 2, rttMs: 1, jitterBufferMs: 40, codec: 'PCMU' });
    expect(tracker.last!.mos).toBeGreaterThan(4.3);
    expect(tracker.warnings.size).toBe(0);
  });

  it('10 % loss shows as ~10 % over the window, lowers the MOS and raises high-packet-loss and low-mos once', () => {
    const { tracker, changes } = run(8, 5);
    expect(tracker.last!.lossPercent).toBe(10);
    expect(tracker.last!.mos).toBeLessThan(THRESHOLDS.mos);
    const raised = changes.flatMap((c) => c.raised);
    expect(raised.sort()).toEqual(['high-packet-loss', 'low-mos']);
    expect([...tracker.warnings].sort()).toEqual(['high-packet-loss', 'low-mos']);
  });

  it('a warning clears when the loss stops (hysteresis: at most 1 of the last 5 samples bad)', () => {
    const tracker = new QualityTracker();
    let received = 0;
    let lost = 0;
    const cleared: string[] = [];
    for (let i = 0; i < 30; i++) {
      const bad = i < 10;
      received += bad ? 45 : 50;
      lost += bad ? 5 : 0;
      cleared.push(...tracker.push(readStats(report({ received, lost }), i * 1000)).cleared);
      if (i === 9) expect(tracker.warnings.has('high-packet-loss')).toBe(true);
    }
    expect(cleared).toContain('high-packet-loss');
    expect(tracker.warnings.size).toBe(0);
  });

  it('no packets (the call is held): no loss figure and no MOS rather than a false one', () => {
    const tracker = new QualityTracker();
    for (let i = 0; i < 8; i++) tracker.push(readStats(report({ received: 100, lost: 0 }), i * 1000));
    expect(tracker.last).toMatchObject({ lossPercent: null, jitterMs: null, mos: null });
    expect(tracker.warnings.size).toBe(0);
  });

  it('high round trip and jitter raise their own warnings; what the far end loses counts too', () => {
    const rtt = run(6, 0, { rttMs: 450 });
    expect(rtt.tracker.warnings.has('high-rtt')).toBe(true);
    const jitter = run(6, 0, { jitterMs: 45 });
    expect(jitter.tracker.warnings.has('high-jitter')).toBe(true);
    const far = run(6, 0, { remoteLossPercent: 8 });
    expect(far.tracker.warnings.has('high-packet-loss')).toBe(true);
    expect(far.tracker.last!.remoteLossPercent).toBe(8);
  });

  it('a silent microphone (not muted, not held) for 5 s raises no-input; muted or held it does not', () => {
    const silent = (quiet: boolean): QualityTracker => {
      const tracker = new QualityTracker();
      for (let i = 0; i <= 6; i++) tracker.push(readStats(report({ received: i * 50, lost: 0, level: 0 }), i * 1000), { quiet });
      return tracker;
    };
    expect(silent(false).warnings.has('no-input')).toBe(true);
    expect(silent(true).warnings.has('no-input')).toBe(false);
    expect(silent(true).last!.inputLevel).toBeNull();
    // 4 silent seconds (a pause) are not enough
    const pause = new QualityTracker();
    for (let i = 0; i <= 4; i++) pause.push(readStats(report({ received: i * 50, lost: 0, level: i === 0 ? 0.3 : 0 }), i * 1000));
    for (let i = 5; i <= 7; i++) pause.push(readStats(report({ received: i * 50, lost: 0, level: 0.2 }), i * 1000));
    expect(pause.warnings.has('no-input')).toBe(false);
    expect(run(8, 0).tracker.warnings.has('no-input')).toBe(false);
  });

  it('keeps at most 600 samples for the graph', () => {
    const tracker = new QualityTracker();
    for (let i = 0; i < 650; i++) tracker.push(readStats(report({ received: i * 50, lost: 0 }), i * 1000));
    expect(tracker.samples).toHaveLength(600);
    expect(tracker.snapshots.length).toBeLessThanOrEqual(7);
  });
});
