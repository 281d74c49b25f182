// RFC 4733 on the media side (media/dtmf/): payload encode/decode, the event schedule (updates, E three
// times), the output stream that injects into the relayed stream without breaking SEQ, the player (fake
// timers: timestamps, durations, marker, volume) and the receiver (start/end, E-repeat dedupe, lost end).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DtmfReceiver, LOST_END_MS, type ReceivedDtmf } from '../../../gateway/media/dtmf/receiver.js';
import { decodeEvent, decodeEventPacket, encodeEvent, eventOf, eventPacket, signalOf } from '../../../gateway/media/dtmf/rfc4733.js';
import { DtmfPlayer, eventSchedule, UPDATE_MS } from '../../../gateway/media/dtmf/sender.js';
import { OutputStream } from '../../../gateway/media/dtmf/stream.js';
import { rng } from '../../support/rng.js';

function audio(seq: number, ts: number, ssrc = 0x11223344): Buffer {
  const p = Buffer.alloc(12 + 160);
  p[0] = 0x80;
  p[1] = 0;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(ts, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

describe('telephone-event payload (§2.3)', () => {
  it('encodes event, E, volume, duration and decodes them back; R is ignored', () => {
    const b = encodeEvent({ event: 11, end: true, volume: 10, duration: 1280 });
    expect([...b]).toEqual([11, 0x80 | 10, 0x05, 0x00]);
    expect(decodeEvent(b)).toEqual({ event: 11, end: true, volume: 10, duration: 1280 });
    expect(decodeEvent(Buffer.from([5, 0x40 | 7, 0, 160]))).toEqual({ event: 5, end: false, volume: 7, duration: 160 });
    expect(decodeEvent(Buffer.from([5, 0]))).toBeUndefined();
    expect(() => encodeEvent({ event: 1, end: false, volume: 64, duration: 0 })).toThrow(RangeError);
  });

  it('maps DTMF signals to events 0-16', () => {
    expect(['0', '9', '*', '#', 'A', 'd', '16'].map(eventOf)).toEqual([0, 9, 10, 11, 12, 15, 16]);
    expect(eventOf('E')).toBeUndefined();
    expect(signalOf(11)).toBe('#');
    expect(signalOf(17)).toBeUndefined();
  });

  it('decodes only packets of the telephone-event PT; random bytes never throw', () => {
    const p = eventPacket({ pt: 96, marker: true, seq: 7, timestamp: 1000, ssrc: 42 }, { event: 5, end: false, volume: 10, duration: 160 });
    expect(decodeEventPacket(p, 96)).toMatchObject({ event: 5, marker: true, seq: 7, timestamp: 1000, ssrc: 42, duration: 160 });
    expect(decodeEventPacket(p, 101)).toBeUndefined();
    const next = rng(96);
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256)));
      expect(() => decodeEventPacket(junk, junk[1]! & 0x7f)).not.toThrow();
    }
  });
});

describe('event schedule (§2.5.1.2, §2.5.1.4)', () => {
  it('160 ms at 8 kHz in 20 ms steps: 7 updates (M on the first) then the E packet three times at 1280', () => {
    const s = eventSchedule(1280, 160);
    expect(s.map((x) => x.duration)).toEqual([160, 320, 480, 640, 800, 960, 1120, 1280, 1280, 1280]);
    expect(s.map((x) => x.end)).toEqual([false, false, false, false, false, false, false, true, true, true]);
    expect(s.filter((x) => x.marker)).toHaveLength(1);
    expect(s[0]!.marker).toBe(true);
  });
});

describe('OutputStream', () => {
  it('injected packets take the relayed SSRC and the next SEQ; relayed packets after them are shifted', () => {
    let now = 0;
    const sent: Buffer[] = [];
    const out = new OutputStream((p) => sent.push(Buffer.from(p)), () => now);
    out.relay(audio(100, 8000));
    now = 20;
    out.relay(audio(101, 8160));
    now = 30;
    expect(out.clock(8000)).toBe(8160 + 80);
    out.inject((ssrc, seq) => eventPacket({ pt: 101, marker: true, seq, timestamp: 8240, ssrc }, { event: 1, end: false, volume: 10, duration: 160 }));
    out.inject((ssrc, seq) => eventPacket({ pt: 101, marker: false, seq, timestamp: 8240, ssrc }, { event: 1, end: false, volume: 10, duration: 320 }));
    out.relay(audio(102, 8320));
    out.relay(audio(103, 8480));
    expect(sent.map((p) => p.readUInt16BE(2))).toEqual([100, 101, 102, 103, 104, 105]);
    expect(new Set(sent.map((p) => p.readUInt32BE(8)))).toEqual(new Set([0x11223344]));
    expect(sent[4]!.readUInt32BE(4)).toBe(8320); // relayed timestamps untouched
  });

  it('before anything is relayed the stream is its own; a new relayed SSRC then starts unshifted', () => {
    const sent: Buffer[] = [];
    const out = new OutputStream((p) => sent.push(Buffer.from(p)), () => 0);
    out.inject((ssrc, seq) => eventPacket({ pt: 101, marker: true, seq, timestamp: out.clock(8000), ssrc }, { event: 1, end: true, volume: 10, duration: 160 }));
    out.inject((ssrc, seq) => eventPacket({ pt: 101, marker: false, seq, timestamp: 0, ssrc }, { event: 1, end: true, volume: 10, duration: 160 }));
    expect(sent[1]!.readUInt16BE(2)).toBe((sent[0]!.readUInt16BE(2) + 1) & 0xffff);
    expect(sent[0]!.readUInt32BE(8)).toBe(sent[1]!.readUInt32BE(8));
    out.relay(audio(5, 0, 0x55));
    expect(sent[2]!.readUInt16BE(2)).toBe(5);
  });
});

describe('DtmfPlayer (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('plays "5" for 100 ms then "#" for 60 ms: one timestamp per event, growing durations, E × 3, PT and volume, SEQ gap-free', async () => {
    const sent: Buffer[] = [];
    let now = 0;
    const stream = new OutputStream((p) => sent.push(Buffer.from(p)), () => now);
    stream.relay(audio(500, 16000));
    const player = new DtmfPlayer({ stream, format: () => ({ pt: 96, rate: 8000 }) });
    const a = player.play({ event: 5, durationMs: 100 });
    const b = player.play({ event: 11, durationMs: 60, volume: 20 });
    for (let i = 0; i < 20; i++) {
      now += UPDATE_MS;
      await vi.advanceTimersByTimeAsync(UPDATE_MS);
    }
    expect(await a).toBe(true);
    expect(await b).toBe(true);
    const events = sent.slice(1).map((p) => decodeEventPacket(p, 96)!);
    const five = events.filter((e) => e.event === 5);
    const hash = events.filter((e) => e.event === 11);
    expect(five.map((e) => e.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(five.map((e) => e.end)).toEqual([false, false, false, false, true, true, true]);
    expect(new Set(five.map((e) => e.timestamp))).toEqual(new Set([16000]));
    expect(five.map((e) => e.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(five.every((e) => e.volume === 10)).toBe(true);
    expect(hash.map((e) => e.duration)).toEqual([160, 320, 480, 480, 480]);
    expect(hash.every((e) => e.volume === 20)).toBe(true);
    expect(hash[0]!.timestamp).toBeGreaterThanOrEqual(16000 + 800);
    expect(sent.map((p) => p.readUInt16BE(2))).toEqual(sent.map((_, i) => 500 + i));
  });

  it('a stream clock that lags the wall clock never makes the next event start inside the last one', async () => {
    const sent: Buffer[] = [];
    const stream = new OutputStream((p) => sent.push(Buffer.from(p)), () => 0); // its clock stands still
    stream.relay(audio(1, 4000));
    const player = new DtmfPlayer({ stream, format: () => ({ pt: 101, rate: 8000 }) });
    const a = player.play({ event: 1, durationMs: 100 });
    const b = player.play({ event: 2, durationMs: 100 });
    await vi.advanceTimersByTimeAsync(1000);
    expect([await a, await b]).toEqual([true, true]);
    const starts = [...new Set(sent.slice(1).map((p) => decodeEventPacket(p, 101)!.timestamp))];
    expect(starts).toEqual([4000, 4800]);
  });

  it('a leg without telephone-event sends nothing; close() ends queued tones with false', async () => {
    const sent: Buffer[] = [];
    const none = new DtmfPlayer({ stream: new OutputStream((p) => sent.push(p)), format: () => undefined });
    expect(await none.play({ event: 1, durationMs: 100 })).toBe(false);
    const player = new DtmfPlayer({ stream: new OutputStream((p) => sent.push(p)), format: () => ({ pt: 101, rate: 8000 }) });
    const first = player.play({ event: 1, durationMs: 200 });
    const second = player.play({ event: 2, durationMs: 200 });
    player.close();
    expect([await first, await second]).toEqual([false, false]);
    expect(sent).toHaveLength(1);
  });
});

describe('DtmfReceiver', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const pkt = (event: number, ts: number, duration: number, end: boolean, seq: number) =>
    eventPacket({ pt: 101, marker: duration === 160, seq, timestamp: ts, ssrc: 9 }, { event, end, volume: 10, duration });

  it('one end per event however many E packets; audio is not taken; a lost end ends by the next event or the timeout', async () => {
    const ended: ReceivedDtmf[] = [];
    const started: string[] = [];
    const r = new DtmfReceiver(() => ({ pt: 101, rate: 8000 }), (d) => ended.push(d), (s) => started.push(s));
    expect(r.receive(audio(1, 0))).toBe(false);
    let seq = 10;
    for (const d of [160, 320, 480]) expect(r.receive(pkt(3, 1000, d, false, seq++))).toBe(true);
    for (let i = 0; i < 3; i++) r.receive(pkt(3, 1000, 640, true, seq++));
    r.receive(pkt(3, 1000, 480, false, seq++)); // a late update of an ended event
    expect(ended).toEqual([{ signal: '3', event: 3, durationMs: 80, volume: 10, endSeen: true }]);
    r.receive(pkt(10, 5000, 160, false, seq++)); // '*' whose end is lost, then '#'
    r.receive(pkt(11, 6000, 160, false, seq++));
    expect(ended.map((e) => [e.signal, e.endSeen])).toEqual([['3', true], ['*', false]]);
    await vi.advanceTimersByTimeAsync(LOST_END_MS + 10);
    expect(ended.map((e) => [e.signal, e.durationMs, e.endSeen])).toEqual([['3', 80, true], ['*', 20, false], ['#', 20, false]]);
    expect(started).toEqual(['3', '*', '#']);
  });
});
