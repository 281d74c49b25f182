import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipMessage, SipRequest } from '../../../gateway/sip/message/types.js';
import type { Flow } from '../../../gateway/sip/transport/types.js';
import {
  IllegalTransitionError,
  inviteServerTransition,
  TransactionInputError,
  type ServerTransaction,
} from '../../../gateway/sip/transaction/index.js';
import { fakeFlow } from './fake-transport.js';
import { header, request, response } from './messages.js';
import { harness, type Harness } from './setup.js';

const status = (code: number) => (m: SipMessage): boolean => m.kind === 'response' && m.status === code;

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  let h: Harness;
  let invite: SipRequest;
  let flow: Flow;
  let txs: ServerTransaction[];
  let acks: SipRequest[];
  beforeEach(() => {
    h = harness();
    invite = request({ method: 'INVITE', branch: 'z9hG4bK-inv', fromTag: 'caller' });
    flow = fakeFlow('udp');
    txs = [];
    acks = [];
    h.layer.onRequest((_req, tx) => txs.push(tx));
    h.layer.onAck((ack) => acks.push(ack));
  });
  afterEach(() => {
    h.layer.close();
    vi.useRealTimers();
  });

  const receiveInvite = (): ServerTransaction => {
    h.transport.inject(invite, flow);
    expect(txs).toHaveLength(1);
    return txs[0]!;
  };
  /** ACK for a non-2xx: same branch as the INVITE (§17.1.1.3). */
  const non2xxAck = (): SipRequest => request({ method: 'ACK', branch: 'z9hG4bK-inv', fromTag: 'caller', toTag: 'callee' });
  /** ACK for a 2xx: a new transaction with its own branch (§13.2.2.4). */
  const ackFor2xx = (): SipRequest => request({ method: 'ACK', branch: 'z9hG4bK-ack2xx', fromTag: 'caller', toTag: 'callee' });

  it('sends 100 Trying (without To tag) once after 200 ms when the TU is silent', async () => {
    receiveInvite();
    await vi.advanceTimersByTimeAsync(199);
    expect(h.transport.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.transport.timesOf(status(100))).toEqual([200]);
    const trying = h.transport.sent[0]!.message;
    expect(header(trying, 'To')).toBe(header(invite, 'To'));
    expect(header(trying, 'Via')).toBe(header(invite, 'Via'));
    expect(h.transport.sent[0]!.dest).toBe(flow);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.transport.sent).toHaveLength(1);
    h.transport.inject(invite, flow); // a retransmitted INVITE gets the 100 again
    expect(h.transport.timesOf(status(100))).toEqual([200, 10_200]);
  });

  it('sends no 100 Trying when the TU answers within 200 ms', async () => {
    const tx = receiveInvite();
    await vi.advanceTimersByTimeAsync(50);
    tx.respond(response(invite, 180, 'callee'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.transport.sent.map((s) => (s.message as { status: number }).status)).toEqual([180]);
  });

  it('absorbs INVITE retransmissions and re-sends the latest provisional', async () => {
    const tx = receiveInvite();
    h.transport.inject(invite, flow);
    expect(h.transport.sent).toHaveLength(0);
    tx.respond(response(invite, 180, 'callee'));
    tx.respond(response(invite, 183, 'callee'));
    h.transport.inject(invite, flow);
    expect(h.transport.sent.map((s) => (s.message as { status: number }).status)).toEqual([180, 183, 183]);
    expect(txs).toHaveLength(1);
  });

  it('retransmits a 486 with Timer G (T1 doubling to T2) until the ACK, which it absorbs; Timer I ends it', async () => {
    const tx = receiveInvite();
    tx.respond(response(invite, 486, 'callee'));
    expect(tx.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(12_000);
    expect(h.transport.timesOf(status(486))).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    h.transport.inject(invite, flow); // INVITE retransmission re-sends the final
    expect(h.transport.timesOf(status(486))).toHaveLength(7);
    h.transport.inject(non2xxAck(), flow);
    expect(tx.state).toBe('confirmed');
    expect(acks).toEqual([]);
    h.transport.inject(non2xxAck(), flow); // absorbed in Confirmed
    await vi.advanceTimersByTimeAsync(4_999);
    expect(h.transport.timesOf(status(486))).toHaveLength(7);
    expect(tx.state).toBe('confirmed');
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
    expect(acks).toEqual([]);
  });

  it('gives up at Timer H (64*T1) when no ACK comes', async () => {
    const tx = receiveInvite();
    tx.respond(response(invite, 486, 'callee'));
    await vi.advanceTimersByTimeAsync(31_999);
    expect(tx.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
    const sends = h.transport.timesOf(status(486));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.transport.timesOf(status(486))).toEqual(sends);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('over a reliable flow: no Timer G, and the ACK terminates at once (Timer I = 0)', async () => {
    flow = fakeFlow('tcp');
    const tx = receiveInvite();
    tx.respond(response(invite, 486, 'callee'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.transport.timesOf(status(486))).toEqual([0]);
    h.transport.inject(non2xxAck(), flow);
    expect(tx.state).toBe('terminated');
  });

  it('retransmits a 2xx (§13.3.1.4 in Accepted) until its ACK, which goes to onAck and stops them', async () => {
    const tx = receiveInvite();
    tx.respond(response(invite, 200, 'callee'));
    expect(tx.state).toBe('accepted');
    const timeouts: number[] = [];
    tx.onAckTimeout(() => timeouts.push(Date.now()));
    await vi.advanceTimersByTimeAsync(8_000);
    expect(h.transport.timesOf(status(200))).toEqual([0, 500, 1500, 3500, 7500]);
    h.transport.inject(invite, flow); // RFC 6026: INVITE retransmissions absorbed in Accepted
    expect(h.transport.timesOf(status(200))).toHaveLength(5);
    const ack = ackFor2xx();
    h.transport.inject(ack, flow);
    expect(acks).toEqual([ack]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.transport.timesOf(status(200))).toHaveLength(5);
    h.transport.inject(ack, flow); // still Accepted: every ACK goes up
    expect(acks).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4_000); // Timer L at 32 s
    expect(tx.state).toBe('terminated');
    expect(timeouts).toEqual([]);
    expect(txs).toHaveLength(1);
  });

  it('fires onAckTimeout at 64*T1 when the 2xx is never ACKed, after retransmitting capped at T2', async () => {
    const tx = receiveInvite();
    const timeouts: number[] = [];
    tx.onAckTimeout(() => timeouts.push(Date.now()));
    tx.respond(response(invite, 200, 'callee'));
    await vi.advanceTimersByTimeAsync(31_999);
    expect(h.transport.timesOf(status(200))).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(timeouts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(timeouts).toEqual([32_000]);
    expect(tx.state).toBe('terminated');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(timeouts).toHaveLength(1);
    expect(h.transport.timesOf(status(200))).toHaveLength(11);
  });

  it('does not retransmit a 2xx over a reliable flow but still reports a missing ACK', async () => {
    flow = fakeFlow('wss');
    const tx = receiveInvite();
    const timeouts: number[] = [];
    tx.onAckTimeout(() => timeouts.push(Date.now()));
    tx.respond(response(invite, 200, 'callee'));
    await vi.advanceTimersByTimeAsync(32_000);
    expect(h.transport.timesOf(status(200))).toEqual([0]);
    expect(timeouts).toEqual([32_000]);
  });

  it('sends a further 2xx from the TU in Accepted and rejects a non-2xx there', () => {
    const tx = receiveInvite();
    tx.respond(response(invite, 200, 'callee'));
    tx.respond(response(invite, 200, 'callee'));
    expect(h.transport.timesOf(status(200))).toHaveLength(2);
    expect(() => tx.respond(response(invite, 486, 'callee'))).toThrow(TransactionInputError);
    expect(() => tx.respond({ kind: 'response', status: 42 } as never)).toThrow(/status 100-699/);
  });

  it('terminates (and logs) when sending a response fails', async () => {
    const tx = receiveInvite();
    h.transport.failWith = 'connection reset';
    tx.respond(response(invite, 486, 'callee'));
    await vi.advanceTimersByTimeAsync(0);
    expect(tx.state).toBe('terminated');
    expect(vi.getTimerCount()).toBe(0);
    expect(() => tx.respond(response(invite, 486, 'callee'))).not.toThrow();
  });

  it('has a transition function that rejects edges Figure 7 / RFC 6026 lack', () => {
    expect(inviteServerTransition('proceeding', 'accepted')).toBe('accepted');
    expect(() => inviteServerTransition('accepted', 'completed')).toThrow(IllegalTransitionError);
    expect(() => inviteServerTransition('confirmed', 'completed')).toThrow(IllegalTransitionError);
    expect(() => inviteServerTransition('proceeding', 'confirmed')).toThrow(IllegalTransitionError);
  });
});
