// The embedded engine across worker threads (gateway/media/workers): calls placed on both workers, packets
// counted at the far ends, each worker on its own share of the port range, one DTLS fingerprint, figures
// (stats, quality, sockets) right as soon as delete resolves, errors across the boundary.
// Loopback-only namespace: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/media/workers.test.ts'
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createShardedMediaEngine, MediaError, type ShardedMediaEngine } from '../../../gateway/media/index.js';
import { RtpEnd } from '../call/rtp-end.js';
import { until } from './peers.js';

function sdp(port: number, extra: string[] = []): string {
  return ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ...extra, ''].join('\r\n');
}

const portOf = (s: string) => sdpTransform.parse(s).media[0]!.port;
const fingerprintOf = (s: string) => sdpTransform.parse(s).media[0]!.fingerprint?.hash ?? sdpTransform.parse(s).fingerprint?.hash;
const ZERO = { udp: 0, tcpListeners: 0, tcpConnections: 0 };

describe('embedded media engine in 2 worker threads', () => {
  let engine: ShardedMediaEngine;
  let from: number;
  const ends: RtpEnd[] = [];
  const end = async (base: number) => {
    const e = await RtpEnd.open(base);
    ends.push(e);
    return e;
  };

  beforeEach(async () => {
    from = 30000 + 2 * Math.floor(Math.random() * 10000);
    engine = await createShardedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 199 }, workers: 2, logger: createLogger('silent') });
  });

  afterEach(async () => {
    await Promise.all(ends.splice(0).map((e) => e.close()));
    await engine.close();
  });

  /** An RTP ⇄ RTP call `id` between two ends sending numbered frames both ways. */
  async function call(id: string, base: number, groups?: string[]) {
    const [a, b] = [await end(base), await end(base + 50_000)];
    const offer = await engine.offer({ callId: id, fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp', groups });
    const answer = await engine.answer({ callId: id, fromTag: 'a', toTag: 'b', sdp: sdp(b.port) });
    a.start({ address: '127.0.0.1', port: portOf(answer.sdp) });
    b.start({ address: '127.0.0.1', port: portOf(offer.sdp) });
    return { a, b, ports: [portOf(offer.sdp), portOf(answer.sdp)] };
  }

  it('spreads calls over both workers, each on its own half of the ports; media flows through each; figures right after delete', async () => {
    const calls: Awaited<ReturnType<typeof call>>[] = [];
    for (let n = 0; n < 4; n++) calls.push(await call(`c${n}`, n * 100_000));
    const workers = calls.map((_, n) => engine.workerOf(`c${n}`));
    expect(workers.filter((w) => w === 0)).toHaveLength(2);
    expect(workers.filter((w) => w === 1)).toHaveLength(2);
    calls.forEach(({ ports }, n) => {
      const [lo, hi] = workers[n] === 0 ? [from, from + 99] : [from + 100, from + 199];
      for (const port of ports) expect(port >= lo && port <= hi, `call c${n} port ${port} in worker ${workers[n]}'s ${lo}-${hi}`).toBe(true);
    });
    for (const { a, b } of calls) {
      await b.waitFrames(a, a.base, 25, 'a → b');
      await a.waitFrames(b, b.base, 25, 'b → a');
    }
    // RTP + RTCP sockets of two plain RTP legs per call
    expect(engine.openSockets()).toEqual({ udp: 16, tcpListeners: 0, tcpConnections: 0 });
    expect(engine.load().map((l) => [l.worker, l.calls])).toEqual([[0, 2], [1, 2]]);
    await until(() => (engine.stats('c0')?.legs.a?.packetsIn ?? 0) >= 25, 5000, 'c0 stats from its worker');

    calls[0]!.a.stop();
    calls[0]!.b.stop();
    await until(() => calls[0]!.b.got(calls[0]!.a.base, calls[0]!.a.next) === calls[0]!.a.next - calls[0]!.a.base, 5000, 'every frame of c0 a → b');
    const sent = calls[0]!.a.next - calls[0]!.a.base;
    await engine.delete('c0');
    // synchronously right after delete: no stats, the final quality (the call record reads it), sockets freed
    expect(engine.stats('c0')).toBeUndefined();
    const quality = engine.qualityNow('c0')!;
    expect(quality.legs.find((l) => l.tag === 'a')!.in.packets).toBe(sent);
    expect(engine.openSockets().udp).toBe(12);
    expect(engine.workerOf('c0')).toBeUndefined();
    await Promise.all(['c1', 'c2', 'c3'].map((id) => engine.delete(id)));
    expect(engine.openSockets()).toEqual(ZERO);
    expect(engine.load().map((l) => l.calls)).toEqual([0, 0]);
  });

  it('one DTLS certificate for both workers: the same fingerprint whichever worker holds the call', async () => {
    const a = await end(0);
    const first = await engine.offer({ callId: 'w0', fromTag: 'a', sdp: sdp(a.port), toProfile: 'webrtc' });
    const second = await engine.offer({ callId: 'w1', fromTag: 'a', sdp: sdp(a.port), toProfile: 'webrtc' });
    expect([engine.workerOf('w0'), engine.workerOf('w1')]).toEqual([0, 1]);
    expect(fingerprintOf(first.sdp)).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(fingerprintOf(second.sdp)).toBe(fingerprintOf(first.sdp));
  });

  it('errors cross the boundary as MediaErrors with their codes; a failed first offer leaves no placement', async () => {
    const bad = await engine.offer({ callId: 'bad', fromTag: 'a', sdp: 'v=0\r\n', toProfile: 'rtp' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(MediaError);
    expect((bad as MediaError).code).toBe('bad-sdp');
    expect(engine.workerOf('bad')).toBeUndefined();
    const unknown = await engine.answer({ callId: 'nope', fromTag: 'a', toTag: 'b', sdp: sdp(4000) }).catch((e: unknown) => e);
    expect((unknown as MediaError).code).toBe('unknown-call');
    const a = await end(0);
    await engine.offer({ callId: 'x', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp' });
    const wrongTag = await engine.answer({ callId: 'x', fromTag: 'zz', toTag: 'b', sdp: sdp(4000) }).catch((e: unknown) => e);
    expect(wrongTag).toBeInstanceOf(MediaError);
    expect((wrongTag as MediaError).code).toBe('unknown-call');
    expect(engine.workerOf('x')).toBe(0); // a failed answer does not unplace the call
  });

  it('a splice across workers is refused with a MediaError; calls of one group share a worker and splice', async () => {
    const [c0, c1] = [await call('s0', 0, ['g0']), await call('s1', 100_000, ['g1'])];
    expect([engine.workerOf('s0'), engine.workerOf('s1')]).toEqual([0, 1]);
    const across = await engine.splice({ a: { callId: 's0', tag: 'a' }, b: { callId: 's1', tag: 'b' } }).catch((e: unknown) => e);
    expect(across).toBeInstanceOf(MediaError);
    expect((across as Error).message).toMatch(/different media workers/);
    // a third call in s1's group lands on worker 1 although worker 0 is as loaded
    const [x, y] = [await end(200_000), await end(250_000)];
    const offer = await engine.offer({ callId: 's2', fromTag: 'a', sdp: sdp(x.port), toProfile: 'rtp', groups: ['g1'] });
    expect(engine.workerOf('s2')).toBe(1);
    const answer = await engine.answer({ callId: 's2', fromTag: 'a', toTag: 'b', sdp: sdp(y.port) });
    x.start({ address: '127.0.0.1', port: portOf(answer.sdp) });
    y.start({ address: '127.0.0.1', port: portOf(offer.sdp) });
    await y.waitFrames(x, x.base, 10, 's2 flowing');
    // s1's a side and s2's b side joined in worker 1: a talks to y now
    await engine.splice({ a: { callId: 's1', tag: 'a' }, b: { callId: 's2', tag: 'b' } });
    const from1 = c1.a.next;
    await y.waitFrames(c1.a, from1, 25, 's1 a → s2 b after the splice');
    const fromY = y.next;
    await c1.a.waitFrames(y, fromY, 25, 's2 b → s1 a after the splice');
    expect(c0.b.got(c0.a.base, c0.a.next)).toBeGreaterThan(0);
  });
});
