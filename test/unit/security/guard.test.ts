// The security layer's parts on fake time: token buckets, failure windows, the guard (ban, unban, scanner,
// lockout and its log lines), and the transaction-layer watch that strips credentials while locked.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { createSecurityGuard, logSafe, watchAuthentication, type SecurityGuard } from '../../../gateway/security/index.js';
import { FailureCounter } from '../../../gateway/security/failures.js';
import { SourceBuckets } from '../../../gateway/security/rate-limit.js';
import { parseMessage as parseBuffer } from '../../../gateway/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import type { ServerTransaction, TransactionLayer } from '../../../gateway/sip/transaction/types.js';
import type { Flow } from '../../../gateway/sip/transport/types.js';

const parseMessage = (text: string) => parseBuffer(Buffer.from(text));
const flowFrom = (address: string, transport: Flow['transport'] = 'udp'): Flow =>
  ({ id: `f-${address}`, transport, remote: { address, port: 5060 }, local: { address: '127.0.0.1', port: 5060 } }) as Flow;

function capture() {
  const msgs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void msgs.push((JSON.parse(line) as { msg: string }).msg) });
  return { msgs, logger };
}

function guardWith(security: Record<string, unknown>, exempt: (f: Flow) => boolean = () => false) {
  const { msgs, logger } = capture();
  const guard = createSecurityGuard({ security: parseConfig({ security }, 'x.yaml').security, logger, exempt });
  return { msgs, guard };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
const guards: SecurityGuard[] = [];
afterEach(() => {
  for (const g of guards.splice(0)) g.close();
  vi.useRealTimers();
});

describe('SourceBuckets', () => {
  it('lets a burst through, then refills at the rate; sources are apart; a full bucket is forgotten', () => {
    const b = new SourceBuckets({ perSecond: 2, burst: 3 });
    expect([1, 2, 3, 4].map(() => b.take('a', 0))).toEqual([true, true, true, false]);
    expect(b.take('b', 0)).toBe(true);
    expect(b.take('a', 499)).toBe(false);
    expect(b.take('a', 500)).toBe(true);
    expect(b.take('a', 500)).toBe(false);
    b.sweep(1000); // b is full again (forgotten), a holds one token of three
    expect(b.size).toBe(1);
    b.sweep(10_000);
    expect(b.size).toBe(0);
  });

  it('tracks at most maxSources (the least recently seen goes)', () => {
    const b = new SourceBuckets({ perSecond: 1, burst: 1, maxSources: 2 });
    b.take('a', 0);
    b.take('b', 0);
    b.take('c', 0);
    expect(b.size).toBe(2);
    expect(b.take('a', 0)).toBe(true); // forgotten: a fresh bucket
    expect(b.take('c', 0)).toBe(false);
  });
});

describe('FailureCounter', () => {
  it('locks at the max-th failure within the window, for lockoutMs; older failures do not count', () => {
    const f = new FailureCounter({ max: 3, windowMs: 1000, lockoutMs: 5000 });
    expect([f.record('k', 0), f.record('k', 100), f.record('k', 1200)]).toEqual([false, false, false]);
    expect(f.record('k', 1300)).toBe(false); // 0 and 100 left the window
    expect(f.isLocked('k', 1300)).toBe(false);
    expect(f.record('k', 1400)).toBe(true);
    expect(f.isLocked('k', 6399)).toBe(true);
    expect(f.sweep(6399)).toEqual([]);
    expect(f.isLocked('k', 6400)).toBe(false);
    expect(f.sweep(6400)).toEqual(['k']);
  });
});

describe('createSecurityGuard', () => {
  it('bans a source past its burst for ban.seconds, drops it silently, logs the ban and (by its timer) the unban', () => {
    const { msgs, guard } = guardWith({ rateLimit: { requestsPerSecond: 1, burst: 3 }, ban: { seconds: 10 } });
    guards.push(guard);
    const f = flowFrom('::ffff:192.0.2.7');
    expect([1, 2, 3, 4].map(() => guard.admit(f))).toEqual([true, true, true, false]);
    expect(msgs).toEqual(['source banned: source=192.0.2.7 reason=rate seconds=10']);
    vi.advanceTimersByTime(5000);
    expect(guard.admit(f)).toBe(false); // the bucket refilled, the ban holds
    expect(guard.admit(flowFrom('192.0.2.8'))).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(msgs).toContain('source unbanned: source=192.0.2.7');
    expect(guard.admit(f)).toBe(true);
  });

  it('never bans an exempt (trunk) flow; rateLimit: false admits everything', () => {
    const trunk = flowFrom('198.51.100.20');
    const { msgs, guard } = guardWith({ rateLimit: { requestsPerSecond: 1, burst: 1 } }, (f) => f.remote.address === '198.51.100.20');
    const off = guardWith({ rateLimit: false });
    guards.push(guard, off.guard);
    expect(Array.from({ length: 50 }, () => guard.admit(trunk)).every(Boolean)).toBe(true);
    expect(Array.from({ length: 50 }, () => off.guard.admit(flowFrom('192.0.2.9'))).every(Boolean)).toBe(true);
    expect(msgs).toEqual([]);
  });

  it('drops requests from scanner User-Agents (case-insensitive substring), not other requests or responses', () => {
    const { guard } = guardWith({});
    guards.push(guard);
    const req = (ua: string): SipMessage =>
      parseMessage(`OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nUser-Agent: ${ua}\r\nContent-Length: 0\r\n\r\n`);
    const f = flowFrom('192.0.2.1');
    expect(guard.screen(req('Friendly-Scanner'), f)).toBe(false);
    expect(guard.screen(req('sipvicious 0.3.4'), f)).toBe(false);
    expect(guard.screen(req('Linphone/5.2'), f)).toBe(true);
    const res = parseMessage('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nServer: friendly-scanner\r\nContent-Length: 0\r\n\r\n');
    expect(guard.screen(res, f)).toBe(true);
  });

  it('locks source and known user at authFailures.max, logs each failure in the fixed format; locked tries are not counted', () => {
    const { msgs, guard } = guardWith({ authFailures: { max: 3, windowSeconds: 60, lockoutSeconds: 30 } });
    guards.push(guard);
    const fail = (user: string, source: string, known: boolean) => guard.authFailed({ user, source, method: 'REGISTER', reason: known ? 'wrong-password' : 'unknown-user' }, known);
    fail('alice', '192.0.2.1', true);
    fail('alice', '192.0.2.2', true);
    fail('nobody', '192.0.2.3', false);
    expect(guard.authLocked('192.0.2.9', 'alice')).toBe(false);
    fail('alice', '192.0.2.3', true);
    expect(msgs).toContain('auth failed: user=alice source=192.0.2.3 method=REGISTER reason=wrong-password');
    expect(msgs).toContain('auth locked: user=alice failures=3 seconds=30');
    expect(guard.authLocked('192.0.2.9', 'alice')).toBe(true);
    expect(guard.authLocked('192.0.2.3', undefined)).toBe(false);
    fail('nobody', '192.0.2.3', false);
    expect(msgs).toContain('auth locked: source=192.0.2.3 failures=3 seconds=30');
    expect(guard.authLocked('192.0.2.3', 'bob')).toBe(true);
    guard.authFailed({ user: 'alice', source: '192.0.2.4', method: 'INVITE', reason: 'locked' }, true);
    guard.authFailed({ user: 'alice', source: '192.0.2.4', method: 'INVITE', reason: 'locked' }, true);
    guard.authFailed({ user: 'alice', source: '192.0.2.4', method: 'INVITE', reason: 'locked' }, true);
    expect(guard.authLocked('192.0.2.4', undefined)).toBe(false);
    vi.advanceTimersByTime(30_000);
    expect(guard.authLocked('192.0.2.9', 'alice')).toBe(false);
    expect(msgs).toEqual(expect.arrayContaining(['auth unlocked: user=alice', 'auth unlocked: source=192.0.2.3']));
  });

  it('logs attacker-chosen user names percent-encoded: no space, quote or backslash reaches the line', () => {
    expect(logSafe('alice')).toBe('alice');
    expect(logSafe('x" source=10.0.0.1 \\')).toBe('x%22%20source%3D10.0.0.1%20%5C');
    expect(logSafe('')).toBe('-');
    expect(logSafe('ü')).toBe('%C3%BC');
  });
});

/** A transaction layer with one request handler slot and server transactions that record what they sent. */
function fakeLayer() {
  let handler: Parameters<TransactionLayer['onRequest']>[0] | undefined;
  const layer = {
    onRequest: (h: typeof handler) => void (handler = h),
    close: vi.fn(),
  } as unknown as TransactionLayer;
  const deliver = (req: SipRequest, source: string) => {
    const sent: SipResponse[] = [];
    const tx = { request: req, flow: flowFrom(source), respond: (r: SipResponse) => sent.push(r), respondStatelessly: (r: SipResponse) => sent.push(r) };
    handler!(req, tx as unknown as ServerTransaction);
    return { tx: tx as unknown as ServerTransaction, sent };
  };
  return { layer, deliver };
}

const REGISTER = (auth?: string): SipRequest =>
  parseMessage(
    `REGISTER sip:gw SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\nFrom: <sip:alice@gw>;tag=1\r\nTo: <sip:alice@gw>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n${auth ? `Authorization: ${auth}\r\n` : ''}Content-Length: 0\r\n\r\n`,
  ) as SipRequest;
const CREDS = (user: string) => `Digest username="${user}", realm="gateway", nonce="n", uri="sip:gw", response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=00000001, cnonce="c"`;
const answer = (status: number, stale = false): SipResponse =>
  ({ kind: 'response', status, reason: 'x', headers: status === 401 ? [{ name: 'WWW-Authenticate', value: `Digest realm="gateway", nonce="m"${stale ? ', stale=TRUE' : ''}` }] : [], body: Buffer.alloc(0) }) as unknown as SipResponse;

describe('watchAuthentication', () => {
  function rig() {
    const failures: string[] = [];
    const locked = new Set<string>();
    const guard = {
      authLocked: (source: string, user?: string) => locked.has(source) || (user !== undefined && locked.has(user)),
      authFailed: (f: { user: string; source: string; reason: string }, known: boolean) => void failures.push(`${f.user}@${f.source}:${f.reason}:${known}`),
    } as unknown as SecurityGuard;
    const { layer, deliver } = fakeLayer();
    const watched = watchAuthentication(layer, { guard, realm: 'gateway', lookup: (u) => (u === 'alice' ? 'alice-secret' : undefined) });
    const seen: SipRequest[] = [];
    watched.onRequest((req) => void seen.push(req));
    return { failures, locked, deliver, seen, watched, layer };
  }

  it('counts a 401 to credentials (wrong password, unknown user), not a stale one, a 200, or a 401 to none', () => {
    const r = rig();
    r.deliver(REGISTER(CREDS('alice')), '192.0.2.1').tx.respond(answer(401));
    r.deliver(REGISTER(CREDS('mallory')), '192.0.2.1').tx.respondStatelessly(answer(401));
    r.deliver(REGISTER(CREDS('alice')), '192.0.2.1').tx.respond(answer(401, true));
    r.deliver(REGISTER(CREDS('alice')), '192.0.2.1').tx.respond(answer(200));
    r.deliver(REGISTER(), '192.0.2.1').tx.respond(answer(401));
    expect(r.failures).toEqual(['alice@192.0.2.1:wrong-password:true', 'mallory@192.0.2.1:unknown-user:false']);
  });

  it('while locked, takes the credentials off before the TU sees the request (same challenge as a wrong password)', () => {
    const r = rig();
    r.locked.add('192.0.2.66');
    const { sent, tx } = r.deliver(REGISTER(CREDS('alice')), '192.0.2.66');
    expect(r.seen[0]!.headers.some((h) => h.name.toLowerCase() === 'authorization')).toBe(false);
    expect(r.seen[0]).toBe(tx.request); // the same request object: its received size still counts
    expect(r.failures).toEqual(['alice@192.0.2.66:locked:true']);
    tx.respond(answer(401));
    expect(sent).toHaveLength(1);
    expect(r.failures).toHaveLength(1);
    r.watched.close();
    expect(r.layer.close).toHaveBeenCalled();
  });
});
