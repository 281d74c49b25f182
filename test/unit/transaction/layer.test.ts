import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipMessage, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import type { Flow } from '../../../gateway/sip/transport/types.js';
import { TransactionInputError, type ServerTransaction } from '../../../gateway/sip/transaction/index.js';
import { fakeFlow } from './fake-transport.js';
import { header, request, response } from './messages.js';
import { harness, recordingHandlers, type Harness } from './setup.js';

interface Delivered {
  request: SipRequest;
  tx: ServerTransaction;
  matchingInvite?: ServerTransaction;
}

describe('transaction layer: matching, CANCEL, stray responses, close()', () => {
  let h: Harness;
  let delivered: Delivered[];
  const flow = fakeFlow('udp');
  beforeEach(() => {
    h = harness();
    delivered = [];
    h.layer.onRequest((req, tx, matchingInvite) => delivered.push({ request: req, tx, matchingInvite }));
  });
  afterEach(() => {
    h.layer.close();
    vi.useRealTimers();
  });

  it('delivers a CANCEL with the INVITE server transaction of the same branch (§9.2)', () => {
    h.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-1' }), flow);
    const cancel = request({ method: 'CANCEL', branch: 'z9hG4bK-1' });
    h.transport.inject(cancel, flow);
    expect(delivered).toHaveLength(2);
    expect(delivered[1]!.request).toBe(cancel);
    expect(delivered[1]!.matchingInvite).toBe(delivered[0]!.tx);
    expect(delivered[1]!.tx).not.toBe(delivered[0]!.tx);
    h.transport.inject(cancel, flow); // retransmitted CANCEL is absorbed by its own transaction
    expect(delivered).toHaveLength(2);
  });

  it('delivers a CANCEL matching nothing with matchingInvite undefined (TU answers 481)', () => {
    h.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-1', sentBy: '127.0.0.1:5070' }), flow);
    h.transport.inject(request({ method: 'CANCEL', branch: 'z9hG4bK-1', sentBy: '127.0.0.1:5999' }), flow);
    h.transport.inject(request({ method: 'CANCEL', branch: 'z9hG4bK-2' }), flow);
    expect(delivered.map((d) => d.matchingInvite)).toEqual([undefined, undefined, undefined]);
  });

  it('matches server transactions by branch, sent-by and method (§17.2.3)', () => {
    h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-1' }), flow);
    h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-1' }), flow);
    h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-1', sentBy: '127.0.0.1:6000' }), flow);
    h.transport.inject(request({ method: 'INFO', branch: 'z9hG4bK-1' }), flow);
    h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-2' }), flow);
    expect(delivered).toHaveLength(4);
  });

  it('treats RFC 2543 requests (no magic cookie) as new every time', () => {
    h.transport.inject(request({ method: 'OPTIONS', branch: 'old-style' }), flow);
    h.transport.inject(request({ method: 'OPTIONS', branch: 'old-style' }), flow);
    expect(delivered).toHaveLength(2);
  });

  it('matches client responses by branch and CSeq method (§17.1.3): a CANCEL 200 does not reach the INVITE', async () => {
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-c' });
    const cancel = request({ method: 'CANCEL', branch: 'z9hG4bK-c' });
    const inviteTu = recordingHandlers();
    const cancelTu = recordingHandlers();
    h.layer.sendRequest(invite, flow, inviteTu);
    h.layer.sendRequest(cancel, flow, cancelTu);
    await vi.advanceTimersByTimeAsync(0);
    h.transport.inject(response(cancel, 200, 't'), flow);
    h.transport.inject(response(invite, 487, 't'), flow);
    expect(cancelTu.responses.map((r) => r.status)).toEqual([200]);
    expect(inviteTu.responses.map((r) => r.status)).toEqual([487]);
  });

  it('passes responses matching no transaction to onStrayResponse with their flow', () => {
    const stray: Array<[SipResponse, Flow]> = [];
    h.layer.onStrayResponse((r, f) => stray.push([r, f]));
    const lost = response(request({ method: 'INVITE', branch: 'z9hG4bK-gone' }), 200, 't');
    h.transport.inject(lost, flow);
    expect(stray).toEqual([[lost, flow]]);
  });

  it('passes an ACK matching no transaction to onAck', () => {
    const acks: SipRequest[] = [];
    h.layer.onAck((a) => acks.push(a));
    const ack = request({ method: 'ACK', branch: 'z9hG4bK-a', toTag: 'x' });
    h.transport.inject(ack, flow);
    expect(acks).toEqual([ack]);
    expect(delivered).toEqual([]);
  });

  it('rejects unusable requests from the TU with a clear reason', () => {
    const tu = recordingHandlers();
    expect(() => h.layer.sendRequest(request({ method: 'OPTIONS', branch: 'nocookie' }), flow, tu)).toThrow(
      /branch/,
    );
    expect(() => h.layer.sendRequest(request({ method: 'ACK' }), flow, tu)).toThrow(TransactionInputError);
    const opts = request({ method: 'OPTIONS', branch: 'z9hG4bK-dup' });
    h.layer.sendRequest(opts, flow, tu);
    expect(() => h.layer.sendRequest(opts, flow, tu)).toThrow(/already exists/);
    const noVia: SipRequest = { ...opts, headers: opts.headers.filter((x) => x.name !== 'Via') };
    expect(() => h.layer.sendRequest(noVia, flow, tu)).toThrow(/missing Via/);
  });

  it('drops malformed inbound messages without throwing', () => {
    const bad: SipMessage = { ...request({ method: 'OPTIONS' }), headers: [{ name: 'Via', value: 'garbage' }] };
    expect(() => h.transport.inject(bad, flow)).not.toThrow();
    const noCseq: SipMessage = { ...response(request({ method: 'OPTIONS' }), 200), headers: [] };
    expect(() => h.transport.inject(noCseq, flow)).not.toThrow();
    expect(delivered).toEqual([]);
  });

  it('keeps going when a TU handler throws, answering 500 so the transaction can end', () => {
    h.layer.onRequest(() => {
      throw new Error('TU bug');
    });
    expect(() => h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-t1' }), flow)).not.toThrow();
    h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-t2' }), flow);
    expect(delivered).toHaveLength(2);
    expect(delivered.map((d) => d.tx.state)).toEqual(['completed', 'completed']);
    expect(h.transport.sent.map((s) => (s.message as SipResponse).status)).toEqual([500, 500]);
  });

  it('reports a transport error on a TCP target through onTransportError', async () => {
    h.transport.failWith = 'ECONNREFUSED';
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(request({ method: 'REGISTER' }), { address: '127.0.0.1', port: 5070, transport: 'tcp' }, tu);
    await vi.advanceTimersByTimeAsync(0);
    expect(tu.errors).toHaveLength(1);
    expect(tu.errors[0]!.name).toBe('TransportError');
    expect(tx.state).toBe('terminated');
  });

  it('close() clears every timer and ignores later traffic', async () => {
    const inviteTu = recordingHandlers();
    h.layer.sendRequest(request({ method: 'INVITE', branch: 'z9hG4bK-ci' }), flow, inviteTu);
    h.layer.sendRequest(request({ method: 'OPTIONS', branch: 'z9hG4bK-co' }), flow, recordingHandlers());
    h.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-si' }), flow);
    h.transport.inject(request({ method: 'INVITE', branch: 'z9hG4bK-si2', callId: 'c2' }), flow);
    h.transport.inject(request({ method: 'MESSAGE', branch: 'z9hG4bK-sm' }), flow);
    const [inv1, inv2, msg] = delivered.map((d) => d.tx);
    inv2!.respond(response(delivered[1]!.request, 200, 'x'));
    msg!.respond(response(delivered[2]!.request, 200, 'x'));
    await vi.advanceTimersByTimeAsync(100);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    h.layer.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(inv1!.state).toBe('terminated');
    h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-late' }), flow);
    expect(delivered).toHaveLength(3);
    expect(inviteTu.timeouts).toEqual([]);
    expect(() => h.layer.sendRequest(request({ method: 'OPTIONS', branch: 'z9hG4bK-x' }), flow, inviteTu)).toThrow(/closed/);
  });
});

describe('transaction layer without a request handler', () => {
  afterEach(() => vi.useRealTimers());

  it('answers 503 with a To tag so the server transaction can finish', () => {
    const h = harness();
    h.transport.inject(request({ method: 'OPTIONS', branch: 'z9hG4bK-n' }), fakeFlow('udp'));
    const sent = h.transport.sent.map((s) => s.message as SipResponse);
    expect(sent.map((r) => r.status)).toEqual([503]);
    expect(header(sent[0]!, 'To')).toMatch(/;tag=[\w-]+$/);
    h.layer.close();
  });
});
