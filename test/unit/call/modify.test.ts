// Session modification policy (call/modify.ts) on the in-memory fakes: a browser calls the trunk, then
// either side re-INVITEs or UPDATEs. What is answered locally never reaches the other leg; what the other
// leg must hear is carried over and its answer (or failure) comes back; glare is retried per RFC 3261 §14.1.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { createResponse, getCallId, getCSeq, getFrom, getHeader, getHeaderValues, getTo } from '../../../gateway/sip/message/index.js';
import { failureFor } from '../../../gateway/call/modify.js';
import { trackedSender } from '../../../gateway/call/session-legs.js';
import { OfferAnswer } from '../../../gateway/sip/ua/offer-answer.js';
import type { ClientTransactionHandlers } from '../../../gateway/sip/transaction/types.js';
import { chromeAnswer, chromeOffer } from '../../support/ws-sip-client.js';
import { FakeFlow, LOCAL_ANSWER, MediaError, TRUNK_OFFER, WEBRTC_ANSWER, settle, sip, type FakeServerTx, type SentRequest } from './fakes.js';
import { setup, TRUNK_ANSWER } from './harness.js';
import { setupInbound, TRUNK_IP, TRUNK_RTP_OFFER } from './inbound-harness.js';

afterEach(() => {
  vi.useRealTimers();
});

const OFFER = chromeOffer(['PCMU', 'PCMA', 'telephone-event']);
const HOLD = OFFER.replace('a=sendrecv', 'a=sendonly');
const TRUNK_HOLD = TRUNK_ANSWER.replace('o=sipp 1 1', 'o=sipp 1 2') + 'a=sendonly\r\n';
let seq = 5000;

/** A browser call to the trunk, answered and ACKed. */
async function call(o: { allow?: string } = {}) {
  const s = setup();
  const tx = s.invite('5551234', { sdp: OFFER });
  if (o.allow) tx.request.headers.push({ name: 'Allow', value: o.allow });
  await settle();
  s.trunkResponds(200, { body: TRUNK_ANSWER });
  await settle();
  s.browserInDialog('ACK', tx);
  const toTag = getTo(tx.responses.find((r) => r.status === 200)!).params.tag!;
  const trunkFlow = new FakeFlow('udp-trunk', 'udp');

  /** A request from the browser in its dialog. */
  const fromBrowser = (method: string, body = ''): FakeServerTx =>
    s.transactions.deliver(
      sip(
        `${method} sip:gateway@127.0.0.1:8080;transport=ws SIP/2.0
        Via: SIP/2.0/WS br.invalid;branch=z9hG4bKm${++seq}
        Max-Forwards: 70
        From: <sip:alice@gw.test>;tag=btag
        To: <sip:x@gw.test>;tag=${toTag}
        Call-ID: browser-call
        CSeq: ${seq} ${method}
        Contact: <sip:xyz@br.invalid;transport=ws>
        ${body ? 'Content-Type: application/sdp' : 'X-Empty: 1'}`,
        body,
      ),
      s.flow,
    );

  /** A request from the trunk in the dialog of our INVITE. */
  const fromTrunk = (method: string, body = '', cseq = ++seq): FakeServerTx => {
    const inv = s.trunkInvite(0).request;
    const req = sip(
      `${method} sip:gateway@127.0.0.1:5060 SIP/2.0
      Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKt${cseq}
      Max-Forwards: 70
      From: <sip:x@127.0.0.1>;tag=trunktag
      To: <sip:y@127.0.0.1>;tag=${getFrom(inv).params.tag}
      Call-ID: ${getCallId(inv)}
      CSeq: ${cseq} ${method}
      Contact: <sip:sipp@127.0.0.1:5099>
      ${body ? 'Content-Type: application/sdp' : 'X-Empty: 1'}`,
      body,
    );
    if (method === 'ACK') {
      s.transactions.deliverAck(req, trunkFlow);
      return undefined as never;
    }
    return s.transactions.deliver(req, trunkFlow);
  };

  /** The gateway's in-dialog requests (after the initial INVITE), by destination. */
  const sentTo = (dest: 'browser' | 'trunk'): SentRequest[] =>
    s.transactions.sent.filter((r) => ['INVITE', 'UPDATE'].includes(r.request.method) && (r.dest === s.flow) === (dest === 'browser') && getTo(r.request).params.tag !== undefined);

  const answer = (r: SentRequest, status: number, body?: string): void =>
    r.handlers.onResponse(
      createResponse(r.request, status, undefined, {
        headers: status < 300 ? [{ name: 'Contact', value: '<sip:peer@127.0.0.1>' }] : [],
        body: body === undefined ? undefined : Buffer.from(body),
        contentType: body === undefined ? undefined : 'application/sdp',
      }),
    );
  return { s, tx, fromBrowser, fromTrunk, sentTo, answer };
}

const ops = (s: ReturnType<typeof setup>) => s.media.calls.map((c) => c.op);
const body = (r: { body: Buffer }) => r.body.toString('utf8');

describe('answered locally: the other leg hears nothing', () => {
  it('a browser refresh with the same SDP → 200 with the engine\'s answer, Contact and Allow: UPDATE', async () => {
    const c = await call();
    const re = c.fromBrowser('INVITE', OFFER);
    await settle();
    expect(re.statuses).toEqual([200]);
    expect(body(re.last)).toBe(LOCAL_ANSWER);
    expect(getHeader(re.last, 'Contact')).toBeDefined();
    expect(getHeaderValues(re.last, 'Allow')).toContain('UPDATE');
    expect(c.s.media.calls.at(-1)).toMatchObject({ op: 'answerLocally', req: { fromTag: 'btag', sdp: OFFER } });
    expect(c.sentTo('trunk')).toHaveLength(0);
  });

  it('an ICE restart from the browser (new ufrag/pwd) is answered locally', async () => {
    const c = await call();
    const restarted = OFFER.replace(/a=ice-ufrag:.*/, 'a=ice-ufrag:NEWU').replace(/a=ice-pwd:.*/, 'a=ice-pwd:newpasswordnewpasswordxx');
    const re = c.fromBrowser('INVITE', restarted);
    await settle();
    expect(re.statuses).toEqual([200]);
    expect(ops(c.s).at(-1)).toBe('answerLocally');
    expect(c.sentTo('trunk')).toHaveLength(0);
  });

  it('a trunk UPDATE with a new RTP address is answered locally', async () => {
    const c = await call();
    const up = c.fromTrunk('UPDATE', TRUNK_ANSWER.replace('m=audio 6000', 'm=audio 6010'));
    await settle();
    expect(up.statuses).toEqual([200]);
    expect(c.sentTo('browser')).toHaveLength(0);
  });

  it('an UPDATE without SDP → 200 without a body; the echo line keeps 488', async () => {
    const c = await call();
    const up = c.fromTrunk('UPDATE');
    expect(up.statuses).toEqual([200]);
    expect(up.last.body.length).toBe(0);
    const s = setup();
    const echo = s.invite('*43');
    await settle();
    expect(s.browserInDialog('INVITE', echo).statuses).toEqual([488]);
  });
});

describe('carried to the other leg', () => {
  it('browser hold → re-INVITE to the trunk with the engine\'s offer; its answer becomes the browser\'s 200', async () => {
    const c = await call();
    const re = c.fromBrowser('INVITE', HOLD);
    await settle();
    expect(re.statuses).toEqual([]);
    expect(c.s.media.calls.at(-1)).toMatchObject({ op: 'offer', req: { fromTag: 'btag', sdp: HOLD, toProfile: 'rtp', codecs: ['PCMU', 'PCMA', 'telephone-event'] } });
    const [reinvite] = c.sentTo('trunk');
    expect(reinvite!.request.method).toBe('INVITE');
    expect(body(reinvite!.request)).toBe(TRUNK_OFFER);
    c.answer(reinvite!, 200, TRUNK_HOLD);
    await settle();
    expect(c.s.media.calls.at(-1)).toMatchObject({ op: 'answer', req: { fromTag: 'btag', toTag: 'trunktag', sdp: TRUNK_HOLD } });
    expect(re.statuses).toEqual([200]);
    expect(body(re.last)).toBe(WEBRTC_ANSWER);
  });

  it('trunk hold → re-INVITE over the browser\'s connection; the browser\'s answer goes back to the trunk', async () => {
    const c = await call();
    const re = c.fromTrunk('INVITE', TRUNK_HOLD);
    await settle();
    const [toBrowser] = c.sentTo('browser');
    expect(c.s.media.calls.at(-1)).toMatchObject({ op: 'offer', req: { fromTag: 'trunktag', toProfile: 'webrtc', codecs: undefined } });
    c.answer(toBrowser!, 200, HOLD);
    await settle();
    expect(re.statuses).toEqual([200]);
    expect(c.s.media.calls.at(-1)).toMatchObject({ op: 'answer', req: { fromTag: 'trunktag', toTag: 'btag' } });
  });

  it('an UPDATE is carried as UPDATE to a side whose Allow lists it, else as re-INVITE', async () => {
    for (const [allow, method] of [[undefined, 'INVITE'], ['INVITE, ACK, BYE, UPDATE', 'UPDATE']] as const) {
      const c = await call({ allow });
      c.fromTrunk('UPDATE', TRUNK_HOLD);
      await settle();
      expect(c.sentTo('browser').map((r) => r.request.method)).toEqual([method]);
    }
  });

  it.each([
    [488, 488],
    [606, 488],
    [500, 500],
    [408, 500],
  ])('the other leg answers %i → rollback, the requester gets %i, the session stays', async (status, expected) => {
    const c = await call();
    const re = c.fromBrowser('INVITE', HOLD);
    await settle();
    c.answer(c.sentTo('trunk')[0]!, status);
    await settle();
    expect(re.statuses).toEqual([expected]);
    expect(ops(c.s).slice(-2)).toEqual(['offer', 'rollback']);
    // The session is as it was: the same refresh is answered locally again.
    const again = c.fromBrowser('INVITE', OFFER);
    await settle();
    expect(again.statuses).toEqual([200]);
  });

  it('an answer of the other leg the engine cannot use → rollback and 488', async () => {
    const c = await call();
    const re = c.fromBrowser('INVITE', HOLD);
    await settle();
    c.s.media.fail.answer = new MediaError('no-common-codec', 'x');
    c.answer(c.sentTo('trunk')[0]!, 200, TRUNK_HOLD);
    await settle();
    expect(re.statuses).toEqual([488]);
    expect(ops(c.s).slice(-2)).toEqual(['answer', 'rollback']);
  });

  it('a timeout of the other leg → rollback and 500', async () => {
    const c = await call();
    const re = c.fromBrowser('INVITE', HOLD);
    await settle();
    c.sentTo('trunk')[0]!.handlers.onTimeout();
    await settle();
    expect(re.statuses).toEqual([500]);
    expect(ops(c.s).at(-1)).toBe('rollback');
  });

  it('an offer the engine refuses → 488, nothing sent', async () => {
    const c = await call();
    c.s.media.fail.offer = new MediaError('no-common-codec', 'x');
    const re = c.fromBrowser('INVITE', HOLD);
    await settle();
    expect(re.statuses).toEqual([488]);
    expect(c.sentTo('trunk')).toHaveLength(0);
  });

  it('an SDP that does not parse → 488, nothing sent', async () => {
    const c = await call();
    const re = c.fromBrowser('INVITE', 'v=0\r\nm=video 9 RTP/AVP 96\r\n');
    await settle();
    expect(re.statuses).toEqual([488]);
    expect(c.sentTo('trunk')).toHaveLength(0);
  });
});

/** The browser holds, the trunk answers our re-INVITE 491 (glare); fake timers run. */
async function glared() {
  vi.useFakeTimers();
  const c = await call();
  const re = c.fromBrowser('INVITE', HOLD);
  await settle();
  c.answer(c.sentTo('trunk')[0]!, 491);
  await settle();
  return { c, re };
}

describe('glare and request-pending (RFC 3261 §14.1/§14.2, RFC 3311 §5.2)', () => {
  it('491 from the trunk → retried after 2.1–4 s (we own its Call-ID); the retry\'s 200 answers the browser', async () => {
    const { c, re } = await glared();
    await vi.advanceTimersByTimeAsync(2099);
    expect(c.sentTo('trunk')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1901);
    expect(c.sentTo('trunk')).toHaveLength(2);
    expect(body(c.sentTo('trunk')[1]!.request)).toBe(TRUNK_OFFER);
    c.answer(c.sentTo('trunk')[1]!, 200, TRUNK_HOLD);
    await settle();
    expect(re.statuses).toEqual([200]);
    expect(ops(c.s).filter((o) => o === 'rollback')).toHaveLength(0);
  });

  it('491 twice → the requester gets 491 (it retries itself) and the engine is rolled back', async () => {
    const { c, re } = await glared();
    await vi.advanceTimersByTimeAsync(4000);
    c.answer(c.sentTo('trunk')[1]!, 491);
    await settle();
    expect(re.statuses).toEqual([491]);
    expect(ops(c.s).at(-1)).toBe('rollback');
  });

  it('toward the browser (its Call-ID is not ours) the retry comes within 0–2 s', async () => {
    vi.useFakeTimers();
    const c = await call();
    c.fromTrunk('INVITE', TRUNK_HOLD);
    await settle();
    c.answer(c.sentTo('browser')[0]!, 491);
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.sentTo('browser')).toHaveLength(2);
  });

  it('both sides at once: the second request gets 491 while ours is pending', async () => {
    const c = await call();
    const fromTrunk = c.fromTrunk('INVITE', TRUNK_HOLD);
    await settle();
    const fromBrowser = c.fromBrowser('INVITE', HOLD);
    expect(fromBrowser.statuses).toEqual([491]);
    c.answer(c.sentTo('browser')[0]!, 200, HOLD);
    await settle();
    expect(fromTrunk.statuses).toEqual([200]);
  });

  it('a second re-INVITE from the same side before the first is answered → 500 with Retry-After', async () => {
    const c = await call();
    c.fromBrowser('INVITE', HOLD);
    await settle();
    const second = c.fromBrowser('INVITE', OFFER);
    expect(second.statuses).toEqual([500]);
    expect(Number(getHeader(second.last, 'Retry-After'))).toBeLessThanOrEqual(10);
  });
});

describe('re-INVITE without SDP (offer in our 200, answer in the ACK)', () => {
  it('the trunk gets our current offer; an unchanged answer in the ACK touches nothing', async () => {
    const c = await call();
    const before = c.s.media.calls.length;
    const re = c.fromTrunk('INVITE', '', 9000);
    expect(re.statuses).toEqual([200]);
    expect(body(re.last)).toBe(TRUNK_OFFER);
    c.fromTrunk('ACK', TRUNK_ANSWER, 9000);
    await settle();
    expect(c.s.media.calls.length).toBe(before);
    expect(c.sentTo('browser')).toHaveLength(0);
  });

  it('an answer in the ACK that puts the call on hold is offered to the other leg', async () => {
    const c = await call();
    c.fromTrunk('INVITE', '', 9100);
    c.fromTrunk('ACK', TRUNK_HOLD, 9100);
    await settle();
    expect(c.s.media.calls.at(-1)).toMatchObject({ op: 'offer', req: { fromTag: 'trunktag', sdp: TRUNK_HOLD } });
    expect(c.sentTo('browser')).toHaveLength(1);
  });

  it('the browser gets our last answer in the 200 (WebRTC)', async () => {
    const c = await call();
    const re = c.fromBrowser('INVITE');
    expect(re.statuses).toEqual([200]);
    expect(body(re.last)).toBe(WEBRTC_ANSWER);
    expect(getCSeq(re.last).method).toBe('INVITE');
  });
});

describe('trackedSender: every request sent in a leg\'s dialog moves its offer/answer state', () => {
  it('a refresh re-INVITE of the session timers in flight → a crossing re-INVITE from the peer is glare (491)', async () => {
    const oa = new OfferAnswer();
    let handlers: ClientTransactionHandlers | undefined;
    const req = sip<SipRequest>('INVITE sip:x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>;tag=2\nCall-ID: c\nCSeq: 1 INVITE');
    const usage = trackedSender({ sendInDialog: async (_m, _o, h) => ((handlers = h), req) }, oa);
    await usage.sendInDialog('INVITE', { body: Buffer.from(TRUNK_OFFER), contentType: 'application/sdp' }, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
    expect(oa.checkIncoming('INVITE', true, () => 0)).toEqual({ accept: false, status: 491 });
    handlers!.onResponse(createResponse(req, 200, undefined, { body: Buffer.from(TRUNK_ANSWER), contentType: 'application/sdp' }));
    expect(oa.state).toBe('stable');
    expect(oa.checkIncoming('INVITE', true, () => 0)).toEqual({ accept: true });
  });
});

describe('failureFor', () => {
  it('491 stays 491, refusals → 488, a broken leg → 500', () => {
    expect(failureFor(491).status).toBe(491);
    expect([415, 488, 603, 606].map((s) => failureFor(s).status)).toEqual([488, 488, 488, 488]);
    expect([408, 481, 500, 503].map((s) => failureFor(s).status)).toEqual([500, 500, 500, 500]);
  });
});

describe('after a late offer (the caller\'s SDP came in its ACK)', () => {
  it('the caller\'s refresh is compared with the answer in its ACK: answered locally', async () => {
    const s = setup();
    const tx = s.invite('5551234', { sdp: '' });
    await settle();
    s.trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    const ok = tx.responses.find((r) => r.status === 200)!;
    const toTag = getTo(ok).params.tag!;
    const inDialog = (method: string, cseq: number, body: string) =>
      sip(
        `${method} sip:gateway@127.0.0.1:8080;transport=ws SIP/2.0
        Via: SIP/2.0/WS br.invalid;branch=z9hG4bKlate${cseq}${method}
        Max-Forwards: 70
        From: <sip:alice@gw.test>;tag=btag
        To: <sip:x@gw.test>;tag=${toTag}
        Call-ID: browser-call
        CSeq: ${cseq} ${method}
        Contact: <sip:xyz@br.invalid;transport=ws>
        Content-Type: application/sdp`,
        body,
      );
    s.transactions.deliverAck(inDialog('ACK', getCSeq(tx.request).seq, OFFER), s.flow);
    await settle();
    const re = s.transactions.deliver(inDialog('INVITE', 7000, OFFER), s.flow);
    await settle();
    expect(re.statuses).toEqual([200]);
    expect(s.media.calls.at(-1)).toMatchObject({ op: 'answerLocally', req: { fromTag: 'btag', sdp: OFFER } });
  });
});

describe('a call from the trunk to a user\'s browsers (RingCallee): the same policy', () => {
  it('the trunk holds: the winning fork gets the re-INVITE toward its own contact; its answer is the trunk\'s 200', async () => {
    const s = setupInbound();
    s.register('alice', 'pa', 'tab1');
    s.register('alice', 'pa', 'tab2');
    const tx = s.trunkInvite('+15550100', { sdp: TRUNK_RTP_OFFER });
    await settle();
    s.forkResponds(1, 200, { body: chromeAnswer(body(s.sentInvite(1).request)) });
    await settle();
    s.callerInDialog('ACK', tx);
    const ok = tx.responses.find((r) => r.status === 200)!;
    const hold = TRUNK_RTP_OFFER.replace('o=trunk 1 1', 'o=trunk 1 2') + 'a=sendonly\r\n';
    const re = s.transactions.deliver(
      sip(
        `INVITE sip:gateway@127.0.0.1:5060 SIP/2.0
        Via: SIP/2.0/UDP ${TRUNK_IP}:5060;branch=z9hG4bKre1
        Max-Forwards: 70
        From: ${getHeader(tx.request, 'From')}
        To: ${getHeader(ok, 'To')}
        Call-ID: ${getCallId(tx.request)}
        CSeq: 3 INVITE
        Contact: <sip:trunk@${TRUNK_IP}:5060>
        Content-Type: application/sdp`,
        hold,
      ),
      tx.flow as FakeFlow,
    );
    await settle();
    expect(s.media.calls.at(-1)).toMatchObject({ op: 'offer', req: { fromTag: getFrom(tx.request).params.tag, sdp: hold, toProfile: 'webrtc' } });
    const toWinner = s.toFork(1, 'INVITE').slice(1);
    expect(toWinner).toHaveLength(1);
    expect(s.toFork(0, 'INVITE')).toHaveLength(1);
    toWinner[0]!.handlers.onResponse(
      createResponse(toWinner[0]!.request, 200, undefined, { headers: [{ name: 'Contact', value: '<sip:fork1@fork1.invalid;transport=ws>' }], body: Buffer.from(chromeAnswer(body(toWinner[0]!.request))), contentType: 'application/sdp' }),
    );
    await settle();
    expect(re.statuses).toEqual([200]);
    expect(s.media.calls.at(-1)).toMatchObject({ op: 'answer', req: { toTag: 'fork1' } });
  });
});
