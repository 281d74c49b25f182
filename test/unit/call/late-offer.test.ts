// Late offer across the B2BUA (call/late-offer.ts, dial.ts): a caller INVITE without SDP is passed
// through (the trunk offers in its 2xx, we offer the caller in ours, the caller's ACK answer reaches the
// trunk's ACK), and a trunk with lateOffer: true gets an INVITE without SDP and our answer in its ACK.
import sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { getCSeq, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { settle, sip, TRUNK_OFFER, WEBRTC_ANSWER, type FakeServerTx } from './fakes.js';
import { setup, testConfig } from './harness.js';

const LATE_TRUNK_OFFER = 'v=0\r\no=t 5 5 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';
const BROWSER_ANSWER = 'v=0\r\no=- 4 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n';

/** The browser's ACK for our 2xx, with `body` (its answer) or none. */
function browserAck(s: ReturnType<typeof setup>, tx: FakeServerTx, body = ''): void {
  const ok = tx.responses.find((r) => r.status === 200)!;
  const ack = sip(
    `ACK sip:gateway@127.0.0.1:8080;transport=ws SIP/2.0
     Via: SIP/2.0/WS br.invalid;branch=z9hG4bKack${getCSeq(tx.request).seq}
     Max-Forwards: 70
     From: <sip:alice@gw.test>;tag=btag
     To: <sip:x@gw.test>;tag=${getTo(ok).params.tag}
     Call-ID: browser-call
     CSeq: ${getCSeq(tx.request).seq} ACK
     ${body ? 'Content-Type: application/sdp' : 'X-None: 1'}`,
    body,
  );
  s.transactions.deliverAck(ack, s.flow);
}

const trunkAcks = (s: ReturnType<typeof setup>) => s.transport.sent.map((m) => m.message as SipRequest).filter((m) => m.method === 'ACK');

describe('a caller\'s late offer, passed through to the trunk', () => {
  it('trunk INVITE without SDP; its 2xx offer → our 2xx offer (WebRTC for a browser); the browser\'s ACK answer → the trunk\'s ACK', async () => {
    const s = setup();
    const tx = s.invite('5551234', { sdp: '' });
    await settle();
    const out = s.trunkInvite().request;
    expect(out.body.length).toBe(0);
    expect(getHeader(out, 'Content-Type')).toBeUndefined();
    s.trunkResponds(200, { body: LATE_TRUNK_OFFER });
    await settle();
    expect(s.media.calls.map((c) => c.op)).toEqual(['offer']);
    expect(s.media.calls[0]!.req).toMatchObject({ fromTag: 'trunktag', sdp: LATE_TRUNK_OFFER, toProfile: 'webrtc' });
    expect(tx.last.status).toBe(200);
    expect(tx.last.body.toString()).toBe(TRUNK_OFFER); // what the (fake) engine offered
    expect(trunkAcks(s)).toHaveLength(0); // the trunk's ACK waits for the caller's answer
    browserAck(s, tx, BROWSER_ANSWER);
    await settle();
    expect(s.media.calls[1]).toMatchObject({ op: 'answer', req: { fromTag: 'trunktag', toTag: 'btag', sdp: BROWSER_ANSWER } });
    const acks = trunkAcks(s);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.body.toString()).toBe(WEBRTC_ANSWER); // the engine's answer for the trunk
    expect(s.service.status().calls).toBe(1);
  });

  it('a caller ACK without an answer: the trunk\'s ACK refuses its offer (port 0), then BYE on both sides', async () => {
    const s = setup();
    const tx = s.invite('5551234', { sdp: '' });
    await settle();
    s.trunkResponds(200, { body: LATE_TRUNK_OFFER });
    await settle();
    browserAck(s, tx);
    await settle();
    const acks = trunkAcks(s);
    expect(acks).toHaveLength(1);
    expect(sdpTransform.parse(acks[0]!.body.toString()).media.map((m) => m.port)).toEqual([0]);
    expect(s.transactions.method('BYE').length).toBe(2);
    expect(s.service.status().calls).toBe(0);
  });

  it('a 2xx without an offer to our late-offer INVITE (RFC 3261 §13.2.1 violated): ACK, BYE, 502 to the caller', async () => {
    const s = setup();
    const tx = s.invite('5551234', { sdp: '' });
    await settle();
    s.trunkResponds(200);
    await settle();
    expect(tx.last.status).toBe(502);
    expect(trunkAcks(s)).toHaveLength(1);
    expect(s.transactions.method('BYE')).toHaveLength(1);
  });
});

describe('a trunk with lateOffer: true', () => {
  const config = testConfig({ trunks: [{ name: 'main', uri: 'sip:127.0.0.1:5099', lateOffer: true, keepalive: false }] });

  it('gets an INVITE without SDP; its 2xx offer is answered in the ACK from our own offer, with its payload numbers', async () => {
    const s = setup(config);
    const tx = s.invite('5551234');
    await settle();
    expect(s.trunkInvite().request.body.length).toBe(0);
    expect(s.media.calls.map((c) => c.op)).toEqual(['offer']); // the caller's offer, rewritten for the trunk (not sent)
    const trunkOffer = LATE_TRUNK_OFFER.replace('RTP/AVP 8 0', 'RTP/AVP 0 101').replace('a=rtpmap:8 PCMA/8000\r\n', 'a=rtpmap:101 telephone-event/8000\r\n');
    s.trunkResponds(200, { body: trunkOffer });
    await settle();
    expect(s.media.calls[1]).toMatchObject({ op: 'answer', req: { fromTag: 'btag', toTag: 'trunktag', sdp: trunkOffer } });
    const acks = trunkAcks(s);
    expect(acks).toHaveLength(1);
    const answer = sdpTransform.parse(acks[0]!.body.toString());
    expect(answer.media[0]!.port).toBe(20000); // the engine's port for the trunk leg
    // Only what both name: the fake engine's offer has no telephone-event rtpmap, so 101 is not answered.
    expect(String(answer.media[0]!.payloads)).toBe('0');
    expect(tx.last.status).toBe(200);
    expect(tx.last.body.toString()).toBe(WEBRTC_ANSWER);
  });

  it('an offer in the trunk\'s reliable 183: our PRACK answers it, the caller gets early media; the 2xx without SDP completes the call', async () => {
    const s = setup(config);
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(183, { body: LATE_TRUNK_OFFER, headers: [{ name: 'Require', value: '100rel' }, { name: 'RSeq', value: '4' }] });
    await settle();
    expect(s.media.calls[1]).toMatchObject({ op: 'answer', req: { fromTag: 'btag', toTag: 'trunktag', sdp: LATE_TRUNK_OFFER } });
    const prack = s.transactions.method('PRACK');
    expect(prack).toHaveLength(1);
    expect(getHeader(prack[0]!.request, 'RAck')).toMatch(/^4 \d+ INVITE$/);
    expect(sdpTransform.parse(prack[0]!.request.body.toString()).media[0]!.port).toBe(20000);
    expect(tx.last.status).toBe(183);
    expect(tx.last.body.toString()).toBe(WEBRTC_ANSWER);
    s.trunkResponds(200);
    await settle();
    expect(trunkAcks(s).map((a) => a.body.length)).toEqual([0]);
    expect(tx.last.status).toBe(200);
    expect(s.media.calls.filter((c) => c.op === 'answer')).toHaveLength(1); // the early answer is the answer
  });
});
