// Trunk OPTIONS keep-alive (gateway/upstream/keepalive.ts) against fake transaction/transport layers and
// fake timers: what goes out and when, how outcomes move the state, what status() shows, stop().
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { createResponse, getHeader, getTo, getVias } from '../../../gateway/sip/message/index.js';
import type { SipUri } from '../../../gateway/sip/message/types.js';
import type { Target } from '../../../gateway/sip/transport/types.js';
import { createUpstream } from '../../../gateway/upstream/index.js';
import { TrunkKeepalive, type KeepaliveOptions } from '../../../gateway/upstream/keepalive.js';
import { configProblems as problems } from '../config/problems.js';
import { FakeLayers, silent, type Sent } from './fakes.js';

let layers: FakeLayers;
let logLines: Array<Record<string, unknown>>;

function captureLogger() {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info', base: undefined }, sink);
}

function keepalive(o: Partial<KeepaliveOptions> = {}): TrunkKeepalive {
  return new TrunkKeepalive({
    name: 'carrier',
    uri: 'sip:192.0.2.10:5080;transport=udp',
    intervalS: 10,
    failures: 2,
    transport: layers.transport,
    transactions: layers.transactions,
    logger: captureLogger(),
    ...o,
  });
}

const answer = (s: Sent, status: number, reason: string) =>
  s.handlers.onResponse(createResponse(s.request, status, reason, { toTag: 'far' }));

beforeEach(() => {
  vi.useFakeTimers();
  layers = new FakeLayers();
  logLines = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('trunk keep-alive: the OPTIONS on the wire', () => {
  it('sends the first OPTIONS one interval after start, then one every interval (answered or not)', async () => {
    const k = keepalive();
    k.start();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(layers.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(layers.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000); // the first is still unanswered: the cadence does not wait
    expect(layers.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(layers.sent).toHaveLength(4);
    k.stop();
  });

  it('is an RFC 3261 §11 OPTIONS: Max-Forwards 70, Accept application/sdp, our Via and Contact, To = the trunk', async () => {
    const k = keepalive({ fromUser: 'acct' });
    k.start();
    await vi.advanceTimersByTimeAsync(10_000);
    const { request, dest } = layers.last;
    expect(dest).toEqual({ address: '192.0.2.10', port: 5080, transport: 'udp' });
    expect(request.method).toBe('OPTIONS');
    expect(request.uri).toBe('sip:192.0.2.10:5080;transport=udp');
    expect(getHeader(request, 'Max-Forwards')).toBe('70');
    expect(getHeader(request, 'Accept')).toBe('application/sdp');
    expect(getVias(request)[0]).toMatchObject({ transport: 'UDP', host: '127.0.0.1', port: 5070 });
    expect(getHeader(request, 'Contact')).toBe('<sip:gateway@127.0.0.1:5070>');
    expect(getHeader(request, 'From')).toMatch(/^<sip:acct@127\.0\.0\.1:5070>;tag=\S+$/);
    expect(getTo(request).params.tag).toBeUndefined();
    expect(getHeader(request, 'CSeq')).toBe('1 OPTIONS');
    await vi.advanceTimersByTimeAsync(10_000);
    // A new transaction and Call-ID per probe (each probe is its own out-of-dialog request).
    expect(getHeader(layers.last.request, 'Call-ID')).not.toBe(getHeader(request, 'Call-ID'));
    expect(getHeader(layers.last.request, 'CSeq')).toBe('2 OPTIONS');
    k.stop();
  });

  it('uses the advertised address for the trunk transport (tcp) and names it in the Contact', async () => {
    layers.listening.tcp = { address: '198.51.100.4', port: 5071 };
    const k = keepalive({ uri: 'sip:192.0.2.10:5080;transport=tcp' });
    k.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(layers.last.dest).toMatchObject({ transport: 'tcp' });
    expect(getVias(layers.last.request)[0]).toMatchObject({ transport: 'TCP', host: '198.51.100.4', port: 5071 });
    expect(getHeader(layers.last.request, 'Contact')).toBe('<sip:gateway@198.51.100.4:5071;transport=tcp>');
    k.stop();
  });
});

describe('trunk keep-alive: state', () => {
  it('starts unknown; an answer moves it up with the code and the RTT, logged at info with the trunk name', async () => {
    const k = keepalive();
    expect(k.status()).toEqual({ state: 'unknown', interval: 10, failures: 0 });
    k.start();
    await vi.advanceTimersByTimeAsync(10_000);
    const probe = layers.last;
    probe.handlers.onResponse(createResponse(probe.request, 100, 'Trying'));
    expect(k.state).toBe('unknown'); // a provisional response is not the answer
    await vi.advanceTimersByTimeAsync(37);
    answer(probe, 200, 'OK');
    expect(k.status()).toEqual({ state: 'up', interval: 10, failures: 0, lastCode: 200, lastReason: 'OK', rttMs: 37, since: expect.any(String) });
    expect(logLines).toContainEqual(expect.objectContaining({ level: 30, trunk: 'carrier', from: 'unknown', to: 'up', code: 200, rttMs: 37 }));
    k.stop();
  });

  it.each([[404, 'Not Found'], [405, 'Method Not Allowed'], [501, 'Not Implemented'], [503, 'Service Unavailable']])(
    'a %i final response is an answer: up',
    async (status, reason) => {
      const k = keepalive();
      k.start();
      await vi.advanceTimersByTimeAsync(10_000);
      answer(layers.last, status, reason);
      expect(k.status()).toMatchObject({ state: 'up', lastCode: status, failures: 0 });
      k.stop();
    },
  );

  it('goes down only after `failures` misses in a row (Timer F = 408, transport error = 503); one answer resets', async () => {
    const k = keepalive({ failures: 3 });
    const moves: string[] = [];
    k.onChange((s) => moves.push(s));
    k.start();
    await vi.advanceTimersByTimeAsync(10_000);
    answer(layers.last, 200, 'OK');
    await vi.advanceTimersByTimeAsync(10_000);
    layers.last.handlers.onTimeout();
    await vi.advanceTimersByTimeAsync(10_000);
    layers.last.handlers.onTransportError(new Error('ECONNREFUSED'));
    expect(k.status()).toMatchObject({ state: 'up', failures: 2, lastCode: 503 });
    await vi.advanceTimersByTimeAsync(10_000);
    answer(layers.last, 200, 'OK'); // answered: the count starts again
    for (let i = 0; i < 2; i++) {
      await vi.advanceTimersByTimeAsync(10_000);
      layers.last.handlers.onTimeout();
    }
    expect(k.status()).toMatchObject({ state: 'up', failures: 2 });
    await vi.advanceTimersByTimeAsync(10_000);
    layers.last.handlers.onTimeout();
    expect(k.status()).toMatchObject({ state: 'down', failures: 3, lastCode: 408, lastReason: 'Request Timeout', rttMs: expect.any(Number) });
    expect(logLines).toContainEqual(expect.objectContaining({ level: 30, trunk: 'carrier', from: 'up', to: 'down', code: 408, failures: 3 }));
    await vi.advanceTimersByTimeAsync(10_000);
    answer(layers.last, 200, 'OK');
    expect(k.status()).toMatchObject({ state: 'up', failures: 0 });
    expect(moves).toEqual(['up', 'down', 'up']);
    k.stop();
  });

  it('from unknown, down after `failures` misses; an unresolvable trunk or a missing listener is a miss (503)', async () => {
    const resolve = vi.fn(async (_uri: SipUri): Promise<Target> => {
      throw new Error('no such host');
    });
    const k = keepalive({ failures: 2, resolve });
    k.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(k.status()).toMatchObject({ state: 'unknown', failures: 1, lastCode: 503, lastReason: 'cannot resolve: no such host' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(k.state).toBe('down');
    expect(layers.sent).toHaveLength(0);
    k.stop();

    const noTcp = keepalive({ uri: 'sip:192.0.2.10;transport=tcp', failures: 1 });
    noTcp.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(noTcp.status()).toMatchObject({ state: 'down', lastCode: 503, lastReason: 'no tcp listener' });
    noTcp.stop();
  });

  it('stop() leaves no timer, sends nothing more, and a late outcome no longer counts', async () => {
    const k = keepalive({ failures: 1 });
    k.start();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    const inFlight = layers.last;
    k.stop();
    expect(vi.getTimerCount()).toBe(0);
    inFlight.handlers.onTimeout();
    expect(k.state).toBe('unknown');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(layers.sent).toHaveLength(1);
    k.stop(); // idempotent
  });
});

describe('trunk keep-alive: config and status', () => {
  it('trunks[].keepalive defaults to every 30 s, down after 2 misses; false turns it off; bounds name the key', () => {
    const cfg = parseConfig({ trunks: [{ name: 'a', uri: 'sip:192.0.2.1' }, { name: 'b', uri: 'sip:192.0.2.2', keepalive: false }] }, 'x.yaml');
    expect(cfg.trunks[0]!.keepalive).toEqual({ interval: 30, failures: 2 });
    expect(cfg.trunks[1]!.keepalive).toBe(false);
    expect(problems({ trunks: [{ name: 'a', uri: 'sip:192.0.2.1', keepalive: { interval: 4 } }] })[0]).toMatch(/^trunks\[0\]\.keepalive\.interval: /);
    expect(problems({ trunks: [{ name: 'a', uri: 'sip:192.0.2.1', keepalive: { interval: 3601 } }] })[0]).toMatch(/^trunks\[0\]\.keepalive\.interval: /);
    expect(problems({ trunks: [{ name: 'a', uri: 'sip:192.0.2.1', keepalive: { failures: 0 } }] })[0]).toMatch(/^trunks\[0\]\.keepalive\.failures: /);
    expect(problems({ trunks: [{ name: 'a', uri: 'sip:192.0.2.1', keepalive: { every: 9 } }] })[0]).toMatch(/^trunks\[0\]\.keepalive/);
  });

  it('upstream status lists every trunk with its keep-alive (none with keepalive: false); close() stops the probes', async () => {
    const config = parseConfig(
      { trunks: [{ name: 'a', uri: 'sip:192.0.2.1', keepalive: { interval: 5 } }, { name: 'b', uri: 'sip:192.0.2.2', keepalive: false }] },
      'x.yaml',
    );
    const registrar = { onChange: () => () => undefined, lookup: () => [] };
    const up = createUpstream({ config, transport: layers.transport, transactions: layers.transactions, registrar, logger: silent });
    up.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(layers.sent.map((s) => s.dest)).toEqual([{ address: '192.0.2.1', port: 5060, transport: 'udp' }]);
    answer(layers.last, 200, 'OK');
    expect(up.status().trunks).toEqual([
      { name: 'a', keepalive: { state: 'up', interval: 5, failures: 0, lastCode: 200, lastReason: 'OK', rttMs: 0, since: expect.any(String) } },
      { name: 'b' },
    ]);
    await up.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
