// One leg's RTCP monitor (gateway/media/rtcp/monitor.ts): figures from the RTP it saw, the report it
// builds, the round trip from the peer's LSR/DLSR, and what the peer's reports say about our stream.
import { describe, expect, it } from 'vitest';
import { RtcpMonitor } from '../../../gateway/media/rtcp/monitor.js';
import { parseRtcp, serialiseRtcp, type ReceiverReport, type SenderReport } from '../../../gateway/media/rtcp/packet.js';
import { rtcpInterval } from '../../../gateway/media/quality-reports.js';

function rtp(ssrc: number, seq: number, ts: number, pt = 0, payload = 160): Buffer {
  const b = Buffer.alloc(12 + payload);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

describe('RTCP monitor of a leg', () => {
  it('in: loss and jitter from the RTP received; the RR it builds names the source with the A.3 figures', () => {
    const m = new RtcpMonitor('rtp');
    m.setCodecs([{ pt: 0, name: 'PCMU', rate: 8000 }, { pt: 101, name: 'telephone-event', rate: 8000 }]);
    for (let i = 0; i <= 200; i++) {
      if (i % 20 === 10) continue; // 10 of 200 lost
      m.rtpIn(rtp(0xaaaa, 1000 + i, i * 160), i * 20 + (i % 2) * 10); // ±10 ms: jitter → 10 ms
    }
    m.rtpIn(rtp(0xaaaa, 1201, 0, 101), 4020); // an RFC 4733 event's timestamp is no jitter sample
    const q = m.snapshot('t');
    expect(q.in).toMatchObject({ packets: 192, expected: 201, lost: 10, lossPercent: 4.98 });
    expect(q.in.jitterMs!).toBeCloseTo(10, 0);
    const [head] = parseRtcp(m.report(4100, Date.UTC(2026, 0, 1))) as [ReceiverReport];
    expect(head.type).toBe('rr'); // nothing sent: RR
    expect(head.reports).toHaveLength(1);
    expect(head.reports[0]).toMatchObject({ ssrc: 0xaaaa, cumulativeLost: 10, highestSeq: 1201, fractionLost: Math.floor((10 * 256) / 201), lsr: 0 });
    expect(head.reports[0]!.jitter).toBeGreaterThan(70);
    expect(m.snapshot('t').in.intervalLossPercent).toBeCloseTo(4.69, 2);
  });

  it('an SR when RTP was sent, with its counts; a peer RR answering it gives the round trip and the out figures', () => {
    const m = new RtcpMonitor('rtp');
    for (let i = 0; i < 100; i++) m.rtpOut(rtp(0xbbbb, 500 + i, 8000 + i * 160), i * 20);
    const wall = Date.UTC(2026, 0, 1, 12);
    const packet = m.report(2000, wall);
    m.rtcpOut(packet, 2000); // the leg tells the monitor when it leaves
    const [sr] = parseRtcp(packet) as [SenderReport];
    expect(sr).toMatchObject({ type: 'sr', ssrc: 0xbbbb, sender: { packetCount: 100, octetCount: 16000, rtpTimestamp: 8000 + 100 * 160 } });
    expect(sr.sender.ntpSec).toBe(Math.floor(wall / 1000) + 2_208_988_800);
    const lsr = (((sr.sender.ntpSec & 0xffff) << 16) | (sr.sender.ntpFrac >>> 16)) >>> 0;
    // the peer held the SR 100 ms (DLSR) and its RR arrives 180 ms after the SR left: round trip 80 ms
    const reply: ReceiverReport = { type: 'rr', ssrc: 0xcccc, reports: [{ ssrc: 0xbbbb, fractionLost: 64, cumulativeLost: 5, highestSeq: 599, jitter: 40, lsr, dlsr: 6554 }] };
    m.rtcpIn(serialiseRtcp([reply]), 2180);
    const q = m.snapshot('t');
    expect(q.rttMs!).toBeCloseTo(80, 0);
    expect(q.out).toMatchObject({ packets: 100, expected: 100, lost: 5, lossPercent: 5, intervalLossPercent: 25, jitterMs: 5 });
    expect(q.out.mos).toBeGreaterThan(3);
    expect([q.rtcpIn, q.rtcpOut, q.rtcpErrors]).toEqual([1, 1, 0]);
  });

  it('a report block about a stream it never sent is ignored; malformed RTCP is counted', () => {
    const m = new RtcpMonitor('webrtc');
    m.rtcpIn(serialiseRtcp([{ type: 'rr', ssrc: 1, reports: [{ ssrc: 99, fractionLost: 255, cumulativeLost: 9, highestSeq: 9, jitter: 9, lsr: 0, dlsr: 0 }] }]), 0);
    m.rtcpIn(Buffer.from([0x81, 201, 0, 9, 1, 2, 3, 4]), 0);
    const q = m.snapshot('b');
    expect(q.out.lossPercent).toBeNull();
    expect(q.rttMs).toBeNull();
    expect(q.rtcpErrors).toBe(1);
  });

  it('RFC 3550 §6.2 interval: first at half the 5 s minimum, then 0.5–1.5 × 5 s', () => {
    expect(rtcpInterval(true, () => 0)).toBe(1250);
    expect(rtcpInterval(true, () => 1)).toBe(3750);
    expect(rtcpInterval(false, () => 0)).toBe(2500);
    expect(rtcpInterval(false, () => 0.5)).toBe(5000);
    expect(rtcpInterval(false, () => 0.9999)).toBeLessThan(7500);
  });
});
