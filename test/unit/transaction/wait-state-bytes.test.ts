// A transaction waiting out its last timer keeps its key and the bytes it may have to send again — not
// the parsed request or response (RFC 3261 §17: a retransmission is the same message). Checked with
// WeakRefs to the parsed messages and a forced garbage collection while the transaction still sits in the
// layer's table, and by what a retransmission then puts on the wire: the very bytes first written.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import {
  createTransactionLayer,
  TransactionInputError,
  type ClientTransaction,
  type ServerTransaction,
  type TransactionLayer,
} from '../../../gateway/sip/transaction/index.js';
import { FakeTransport, fakeFlow, type SentRecord } from './fake-transport.js';
import { request, response } from './messages.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Objects watched through a FinalizationRegistry (a WeakRef's deref() would keep a live target for the
 *  rest of the job, and Node's jobs here can be long): collected() forces garbage collections, with real
 *  setImmediate turns between them, until every watched object was finalized. */
class Watch {
  private finalized = 0;
  private count = 0;
  private readonly registry = new FinalizationRegistry<number>(() => (this.finalized += 1));

  add(...objects: object[]): void {
    for (const o of objects) this.registry.register(o, this.count++);
  }

  async collected(): Promise<boolean> {
    for (let i = 0; i < 20 && this.finalized < this.count; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    return this.finalized === this.count;
  }
}

const quiet = { onResponse: () => {}, onTimeout: () => {}, onTransportError: () => {} };
const flow = fakeFlow('udp');

describe('wait states keep bytes, not parsed messages (RFC 3261 §17)', () => {
  let transport: FakeTransport;
  let layer: TransactionLayer;
  let servers: ServerTransaction[];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(0);
    transport = new FakeTransport();
    layer = createTransactionLayer({ transport, logger: createLogger('silent') });
    servers = [];
    layer.onRequest((_req, tx) => servers.push(tx));
  });
  afterEach(() => {
    layer.close();
    vi.useRealTimers();
  });

  /** The records sent so far, taken out of the fake (which would otherwise hold the messages). */
  const takeSent = (): SentRecord[] => transport.sent.splice(0);
  /** The bytes of the one record sent so far. A function of its own: a record (and the message in it)
   *  left in a register of the suspended test function would keep the message alive. */
  const takeBytes = (): Buffer => {
    const [record] = takeSent();
    return record!.data;
  };

  /** Injects a request built here and answers it with `status`; both are watched, none leaves. */
  function serverAnswers(method: string, status: number, branch: string): Watch {
    const req = request({ method, branch });
    transport.inject(req, flow);
    const res = response(req, status, 'to-srv');
    servers[0]!.respond(res);
    const watch = new Watch();
    watch.add(req, res);
    return watch;
  }

  it('non-INVITE server in Completed (Timer J): request and response let go; a retransmission gets the same bytes (§17.2.2)', async () => {
    const watch = serverAnswers('BYE', 200, 'z9hG4bK-b-bye');
    const tx = servers[0]!;
    expect(tx.state).toBe('completed');
    const first = takeBytes();
    expect(await watch.collected()).toBe(true);
    expect(() => tx.request).toThrow(TransactionInputError);
    transport.inject(request({ method: 'BYE', branch: 'z9hG4bK-b-bye' }), flow);
    const again = takeSent();
    expect(again).toHaveLength(1);
    expect(again[0]!.resent).toBe(true);
    expect(again[0]!.data.equals(first)).toBe(true);
    // Kept in memory of its own, not as a view of a shared 8 KiB pool slab it would keep alive for 32 s.
    expect(first.buffer.byteLength).toBeGreaterThan(first.length); // what the serializer gave: pooled
    expect(again[0]!.data.buffer.byteLength).toBe(again[0]!.data.length);
    expect(again[0]!.dest).toBe(flow);
    expect(servers).toHaveLength(1); // absorbed, not a new request
    expect(tx.state).toBe('completed');
  });

  it('INVITE server in Completed (Timer G/H): the INVITE and the 486 let go; Timer G and a retransmitted INVITE send the same bytes (§17.2.1)', async () => {
    const watch = serverAnswers('INVITE', 486, 'z9hG4bK-b-486');
    const tx = servers[0]!;
    expect(tx.state).toBe('completed');
    const first = takeBytes();
    expect(await watch.collected()).toBe(true);
    expect(() => tx.request).toThrow(TransactionInputError);
    await vi.advanceTimersByTimeAsync(500); // Timer G at T1
    transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-b-486' }), flow);
    const again = takeSent();
    expect(again.map((s) => s.resent)).toEqual([true, true]);
    for (const s of again) expect(s.data.equals(first)).toBe(true);
    // The non-2xx's ACK still ends it (§17.2.1 Confirmed), with nothing kept to send.
    transport.inject(request({ method: 'ACK', branch: 'z9hG4bK-b-486', toTag: 'to-srv' }), flow);
    expect(tx.state).toBe('confirmed');
    await vi.advanceTimersByTimeAsync(4_000);
    expect(takeSent()).toEqual([]);
  });

  it('INVITE server in Accepted (Timer L): the INVITE and the 2xx let go; the 2xx retransmissions are its bytes, and its ACK still matches (RFC 6026 §7.1)', async () => {
    const acks: SipRequest[] = [];
    layer.onAck((ack) => acks.push(ack));
    const watch = serverAnswers('INVITE', 200, 'z9hG4bK-b-200');
    const tx = servers[0]!;
    expect(tx.state).toBe('accepted');
    const first = takeBytes();
    expect(await watch.collected()).toBe(true);
    expect(() => tx.request).toThrow(TransactionInputError);
    await vi.advanceTimersByTimeAsync(500 + 1_000); // T1, then 2*T1 (§13.3.1.4)
    const again = takeSent();
    expect(again.map((s) => s.at)).toEqual([500, 1_500]);
    for (const s of again) expect(s.data.equals(first)).toBe(true);
    // The ACK for the 2xx (its own branch) is matched by Call-ID, CSeq and tags kept from the INVITE.
    transport.inject(request({ method: 'ACK', branch: 'z9hG4bK-b-ack', toTag: 'to-srv' }), flow);
    expect(acks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(takeSent()).toEqual([]);
  });

  /** Sends a request built here (watched); only the transaction leaves. */
  function clientSends(watch: Watch, method: string, branch: string): ClientTransaction {
    const req = request({ method, branch });
    watch.add(req);
    return layer.sendRequest(req, flow, quiet);
  }

  /** Injects a response to (a copy of) the request with `branch`, watched when `watch` is given. */
  function respondTo(method: string, branch: string, status: number, watch?: Watch): void {
    const res = response(request({ method, branch }), status, 'to-cli');
    watch?.add(res);
    transport.inject(res, flow);
  }

  it('INVITE client in Completed (Timer D): the INVITE and the 486 let go; a retransmitted 486 gets the same ACK bytes (§17.1.1.2)', async () => {
    const watch = new Watch();
    const tx = clientSends(watch, 'INVITE', 'z9hG4bK-b-cli');
    const invite = takeBytes();
    await vi.advanceTimersByTimeAsync(500); // Timer A: the INVITE's own bytes again
    const [retransmitted] = takeSent();
    expect(retransmitted!.resent).toBe(true);
    expect(retransmitted!.data.equals(invite)).toBe(true);
    respondTo('INVITE', 'z9hG4bK-b-cli', 486, watch);
    expect(tx.state).toBe('completed');
    const ack = takeBytes();
    expect(ack.toString().startsWith('ACK ')).toBe(true);
    expect(await watch.collected()).toBe(true);
    expect(() => tx.request).toThrow(TransactionInputError);
    respondTo('INVITE', 'z9hG4bK-b-cli', 486);
    const again = takeSent();
    expect(again).toHaveLength(1);
    expect(again[0]!.resent).toBe(true);
    expect(again[0]!.data.equals(ack)).toBe(true);
    expect(tx.state).toBe('completed');
  });

  it('INVITE client in Accepted (Timer M) and non-INVITE client in Completed (Timer K) let their request go', async () => {
    const watch = new Watch();
    const invite = clientSends(watch, 'INVITE', 'z9hG4bK-b-acc');
    const bye = clientSends(watch, 'BYE', 'z9hG4bK-b-k');
    respondTo('INVITE', 'z9hG4bK-b-acc', 200);
    respondTo('BYE', 'z9hG4bK-b-k', 200);
    expect([invite.state, bye.state]).toEqual(['accepted', 'completed']);
    takeSent();
    expect(await watch.collected()).toBe(true);
    expect(() => bye.request).toThrow(TransactionInputError);
    await vi.advanceTimersByTimeAsync(4_000); // no Timer A/E any more: nothing to send
    expect(takeSent()).toEqual([]);
    expect(bye.state).toBe('completed');
  });
});
