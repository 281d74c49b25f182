import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseMessage, serializeMessage, validateRequest } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { ackKeyOfRequest, ackKeyOfResponse, clientKeyOfResponse, serverKey } from '../../../gateway/sip/transaction/keys.js';
import { buildNon2xxAck } from '../../../gateway/sip/transaction/msg.js';
import { fakeFlow } from './fake-transport.js';
import { request, response } from './messages.js';
import { harness } from './setup.js';

describe('transaction matching keys', () => {
  it('maps an ACK to the INVITE server transaction key (§17.2.3) and compares sent-by host case-insensitively', () => {
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-k', sentBy: 'Host.Example:5070' });
    const ack = request({ method: 'ACK', branch: 'z9hG4bK-k', sentBy: 'host.example:5070' });
    expect(serverKey(ack)).toBe(serverKey(invite));
    expect(serverKey(request({ method: 'CANCEL', branch: 'z9hG4bK-k' }))).not.toBe(serverKey(invite));
    expect(serverKey(request({ method: 'INVITE', branch: 'legacy' }))).toBeUndefined();
  });

  it('keys responses by branch and CSeq method (§17.1.3)', () => {
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-r' });
    const cancel = request({ method: 'CANCEL', branch: 'z9hG4bK-r' });
    expect(clientKeyOfResponse(response(invite, 180))).toBe('z9hG4bK-r|INVITE');
    expect(clientKeyOfResponse(response(cancel, 200))).toBe('z9hG4bK-r|CANCEL');
  });

  it('ties an ACK for a 2xx (new branch) to the INVITE and the 2xx by Call-ID, CSeq and tags', () => {
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-a', fromTag: 'f', cseq: 7 });
    const ok = response(invite, 200, 'callee');
    const ack = request({ method: 'ACK', branch: 'z9hG4bK-other', fromTag: 'f', toTag: 'callee', cseq: 7 });
    expect(ackKeyOfRequest(ack)).toBeDefined();
    expect(ackKeyOfRequest(ack)).toBe(ackKeyOfResponse(invite, ok));
    const wrongTag = request({ method: 'ACK', branch: 'z9hG4bK-other', fromTag: 'f', toTag: 'nope', cseq: 7 });
    expect(ackKeyOfRequest(wrongTag)).not.toBe(ackKeyOfResponse(invite, ok));
  });
});

describe('the ACK for a non-2xx final (§17.1.1.3)', () => {
  it('serializes into a valid ACK with one Via, the Routes, the response To and CSeq n ACK', () => {
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-s', cseq: 42, routes: ['<sip:p1.example;lr>', '<sip:p2.example;lr>'] });
    invite.headers.unshift({ name: 'Via', value: 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-top' });
    const ack = buildNon2xxAck(invite, response(invite, 404, 'tt'));
    const parsed = parseMessage(serializeMessage(ack)) as SipRequest;
    expect(() => validateRequest(parsed)).not.toThrow();
    expect(parsed.method).toBe('ACK');
    expect(parsed.headers.filter((h) => h.name === 'Via').map((h) => h.value)).toEqual([
      'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-top',
    ]);
    expect(parsed.headers.filter((h) => h.name === 'Route').map((h) => h.value)).toEqual([
      '<sip:p1.example;lr>',
      '<sip:p2.example;lr>',
    ]);
    expect(parsed.headers.find((h) => h.name === 'CSeq')?.value).toBe('42 ACK');
    expect(parsed.headers.find((h) => h.name === 'To')?.value).toContain(';tag=tt');
  });
});

describe('ACK for a 2xx that reuses the INVITE branch', () => {
  afterEach(() => vi.useRealTimers());

  it('still reaches onAck and stops the 2xx retransmissions', async () => {
    const h = harness();
    const acks: SipRequest[] = [];
    const invite = request({ method: 'INVITE', branch: 'z9hG4bK-same', fromTag: 'f' });
    h.layer.onRequest((_r, tx) => tx.respond(response(invite, 200, 'callee')));
    h.layer.onAck((a) => acks.push(a));
    h.transport.inject(invite, fakeFlow('udp'));
    await vi.advanceTimersByTimeAsync(600);
    h.transport.inject(request({ method: 'ACK', branch: 'z9hG4bK-same', fromTag: 'f', toTag: 'callee' }), fakeFlow('udp'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(acks).toHaveLength(1);
    expect(h.transport.sent.map((s) => s.at)).toEqual([0, 500]);
    h.layer.close();
  });
});
