// challengeStatelessly (sip/ua/challenge.ts): 401/407 sent once with no transaction kept; over UDP never
// bigger than the request (fewer challenges, a minimal one, compact names — else not sent).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createDigestServer } from '../../../gateway/sip/auth/index.js';
import { getHeaderValues, serializeMessage } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { createTransactionLayer, type TransactionLayer } from '../../../gateway/sip/transaction/index.js';
import type { Flow } from '../../../gateway/sip/transport/types.js';
import { encodeWithin, responseBudget } from '../../../gateway/sip/transport/budget.js';
import { challengeStatelessly } from '../../../gateway/sip/ua/challenge.js';
import { challengeOrder } from '../../../gateway/sip/ua/credentials.js';
import { FakeTransport, fakeFlow } from '../transaction/fake-transport.js';
import { request } from '../transaction/messages.js';

const digest = createDigestServer({ realm: 'gw.test', algorithms: ['SHA-256', 'MD5'] });

function challenge(req: SipRequest, flow: Flow): { sent: SipResponse[]; count: number; layer: TransactionLayer } {
  vi.useFakeTimers();
  const transport = new FakeTransport();
  const layer = createTransactionLayer({ transport, logger: createLogger('silent') });
  let count = 0;
  layer.onRequest((_r, tx) => {
    count = challengeStatelessly(tx, 407, 'Proxy-Authenticate', challengeOrder(flow.transport, digest.challenge()));
  });
  transport.inject(req, flow);
  vi.advanceTimersByTime(40_000);
  return { sent: transport.sent.map((s) => s.message as SipResponse), count, layer };
}

// RFC 2617 §3.2.1: no algorithm parameter means MD5.
const algorithms = (r: SipResponse): string[] => getHeaderValues(r, 'Proxy-Authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1] ?? 'MD5');

describe('challengeStatelessly', () => {
  let layer: TransactionLayer | undefined;
  afterEach(() => {
    layer?.close();
    vi.useRealTimers();
  });

  /** What the real transport would put on the wire for it over UDP (sip/transport/budget.ts). */
  const wire = (res: SipResponse): Buffer | undefined => encodeWithin(res, responseBudget(res));
  const padded = (branch: string, bytes: number): SipRequest => {
    const req = request({ method: 'INVITE', branch });
    return { ...req, headers: [...req.headers, { name: 'User-Agent', value: 'x'.repeat(bytes) }] };
  };

  it('UDP, a minimal INVITE: its 407 would be bigger even compact — nothing on the wire, nothing kept', () => {
    const req = request({ method: 'INVITE', branch: 'z9hG4bK-c1' });
    const r = challenge(req, fakeFlow('udp'));
    layer = r.layer;
    expect(r.count).toBe(0);
    expect(r.sent).toHaveLength(1); // handed to the transport once, bounded by the request's size …
    expect(responseBudget(r.sent[0]!)).toBe(serializeMessage(req).length);
    expect(wire(r.sent[0]!)).toBeUndefined(); // … which drops it
    expect(r.sent[0]!.headers.some((h) => h.name.toLowerCase() === 'server')).toBe(false);
    expect(getHeaderValues(r.sent[0]!, 'To')[0]).toMatch(/;tag=/);
  });

  it('UDP, an INVITE with room for one challenge: the preferred one (MD5), within the request size', () => {
    const req = padded('z9hG4bK-c5', 150);
    const r = challenge(req, fakeFlow('udp'));
    layer = r.layer;
    expect(r.count).toBe(1);
    expect(algorithms(r.sent[0]!)).toEqual(['MD5']);
    expect(wire(r.sent[0]!)!.length).toBeLessThanOrEqual(serializeMessage(req).length);
  });

  it('UDP, a tight fit: the MD5 challenge without its optional algorithm parameter, compact header names', () => {
    const req = padded('z9hG4bK-c6', 66);
    const r = challenge(req, fakeFlow('udp'));
    layer = r.layer;
    expect(r.count).toBe(1);
    expect(algorithms(r.sent[0]!)).toEqual(['MD5']);
    expect(getHeaderValues(r.sent[0]!, 'Proxy-Authenticate')[0]).not.toMatch(/algorithm/);
    const out = wire(r.sent[0]!)!.toString();
    expect(out.length).toBeLessThanOrEqual(serializeMessage(req).length);
    expect(out).toMatch(/^v: SIP\/2\.0\/UDP/m);
  });

  it('UDP, an INVITE bigger than the two-challenge answer: both, and the answer is not bigger than the request', () => {
    const req = { ...request({ method: 'INVITE', branch: 'z9hG4bK-c2' }), body: Buffer.from('v=0\r\n'.repeat(80)) };
    const r = challenge(req, fakeFlow('udp'));
    layer = r.layer;
    expect(algorithms(r.sent[0]!)).toEqual(['MD5', 'SHA-256']);
    expect(wire(r.sent[0]!)!.length).toBeLessThanOrEqual(serializeMessage(req).length);
  });

  it('TCP and WS (a proven source): every challenge, in the transport order', () => {
    const req = request({ method: 'INVITE', branch: 'z9hG4bK-c3' });
    const tcp = challenge(req, fakeFlow('tcp'));
    tcp.layer.close();
    expect(algorithms(tcp.sent[0]!)).toEqual(['MD5', 'SHA-256']);
    const ws = challenge(request({ method: 'INVITE', branch: 'z9hG4bK-c4' }), fakeFlow('ws'));
    layer = ws.layer;
    expect(algorithms(ws.sent[0]!)).toEqual(['SHA-256', 'MD5']);
  });
});
