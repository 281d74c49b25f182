import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipMessage, SipRequest } from '../../../gateway/sip/message/types.js';
import {
  IllegalTransitionError,
  nonInviteServerTransition,
  TransactionInputError,
  type ServerTransaction,
} from '../../../gateway/sip/transaction/index.js';
import { fakeFlow } from './fake-transport.js';
import { request, response } from './messages.js';
import { harness, type Harness } from './setup.js';

const statuses = (h: Harness): number[] =>
  h.transport.sent.map((s) => s.message).filter((m): m is SipMessage & { status: number } => m.kind === 'response').map((m) => m.status);

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  let h: Harness;
  let bye: SipRequest;
  let txs: ServerTransaction[];
  beforeEach(() => {
    h = harness();
    bye = request({ method: 'BYE', branch: 'z9hG4bK-bye', toTag: 'callee', cseq: 2 });
    txs = [];
    h.layer.onRequest((_req, tx) => txs.push(tx));
  });
  afterEach(() => {
    h.layer.close();
    vi.useRealTimers();
  });

  it('discards retransmissions in Trying, re-sends the provisional in Proceeding and the final in Completed', () => {
    const flow = fakeFlow('udp');
    h.transport.inject(bye, flow);
    const tx = txs[0]!;
    expect(tx.state).toBe('trying');
    h.transport.inject(bye, flow);
    expect(statuses(h)).toEqual([]);
    tx.respond(response(bye, 100));
    expect(tx.state).toBe('proceeding');
    h.transport.inject(bye, flow);
    expect(statuses(h)).toEqual([100, 100]);
    tx.respond(response(bye, 200, 'callee'));
    expect(tx.state).toBe('completed');
    h.transport.inject(bye, flow);
    expect(statuses(h)).toEqual([100, 100, 200, 200]);
    expect(txs).toHaveLength(1);
  });

  it('keeps Completed for Timer J (64*T1) over UDP, then a retransmission is a new request', async () => {
    const flow = fakeFlow('udp');
    h.transport.inject(bye, flow);
    txs[0]!.respond(response(bye, 200, 'callee'));
    await vi.advanceTimersByTimeAsync(31_999);
    expect(txs[0]!.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(1);
    expect(txs[0]!.state).toBe('terminated');
    h.transport.inject(bye, flow);
    expect(txs).toHaveLength(2);
  });

  it('terminates at once after the final over a reliable flow (Timer J = 0) and never retransmits by itself', async () => {
    h.transport.inject(bye, fakeFlow('tcp'));
    txs[0]!.respond(response(bye, 200, 'callee'));
    expect(txs[0]!.state).toBe('terminated');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(statuses(h)).toEqual([200]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a second final response with a clear error', () => {
    h.transport.inject(bye, fakeFlow('udp'));
    txs[0]!.respond(response(bye, 200, 'callee'));
    expect(() => txs[0]!.respond(response(bye, 500, 'callee'))).toThrow(TransactionInputError);
    expect(statuses(h)).toEqual([200]);
  });

  it('terminates when the transport cannot send the response', async () => {
    h.transport.inject(bye, fakeFlow('udp'));
    h.transport.failWith = 'socket closed';
    txs[0]!.respond(response(bye, 200, 'callee'));
    await vi.advanceTimersByTimeAsync(0);
    expect(txs[0]!.state).toBe('terminated');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('has a transition function that rejects edges Figure 8 lacks', () => {
    expect(nonInviteServerTransition('trying', 'proceeding')).toBe('proceeding');
    expect(() => nonInviteServerTransition('completed', 'proceeding')).toThrow(IllegalTransitionError);
    expect(() => nonInviteServerTransition('proceeding', 'trying')).toThrow(IllegalTransitionError);
  });
});
