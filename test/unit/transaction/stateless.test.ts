// Stateless answers (respondStatelessly, Kamailio's sl_send_reply model) and the capped server-transaction
// table (503 + Retry-After, RFC 3261 §21.5.4).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import {
  createTransactionLayer,
  TransactionInputError,
  type ServerTransaction,
  type TransactionLayer,
} from '../../../gateway/sip/transaction/index.js';
import { FakeTransport, fakeFlow } from './fake-transport.js';
import { header, request, response } from './messages.js';

const T1 = 500;
const udp = fakeFlow('udp');

function setup(maxServerTransactions?: number): { transport: FakeTransport; layer: TransactionLayer; txs: ServerTransaction[] } {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  const transport = new FakeTransport();
  const layer = createTransactionLayer({ transport, logger: createLogger('silent'), maxServerTransactions });
  const txs: ServerTransaction[] = [];
  layer.onRequest((_req, tx) => txs.push(tx));
  return { transport, layer, txs };
}

const statuses = (t: FakeTransport): number[] => t.sent.map((s) => (s.message as SipResponse).status);

describe('respondStatelessly: sent once, nothing kept', () => {
  let layer: TransactionLayer | undefined;
  afterEach(() => {
    layer?.close();
    vi.useRealTimers();
  });

  it('a 407 to an INVITE goes out once: no Timer G retransmission, no 100 Trying, no Timer H', () => {
    const s = setup();
    layer = s.layer;
    s.layer.onRequest((req, tx) => tx.respondStatelessly(response(req, 407, 'tag-1')));
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-s1' });
    s.transport.inject(invite, udp);
    expect(s.txs[0]!.state).toBe('terminated');
    vi.advanceTimersByTime(64 * T1 + 1000);
    expect(statuses(s.transport)).toEqual([407]);
    // The retransmitted INVITE matches nothing: the TU sees it again and challenges again, statelessly.
    s.transport.inject(invite, udp);
    expect(s.txs).toHaveLength(2);
    expect(statuses(s.transport)).toEqual([407, 407]);
    // Its ACK matches no transaction either (it reaches the onAck handlers, nothing is absorbed or kept).
    vi.advanceTimersByTime(64 * T1 + 1000);
    expect(statuses(s.transport)).toEqual([407, 407]);
  });

  it('a non-INVITE (REGISTER 401) likewise: no Timer J state, a retransmission is a new request', () => {
    const s = setup();
    layer = s.layer;
    s.layer.onRequest((req, tx) => tx.respondStatelessly(response(req, 401, 'tag-2')));
    const register = request({ method: 'REGISTER', branch: 'z9hG4bK-r1' });
    s.transport.inject(register, udp);
    s.transport.inject(register, udp);
    expect(s.txs.map((t) => t.state)).toEqual(['terminated', 'terminated']);
    expect(statuses(s.transport)).toEqual([401, 401]);
  });

  it('a non-INVITE 200 (an out-of-dialog OPTIONS) may be stateless too: nothing kept for Timer J', () => {
    const s = setup(1);
    layer = s.layer;
    s.layer.onRequest((req, tx) => tx.respondStatelessly(response(req, 200, 'tag-3')));
    for (const n of [1, 2, 3]) s.transport.inject(request({ method: 'OPTIONS', branch: `z9hG4bK-o${n}` }), udp);
    expect(statuses(s.transport)).toEqual([200, 200, 200]);
  });

  it('only a first final (INVITE: non-2xx) can be stateless', () => {
    const s = setup();
    layer = s.layer;
    s.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-a' }), udp);
    s.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-b' }), udp);
    const [a, b] = s.txs as [ServerTransaction, ServerTransaction];
    expect(() => a.respondStatelessly(response(a.request, 200, 't'))).toThrow(TransactionInputError);
    expect(() => a.respondStatelessly(response(a.request, 180, 't'))).toThrow(TransactionInputError);
    b.respond(response(b.request, 180, 't'));
    expect(() => b.respondStatelessly(response(b.request, 486, 't'))).toThrow(TransactionInputError);
    expect(a.state).toBe('proceeding');
  });
});

describe('capped server-transaction table (sip.maxServerTransactions)', () => {
  let layer: TransactionLayer | undefined;
  afterEach(() => {
    layer?.close();
    vi.useRealTimers();
  });

  const invite = (n: number): SipRequest => request({ method: 'INVITE', branch: `z9hG4bK-cap${n}`, callId: `cap-${n}` });

  it('beyond the cap a new INVITE gets 503 + Retry-After statelessly and never reaches the TU', () => {
    const s = setup(2);
    layer = s.layer;
    for (const n of [1, 2, 3]) s.transport.inject(invite(n), udp);
    expect(s.txs).toHaveLength(2);
    expect(statuses(s.transport)).toEqual([503]);
    const overload = s.transport.sent[0]!.message as SipResponse;
    expect(header(overload, 'Retry-After')).toBe('5');
    expect(header(overload, 'Call-ID')).toBe('cap-3');
    expect(header(overload, 'To')).toMatch(/;tag=/);
    // The 503 kept nothing either: its retransmission is answered 503 again.
    s.transport.inject(invite(3), udp);
    expect(statuses(s.transport)).toEqual([503, 503]);
    // Each kind has its own cap: an OPTIONS still gets through.
    s.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-o1' }), udp);
    expect(s.txs).toHaveLength(3);
  });

  it('frees a place when a transaction terminates', () => {
    const s = setup(1);
    layer = s.layer;
    s.transport.inject(invite(1), fakeFlow('tcp'));
    s.transport.inject(invite(2), udp);
    expect(statuses(s.transport)).toEqual([503]);
    const first = s.txs[0]!;
    first.respond(response(first.request, 486, 'busy'));
    s.transport.inject(request({ method: 'ACK', branch: 'z9hG4bK-cap1', callId: 'cap-1' }), fakeFlow('tcp'));
    expect(first.state).toBe('terminated'); // reliable: Timer I is zero
    s.transport.inject(invite(2), udp);
    expect(s.txs).toHaveLength(2);
  });

  it('stateless challenges never count: 50 challenged INVITEs with a cap of 2, no 503', () => {
    const s = setup(2);
    layer = s.layer;
    s.layer.onRequest((req, tx) => tx.respondStatelessly(response(req, 407, 't')));
    for (let n = 0; n < 50; n += 1) s.transport.inject(invite(n), udp);
    expect(statuses(s.transport)).toEqual(Array(50).fill(407));
  });
});
