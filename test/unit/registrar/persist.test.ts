// The registration store: UDP/TCP bindings survive a restart; WS ones never reach the file; a corrupt
// file is logged with its name and ignored.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeFlow, harness, testConfig } from './fakes.js';

let dir: string;
let file: string;

beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'registrar-'));
  file = join(dir, 'sub', 'registrations.json');
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** A pino logger whose JSON lines are kept for assertions. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const phone = () => new FakeFlow('udp', { address: '203.0.113.7', port: 40123 });

describe('registration store', () => {
  it('round trip: a UDP phone registered before a restart is still there after it', () => {
    const first = harness({ store: file });
    first.register({ flow: phone(), contact: '<sip:alice@192.168.1.20:5060>;+sip.instance="<urn:uuid:d35k>"', expires: 600 });
    first.register({ flow: new FakeFlow('ws'), contact: '<sip:tab@x.invalid;transport=ws>', expires: 600 });
    first.registrar.close();
    vi.advanceTimersByTime(100_000);

    const second = harness({ store: file });
    expect(second.registrar.count()).toBe(1);
    expect(second.registrar.users()).toEqual(['alice']);
    const [route] = second.registrar.lookup('alice');
    expect(route).toMatchObject({
      contactText: 'sip:alice@192.168.1.20:5060',
      target: { address: '203.0.113.7', port: 40123, transport: 'udp' },
      webrtc: false,
      instance: 'urn:uuid:d35k',
    });
    // The remaining lifetime carries over, and the expiry timer runs for loaded bindings too.
    const seen: number[] = [];
    second.registrar.onChange((_u, n) => seen.push(n));
    vi.advanceTimersByTime(499_999);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([0]);
  });

  it('WebSocket bindings never reach the file', () => {
    const h = harness({ store: file });
    h.register({ flow: new FakeFlow('ws'), expires: 600 });
    h.registrar.close();
    expect(JSON.parse(readFileSync(file, 'utf8')).bindings).toEqual([]);
  });

  it('writes after a change (debounced), atomically, and flushes on close()', () => {
    const h = harness({ store: file, storeDelayMs: 100 });
    h.register({ flow: phone(), contact: '<sip:alice@192.168.1.20>', expires: 600 });
    expect(existsSync(file)).toBe(false);
    vi.advanceTimersByTime(100);
    expect(JSON.parse(readFileSync(file, 'utf8')).bindings).toHaveLength(1);
    h.register({ contact: '*', expires: 0, flow: phone() });
    h.registrar.close(); // before the debounce ran
    expect(JSON.parse(readFileSync(file, 'utf8')).bindings).toEqual([]);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['registrations.json']); // no temp file left
  });

  it('drops bindings that expired while the gateway was down', () => {
    const h = harness({ store: file });
    h.register({ flow: phone(), contact: '<sip:alice@192.168.1.20>', expires: 60 });
    h.register({ user: 'bob', flow: phone(), contact: '<sip:bob@192.168.1.21>', expires: 600 });
    h.registrar.close();
    vi.setSystemTime(Date.now() + 120_000);
    const after = harness({ store: file });
    expect(after.registrar.users()).toEqual(['bob']);
  });

  it('drops bindings of users no longer configured', () => {
    const h = harness({ store: file });
    h.register({ user: 'bob', flow: phone(), contact: '<sip:bob@192.168.1.21>', expires: 600 });
    h.registrar.close();
    const after = harness({ store: file, config: { ...testConfig(), users: [{ name: 'alice', password: 'p', dids: [] }] } });
    expect(after.registrar.count()).toBe(0);
  });

  it('a corrupt store file is logged with its name and ignored', () => {
    writeFileSync(file.replace('sub/', ''), '{"format": "sip-gateway-registrations", "version": 1, "bindings": [');
    const corrupt = file.replace('sub/', '');
    const { logger, lines } = capture();
    const h = harness({ store: corrupt, logger });
    expect(h.registrar.count()).toBe(0);
    const warning = lines.find((l) => l.msg === 'registration store corrupt: starting empty');
    expect(warning).toMatchObject({ file: corrupt, level: 40 });
    // Registration still works, and the next write replaces the corrupt file.
    h.register({ flow: phone(), contact: '<sip:alice@192.168.1.20>', expires: 600 });
    h.registrar.close();
    expect(JSON.parse(readFileSync(corrupt, 'utf8')).bindings).toHaveLength(1);
  });

  it('a store file of the wrong shape, or with bad entries, is ignored entry by entry', () => {
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ hello: 'world' }));
    const { logger, lines } = capture();
    expect(harness({ store: join(dir, 'wrong.json'), logger }).registrar.count()).toBe(0);
    expect(lines.some((l) => l.file === join(dir, 'wrong.json') && l.level === 40)).toBe(true);

    const good = { user: 'alice', contact: 'sip:alice@192.168.1.20', transport: 'udp', source: { address: '203.0.113.7', port: 5060 }, expiresAt: Date.now() + 60_000, callId: 'c', cseq: 1 };
    const bad = [{ ...good, contact: 'not a uri' }, { ...good, transport: 'ws' }, { ...good, source: { address: 'x', port: 0 } }, 42];
    writeFileSync(join(dir, 'mixed.json'), JSON.stringify({ format: 'sip-gateway-registrations', version: 1, bindings: [...bad, good] }));
    expect(harness({ store: join(dir, 'mixed.json') }).registrar.count()).toBe(1);
  });

  it('an unreadable store (a directory) is logged and ignored; a missing one is just empty', () => {
    const { logger, lines } = capture();
    expect(harness({ store: dir, logger }).registrar.count()).toBe(0);
    expect(lines.find((l) => l.msg === 'registration store unreadable: starting empty')).toMatchObject({ file: dir });
    expect(harness({ store: join(dir, 'absent.json') }).registrar.count()).toBe(0);
  });

  it('config.registrar.store is the default file', () => {
    const h = harness({ config: testConfig({ store: file }), store: undefined });
    h.register({ flow: phone(), contact: '<sip:alice@192.168.1.20>', expires: 600 });
    h.registrar.close();
    expect(JSON.parse(readFileSync(file, 'utf8')).bindings[0]).toMatchObject({ user: 'alice', transport: 'udp', source: { address: '203.0.113.7', port: 40123 } });
  });
});
