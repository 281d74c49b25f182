// The invite client's RFC 3262 (PRACK of a reliable 1xx) and late-offer (answer in the ACK, RFC 3261
// §13.2.2.4) rules, against the in-memory fakes: what goes on the wire.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { getCSeq, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { DialogRegistry } from '../../../gateway/sip/ua/dialogs.js';
import { InviteClient, type InviteClientSpec } from '../../../gateway/sip/ua/invite-client.js';
import { InviteServer } from '../../../gateway/sip/ua/invite-server.js';
import { REJECT_SESSION_CHANGES } from '../../../gateway/call/session-policy.js';
import { FakeFlow, FakeServerTx, FakeTransactions, FakeTransport, settle, sip } from '../call/fakes.js';

const logger = createLogger('silent');
const OFFER = 'v=0\r\no=trunk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const TARGET = { transport: 'udp' as const, address: '127.0.0.1', port: 5099 };

/** An INVITE with or without SDP that asks for (Require) or allows (Supported) 100rel, or neither. */
function invite(withSdp: boolean, option: 'Supported' | 'Require' | 'none' = 'Supported'): SipRequest {
  return sip(
    `INVITE sip:123@127.0.0.1:5099 SIP/2.0
     Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp1
     Max-Forwards: 70
     From: <sip:gw@127.0.0.1>;tag=utag
     To: <sip:123@127.0.0.1>
     Call-ID: prack-call
     CSeq: 10 INVITE
     ${option === 'none' ? 'X-No-100rel: 1' : `${option}: 100rel`}
     Contact: <sip:gw@127.0.0.1:5060>
     ${withSdp ? 'Content-Type: application/sdp' : 'X-No-Offer: 1'}`,
    withSdp ? OFFER : '',
  );
}

/** A response to our INVITE from tag `tag`; `extra` header lines (e.g. Require/RSeq). */
function res(status: number, tag: string, extra: string[] = [], body = ''): SipResponse {
  return sip<SipResponse>(
    `SIP/2.0 ${status} X
     Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp1
     From: <sip:gw@127.0.0.1>;tag=utag
     To: <sip:123@127.0.0.1>;tag=${tag}
     Call-ID: prack-call
     CSeq: 10 INVITE
     Contact: <sip:peer@127.0.0.1:5099>
     ${[...extra, body ? 'Content-Type: application/sdp' : 'X-None: 1'].join('\n')}`,
    body,
  );
}

function setup(spec: Partial<InviteClientSpec> = {}) {
  const transactions = new FakeTransactions();
  const transport = new FakeTransport();
  const events = { onProvisional: vi.fn(), onAnswer: vi.fn(), onFailure: vi.fn(), onHangup: vi.fn(), session: REJECT_SESSION_CHANGES };
  const via = { transport: 'udp' as const, sentBy: { address: '127.0.0.1', port: 5060 } };
  const client = new InviteClient({ transactions, transport, registry: new DialogRegistry(), logger }, { invite: invite(!spec.lateOffer), dest: TARGET, via, ...spec }, events);
  client.start();
  const inviteTx = transactions.method('INVITE')[0]!;
  const acks = () => transport.sent.map((s) => s.message as SipRequest).filter((m) => m.method === 'ACK');
  return { transactions, events, client, respond: (r: SipResponse) => inviteTx.handlers.onResponse(r), acks };
}

describe('invite client: reliable provisional responses (RFC 3262)', () => {
  it('PRACKs a reliable 183 in its early dialog with RAck "<RSeq> <CSeq> INVITE"; a retransmission is neither PRACKed nor processed', async () => {
    const { transactions, events, respond } = setup();
    const reliable = res(183, 'f1', ['Require: 100rel', 'RSeq: 7001'], OFFER);
    respond(reliable);
    respond(reliable);
    await settle();
    const pracks = transactions.method('PRACK');
    expect(pracks).toHaveLength(1);
    expect(getHeader(pracks[0]!.request, 'RAck')).toBe('7001 10 INVITE');
    expect(getTo(pracks[0]!.request).params.tag).toBe('f1');
    expect(pracks[0]!.request.uri).toBe('sip:peer@127.0.0.1:5099');
    expect(events.onProvisional).toHaveBeenCalledTimes(1);
    // The next in sequence is PRACKed; one skipping a number is dropped (§4).
    respond(res(180, 'f1', ['Require: 100rel', 'RSeq: 7003']));
    respond(res(180, 'f1', ['Require: 100rel', 'RSeq: 7002']));
    await settle();
    expect(transactions.method('PRACK').map((p) => getHeader(p.request, 'RAck'))).toEqual(['7001 10 INVITE', '7002 10 INVITE']);
    expect(events.onProvisional).toHaveBeenCalledTimes(2);
  });

  it('an unreliable 18x gets no PRACK; a reliable one without RSeq is ignored', async () => {
    const { transactions, events, respond } = setup();
    respond(res(180, 'f1'));
    respond(res(183, 'f1', ['Require: 100rel']));
    await settle();
    expect(transactions.method('PRACK')).toHaveLength(0);
    expect(events.onProvisional).toHaveBeenCalledTimes(1);
  });

  it('the confirmed dialog continues the early dialog CSeq: the BYE comes after the PRACK (§12.2.1.1)', async () => {
    const { transactions, client, respond, acks } = setup();
    respond(res(183, 'f1', ['Require: 100rel', 'RSeq: 1'], OFFER));
    respond(res(200, 'f1'));
    await settle();
    expect(acks()).toHaveLength(1);
    client.hangup();
    await settle();
    const prack = getCSeq(transactions.method('PRACK')[0]!.request).seq;
    expect(prack).toBe(11);
    expect(getCSeq(transactions.method('BYE')[0]!.request).seq).toBe(12);
  });
});

describe('invite client: late offer (RFC 3261 §13.2.2.4)', () => {
  it('the ACK waits for our answer and carries it; a 2xx retransmission gets the same ACK', async () => {
    const { events, client, respond, acks } = setup({ lateOffer: true });
    respond(res(200, 'f1', [], OFFER));
    await settle();
    expect(events.onAnswer).toHaveBeenCalledTimes(1);
    expect(acks()).toHaveLength(0);
    respond(res(200, 'f1', [], OFFER));
    await settle();
    expect(acks()).toHaveLength(0);
    client.sendAck('v=0 answer');
    client.sendAck('v=0 another');
    respond(res(200, 'f1', [], OFFER));
    await settle();
    expect(acks().map((a) => a.body.toString())).toEqual(['v=0 answer', 'v=0 answer']);
    expect(getHeader(acks()[0]!, 'Content-Type')).toBe('application/sdp');
    expect(getCSeq(acks()[0]!).seq).toBe(10);
  });

  it('an offer in a reliable 183 (RFC 3262 §5): its PRACK waits for our answer and carries it; the 2xx is ACKed at once, without SDP', async () => {
    const { transactions, events, client, respond, acks } = setup({ lateOffer: true });
    respond(res(183, 'f1', ['Require: 100rel', 'RSeq: 9'], OFFER));
    await settle();
    expect(events.onProvisional).toHaveBeenCalledTimes(1);
    expect(transactions.method('PRACK')).toHaveLength(0);
    client.answerEarlyOffer('v=0 early answer');
    client.answerEarlyOffer('v=0 again');
    await settle();
    const pracks = transactions.method('PRACK');
    expect(pracks.map((p) => p.request.body.toString())).toEqual(['v=0 early answer']);
    expect(getHeader(pracks[0]!.request, 'RAck')).toBe('9 10 INVITE');
    respond(res(200, 'f1'));
    await settle();
    expect(acks()).toHaveLength(1);
    expect(acks()[0]!.body.length).toBe(0);
  });

  it('ended before the answer: an ACK with the refusing answer, then BYE', async () => {
    const refuseOffer = vi.fn((offer: string) => `refused(${offer.length})`);
    const { transactions, client, respond, acks } = setup({ lateOffer: true, refuseOffer });
    respond(res(200, 'f1', [], OFFER));
    await settle();
    client.hangup();
    await settle();
    expect(refuseOffer).toHaveBeenCalledWith(OFFER);
    expect(acks().map((a) => a.body.toString())).toEqual([`refused(${OFFER.length})`]);
    expect(transactions.method('BYE')).toHaveLength(1);
  });
});

function serverSetup(option: 'Supported' | 'Require' | 'none' = 'Supported') {
  const registry = new DialogRegistry();
  const flow = new FakeFlow('ws-1');
  const tx = new FakeServerTx(invite(true, option), flow);
  const events = { onHangup: vi.fn(), onAckTimeout: vi.fn(), onCancel: vi.fn(), onNoPrack: vi.fn(), session: REJECT_SESSION_CHANGES };
  const server = new InviteServer(tx, { transactions: new FakeTransactions(), transport: new FakeTransport(), registry, logger }, events);
  /** The caller's PRACK for RSeq `rseq`, routed the way the dispatcher does (by dialog). */
  const prack = (rseq: number, cseq = 11): FakeServerTx => {
    const req = sip(`PRACK sip:gw@127.0.0.1 SIP/2.0
      Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKpr${cseq}
      Max-Forwards: 70
      From: <sip:gw@127.0.0.1>;tag=utag
      To: <sip:123@127.0.0.1>;tag=${server.localTag}
      Call-ID: prack-call
      CSeq: ${cseq} PRACK
      RAck: ${rseq} 10 INVITE`);
    const t = new FakeServerTx(req, flow);
    registry.forRequest(req)!.onRequest(req, t);
    return t;
  };
  const rseqOf = (r: SipResponse) => Number(getHeader(r, 'RSeq'));
  return { tx, server, events, prack, rseqOf, registry };
}

describe('invite server: reliable provisional responses (RFC 3262 §3)', () => {
  afterEach(() => vi.useRealTimers());

  it('Supported: 100rel → our 183 carries Require: 100rel and RSeq; the 2xx waits for the PRACK (200), which stops the retransmissions', () => {
    vi.useFakeTimers();
    const { tx, server, prack, rseqOf } = serverSetup('Supported');
    server.provisional(183, 'Session Progress', OFFER);
    const first = tx.last;
    expect(getHeader(first, 'Require')).toBe('100rel');
    const rseq = rseqOf(first);
    expect(rseq).toBeGreaterThanOrEqual(1);
    server.accept(OFFER);
    expect(tx.statuses).toEqual([183]); // held: §3 "MUST NOT send a final response" before the PRACK
    vi.advanceTimersByTime(500);
    vi.advanceTimersByTime(1000);
    expect(tx.statuses).toEqual([183, 183, 183]); // T1, then 2*T1
    expect(prack(rseq + 1).statuses).toEqual([481]); // matches nothing
    expect(prack(rseq, 12).statuses).toEqual([200]);
    expect(tx.statuses).toEqual([183, 183, 183, 200]);
    vi.advanceTimersByTime(40_000);
    expect(tx.statuses).toEqual([183, 183, 183, 200]);
  });

  it('no PRACK: retransmitted at T1 doubling for 64*T1, then 504 and onNoPrack', () => {
    vi.useFakeTimers();
    const { tx, server, events, registry } = serverSetup('Require');
    server.provisional(183, 'Session Progress', OFFER);
    server.accept(OFFER);
    vi.advanceTimersByTime(31_999);
    expect(tx.statuses.filter((s) => s === 183)).toHaveLength(7); // 0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s
    expect(events.onNoPrack).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(tx.last.status).toBe(504);
    expect(events.onNoPrack).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(0);
  });

  it('a second reliable 1xx waits for the PRACK of the first, then goes with RSeq + 1', () => {
    vi.useFakeTimers();
    const { tx, server, prack, rseqOf } = serverSetup('Require');
    server.provisional(180, 'Ringing');
    server.provisional(183, 'Session Progress', OFFER);
    expect(tx.statuses).toEqual([180]);
    const rseq = rseqOf(tx.last);
    prack(rseq);
    expect(tx.statuses).toEqual([180, 183]);
    expect(rseqOf(tx.last)).toBe(rseq + 1);
  });

  it('without 100rel in the INVITE the 1xx is unreliable and the 2xx goes at once', () => {
    const { tx, server } = serverSetup('none');
    server.provisional(183, 'Session Progress', OFFER);
    expect(getHeader(tx.last, 'RSeq')).toBeUndefined();
    server.accept(OFFER);
    expect(tx.statuses).toEqual([183, 200]);
  });
});
