import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipMessage, SipRequest } from '../../../gateway/sip/message/types.js';
import { IllegalTransitionError, inviteClientTransition } from '../../../gateway/sip/transaction/index.js';
import { fakeFlow } from './fake-transport.js';
import { header, request, response } from './messages.js';
import { harness, recordingHandlers, type Harness } from './setup.js';

const isInvite = (m: SipMessage): boolean => m.kind === 'request' && m.method === 'INVITE';
const isAck = (m: SipMessage): boolean => m.kind === 'request' && m.method === 'ACK';
const udpTarget = { address: '127.0.0.1', port: 5070, transport: 'udp' as const };

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2)', () => {
  let h: Harness;
  let invite: SipRequest;
  beforeEach(() => {
    h = harness();
    invite = request({ method: 'INVITE', routes: ['<sip:proxy.example;lr>'] });
  });
  afterEach(() => {
    h.layer.close();
    vi.useRealTimers();
  });

  it('retransmits over UDP with Timer A at 0.5, 1, 2, 4, 8, 16 s intervals and fires Timer B once at 32 s', async () => {
    const tu = recordingHandlers();
    h.layer.sendRequest(invite, udpTarget, tu);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(h.transport.timesOf(isInvite)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(tu.timeouts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(tu.timeouts).toEqual([32_000]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(tu.timeouts).toHaveLength(1);
    expect(h.transport.timesOf(isInvite)).toHaveLength(7);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not retransmit over a reliable flow but still times out with Timer B', async () => {
    const tu = recordingHandlers();
    h.layer.sendRequest(invite, fakeFlow('tcp'), tu);
    await vi.advanceTimersByTimeAsync(32_000);
    expect(h.transport.timesOf(isInvite)).toEqual([0]);
    expect(tu.timeouts).toEqual([32_000]);
  });

  it('stops retransmitting and disarms Timer B on a provisional response (Proceeding)', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(invite, udpTarget, tu);
    await vi.advanceTimersByTimeAsync(600);
    h.transport.inject(response(invite, 180, 'to-1'), fakeFlow());
    expect(tx.state).toBe('proceeding');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.transport.timesOf(isInvite)).toEqual([0, 500]);
    expect(tu.timeouts).toEqual([]);
    expect(tu.responses.map((r) => r.status)).toEqual([180]);
  });

  it('ACKs a 486 itself (§17.1.1.3) and re-sends the ACK for a retransmitted 486 without passing it up', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(invite, udpTarget, tu);
    await vi.advanceTimersByTimeAsync(100);
    const busy = response(invite, 486, 'callee-tag');
    h.transport.inject(busy, fakeFlow());
    expect(tx.state).toBe('completed');
    const acks = h.transport.sent.filter((s) => isAck(s.message));
    expect(acks).toHaveLength(1);
    const ack = acks[0]!.message as SipRequest;
    expect(ack.uri).toBe(invite.uri);
    expect(header(ack, 'Via')).toBe(header(invite, 'Via'));
    expect(header(ack, 'From')).toBe(header(invite, 'From'));
    expect(header(ack, 'To')).toBe(header(busy, 'To'));
    expect(header(ack, 'To')).toContain('tag=callee-tag');
    expect(header(ack, 'Call-ID')).toBe('call-1');
    expect(header(ack, 'CSeq')).toBe('1 ACK');
    expect(header(ack, 'Route')).toBe('<sip:proxy.example;lr>');
    await vi.advanceTimersByTimeAsync(2_000);
    h.transport.inject(busy, fakeFlow());
    expect(h.transport.sent.filter((s) => isAck(s.message))).toHaveLength(2);
    expect(tu.responses.map((r) => r.status)).toEqual([486]);
    expect(h.transport.timesOf(isInvite)).toEqual([0]);
  });

  it('leaves Completed after Timer D (32 s over UDP): later 486 retransmissions are stray', async () => {
    const stray: number[] = [];
    h.layer.onStrayResponse((r) => stray.push(r.status));
    const tx = h.layer.sendRequest(invite, udpTarget, recordingHandlers());
    await vi.advanceTimersByTimeAsync(0);
    h.transport.inject(response(invite, 486, 't'), fakeFlow());
    await vi.advanceTimersByTimeAsync(31_999);
    expect(tx.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
    h.transport.inject(response(invite, 486, 't'), fakeFlow());
    expect(stray).toEqual([486]);
  });

  it('terminates at once after a non-2xx final over a reliable flow (Timer D = 0)', async () => {
    const tx = h.layer.sendRequest(invite, fakeFlow('tcp'), recordingHandlers());
    await vi.advanceTimersByTimeAsync(0);
    h.transport.inject(response(invite, 603, 't'), fakeFlow('tcp'));
    expect(tx.state).toBe('terminated');
    expect(h.transport.sent.filter((s) => isAck(s.message))).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('moves to Accepted on a 2xx, passes 2xx retransmissions up, sends no ACK, and ends at Timer M', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(invite, udpTarget, tu);
    await vi.advanceTimersByTimeAsync(0);
    const ok = response(invite, 200, 'callee');
    h.transport.inject(ok, fakeFlow());
    expect(tx.state).toBe('accepted');
    h.transport.inject(ok, fakeFlow());
    h.transport.inject(response(invite, 200, 'other-fork'), fakeFlow());
    expect(tu.responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(h.transport.sent.filter((s) => isAck(s.message))).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(tx.state).toBe('accepted');
    expect(h.transport.timesOf(isInvite)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
    expect(tu.timeouts).toEqual([]);
  });

  it('reports a transport failure of the first send through onTransportError and terminates', async () => {
    h.transport.failWith = 'connection refused';
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(invite, udpTarget, tu);
    await expect(tx.flow).rejects.toThrow('connection refused');
    await vi.advanceTimersByTimeAsync(0);
    expect(tu.errors.map((e) => e.message)).toEqual(['connection refused']);
    expect(tx.state).toBe('terminated');
    await vi.advanceTimersByTimeAsync(40_000);
    expect(tu.timeouts).toEqual([]);
    expect(h.transport.timesOf(isInvite)).toEqual([0]);
  });

  it('sends retransmissions on the flow the first send resolved', async () => {
    const tx = h.layer.sendRequest(invite, udpTarget, recordingHandlers());
    const flow = await tx.flow;
    await vi.advanceTimersByTimeAsync(500);
    expect(h.transport.sent[1]!.dest).toBe(flow);
  });

  it('has a transition function that rejects edges Figure 5 lacks', () => {
    expect(inviteClientTransition('calling', 'accepted')).toBe('accepted');
    expect(() => inviteClientTransition('completed', 'accepted')).toThrow(IllegalTransitionError);
    expect(() => inviteClientTransition('accepted', 'proceeding')).toThrow(/accepted -> proceeding/);
    expect(() => inviteClientTransition('terminated', 'calling')).toThrow(IllegalTransitionError);
  });
});
