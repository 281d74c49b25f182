import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCSeq, getCallId, getFrom, getHeader, getTo, parseUri } from '../../../gateway/sip/message/index.js';
import { MediaError, settle, TRUNK_OFFER, WEBRTC_ANSWER } from './fakes.js';
import { setup, testConfig, TRUNK_ANSWER } from './harness.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('INVITE authentication and routing', () => {
  it('challenges an unauthenticated INVITE with 407 and sends nothing to the trunk', async () => {
    const s = setup();
    const tx = s.invite('5551234', { auth: false });
    await settle();
    expect(tx.statuses).toEqual([407]);
    // RFC 8760 §2.4: one challenge per algorithm, most preferred first (sip.js keeps the last: MD5).
    const challenges = tx.last.headers.filter((h) => h.name === 'Proxy-Authenticate').map((h) => h.value);
    expect(challenges).toHaveLength(2);
    expect(challenges[0]).toMatch(/^Digest realm="gw.test".*algorithm=SHA-256/);
    expect(challenges[1]).toMatch(/^Digest realm="gw.test".*algorithm=MD5/);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
    expect(s.media.calls).toHaveLength(0);
  });

  it('a wrong password gets 407 again, never a trunk INVITE', async () => {
    const s = setup();
    const tx = s.invite('5551234', { password: 'guess' });
    await settle();
    expect(tx.statuses).toEqual([407]);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
  });

  it('404 "No Route" when no route matches', async () => {
    const s = setup();
    const tx = s.invite('12');
    await settle();
    expect(tx.last.status).toBe(404);
    expect(tx.last.reason).toBe('No Route');
  });

  it('488 for an INVITE without an SDP offer to the echo line (late offers elsewhere: late-offer.test.ts)', async () => {
    const s = setup();
    const tx = s.invite('*43', { sdp: '' });
    await settle();
    expect(tx.last.status).toBe(488);
    expect(s.media.calls).toHaveLength(0);
  });

  it('the echo line is answered by the media engine directly', async () => {
    const s = setup();
    const tx = s.invite('*43');
    await settle();
    expect(tx.last.status).toBe(200);
    expect(tx.last.body.toString()).toBe(WEBRTC_ANSWER);
    expect(s.media.count('echo')).toBe(1);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
    s.browserInDialog('ACK', tx);
    const bye = s.browserInDialog('BYE', tx);
    await settle();
    expect(bye.statuses).toEqual([200]);
    expect(s.media.deleted).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);
  });

  it('488 when the media engine finds no common codec', async () => {
    const s = setup();
    s.media.fail.offer = new MediaError('no-common-codec', 'no G.711');
    const tx = s.invite('5551234');
    await settle();
    expect(tx.last.status).toBe(488);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
  });
});

describe('outbound call to the trunk', () => {
  it('sends the trunk an INVITE with the configured callerId, number and RTP offer', async () => {
    const s = setup();
    s.invite('+1 (555) 123-4567'.replace(/[ ()-]/g, ''));
    await settle();
    const { request, dest } = s.trunkInvite();
    expect(request.uri).toBe('sip:+15551234567@127.0.0.1:5099');
    expect(dest).toEqual({ address: '127.0.0.1', port: 5099, transport: 'udp' });
    const from = getFrom(request);
    expect(from.uri.user).toBe('+15550001');
    expect(from.uri.host).toBe('127.0.0.1');
    expect(from.displayName).toBeUndefined();
    expect(getCallId(request)).not.toBe('browser-call');
    expect(request.body.toString()).toBe(TRUNK_OFFER);
    expect(s.media.calls[0]).toMatchObject({ op: 'offer', req: { fromTag: 'btag', toProfile: 'rtp', codecs: ['PCMU', 'PCMA', 'telephone-event'] } });
  });

  it('falls back to the user name when no callerId is configured', async () => {
    const s = setup();
    s.invite('5551234', { user: 'bob', password: 'pw2' });
    await settle();
    expect(getFrom(s.trunkInvite().request).uri.user).toBe('bob');
  });

  it('relays 180, answers 200 with the WebRTC answer, ACKs the trunk; browser BYE ends both legs', async () => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(100);
    s.trunkResponds(180);
    await settle();
    expect(tx.statuses).toEqual([180]);
    expect(getTo(tx.last).params.tag).toBeTruthy();
    s.trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    expect(tx.statuses).toEqual([180, 200]);
    expect(tx.last.body.toString()).toBe(WEBRTC_ANSWER);
    expect(getTo(tx.last).params.tag).toBe(getTo(tx.responses[0]!).params.tag);
    expect(s.media.calls.find((c) => c.op === 'answer')!.req).toMatchObject({ fromTag: 'btag', toTag: 'trunktag', sdp: TRUNK_ANSWER });
    const ack = s.transport.sent.find((m) => m.message.kind === 'request' && m.message.method === 'ACK')!;
    expect(getCSeq(ack.message)).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.dest).toMatchObject({ address: '127.0.0.1', port: 5099 });
    expect(s.service.status().calls).toBe(1);

    s.browserInDialog('ACK', tx);
    const bye = s.browserInDialog('BYE', tx);
    await settle();
    expect(bye.statuses).toEqual([200]);
    const trunkBye = s.transactions.method('BYE')[0]!;
    expect(getCallId(trunkBye.request)).toBe(getCallId(s.trunkInvite().request));
    expect(getTo(trunkBye.request).params.tag).toBe('trunktag');
    expect(s.media.deleted).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);
  });

  it('re-sends the ACK for each 2xx retransmission (§13.2.2.4)', async () => {
    const s = setup();
    s.invite('5551234');
    await settle();
    s.trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    s.trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    expect(s.transport.sent.filter((m) => m.message.kind === 'request' && m.message.method === 'ACK')).toHaveLength(2);
    expect(s.media.count('answer')).toBe(1);
  });

  it('trunk BYE → 200 to the trunk, BYE to the browser over its flow', async () => {
    const s = setup();
    await s.answered({ ack: true });
    const bye = s.trunkBye();
    await settle();
    expect(bye.statuses).toEqual([200]);
    const toBrowser = s.transactions.method('BYE')[0]!;
    expect(toBrowser.dest).toBe(s.flow);
    expect(getTo(toBrowser.request).params.tag).toBe('btag');
    expect(getHeader(toBrowser.request, 'Via')).toMatch(/^SIP\/2\.0\/WS /);
    expect(s.media.deleted).toHaveLength(1);
  });

  it('waits for the browser ACK before sending it BYE (§15)', async () => {
    const s = setup();
    const tx = await s.answered({ ack: false });
    s.trunkBye();
    expect(s.transactions.method('BYE')).toHaveLength(0);
    s.browserInDialog('ACK', tx);
    expect(s.transactions.method('BYE')).toHaveLength(1);
  });

  it('183 with SDP gives the browser early media; the same SDP in the 200 is not converted twice', async () => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(183, { body: TRUNK_ANSWER });
    await settle();
    expect(tx.last.status).toBe(183);
    expect(tx.last.body.toString()).toBe(WEBRTC_ANSWER);
    s.trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    expect(tx.last.status).toBe(200);
    expect(s.media.count('answer')).toBe(1);
  });

  it.each([
    [486, 'Busy Here', 486, 'Busy Here'],
    [404, 'Not Found', 404, 'Not Found'],
    [603, 'Decline', 603, 'Decline'],
    [302, 'Moved Temporarily', 480, 'Temporarily Unavailable'],
  ])('trunk %i %s → browser %i %s', async (status, reason, want, wantReason) => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    s.trunkInvite().handlers.onResponse({ ...s.trunkResponds(100), status, reason });
    await settle();
    expect([tx.last.status, tx.last.reason]).toEqual([want, wantReason]);
    expect(s.media.deleted).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);
  });

  it('Timer B → 408, transport error → 503', async () => {
    const s = setup();
    const a = s.invite('5551234');
    await settle();
    s.trunkInvite(0).handlers.onTimeout();
    await settle();
    expect(a.last.status).toBe(408);
    const b = s.invite('5551234');
    await settle();
    s.trunkInvite(1).handlers.onTransportError(new Error('ECONNREFUSED'));
    await settle();
    expect(b.last.status).toBe(503);
  });
});

describe('trunk authentication', () => {
  const challenge = { name: 'Proxy-Authenticate', value: 'Digest realm="trunk", nonce="abc", qop="auth", algorithm=MD5' };

  it('answers a 407 once with the trunk credentials: new CSeq, same Call-ID and From tag', async () => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(407, { headers: [challenge] });
    await settle();
    expect(tx.responses).toHaveLength(0);
    const [first, second] = s.transactions.method('INVITE').map((x) => x.request);
    expect(getCSeq(second!).seq).toBe(getCSeq(first!).seq + 1);
    expect(getCallId(second!)).toBe(getCallId(first!));
    expect(getFrom(second!).params.tag).toBe(getFrom(first!).params.tag);
    expect(getHeader(second!, 'Proxy-Authorization')).toMatch(/^Digest username="gwuser", realm="trunk"/);
    s.trunkResponds(200, { n: 1, body: TRUNK_ANSWER });
    await settle();
    expect(tx.last.status).toBe(200);
  });

  it('a second challenge → 403 to the browser', async () => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(407, { headers: [challenge] });
    s.trunkResponds(407, { n: 1, headers: [challenge] });
    await settle();
    expect(s.transactions.method('INVITE')).toHaveLength(2);
    expect(tx.last.status).toBe(403);
  });

  it('a challenge from a trunk without credentials → 503', async () => {
    const { testConfig } = await import('./harness.js');
    const cfg = testConfig({ trunks: [{ name: 'main', uri: 'sip:127.0.0.1:5099' }] });
    const s = setup(cfg);
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(401, { headers: [{ name: 'WWW-Authenticate', value: challenge.value }] });
    await settle();
    expect(tx.last.status).toBe(503);
  });
});

describe('CANCEL', () => {
  it('before any provisional: 200 + 487 to the browser, CANCEL to the trunk only once a 1xx arrives', async () => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    const c = s.cancel(tx);
    expect(c.statuses).toEqual([200]);
    expect(tx.last.status).toBe(487);
    expect(getTo(c.last).params.tag).toBe(getTo(tx.last).params.tag);
    expect(s.transactions.method('CANCEL')).toHaveLength(0);
    s.trunkResponds(100);
    await settle();
    const cancel = s.transactions.method('CANCEL')[0]!.request;
    expect(cancel.uri).toBe(s.trunkInvite().request.uri);
    expect(getHeader(cancel, 'Via')).toBe(getHeader(s.trunkInvite().request, 'Via'));
    s.trunkResponds(487);
    await settle();
    expect(tx.statuses).toEqual([487]);
    expect(s.media.deleted).toHaveLength(1);
  });

  it('after 180 the CANCEL goes out at once; a racing 2xx is ACKed then BYEd', async () => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(180);
    await settle();
    s.cancel(tx);
    expect(s.transactions.method('CANCEL')).toHaveLength(1);
    s.trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    expect(tx.statuses).toEqual([180, 487]);
    expect(s.transport.sent.some((m) => m.message.kind === 'request' && m.message.method === 'ACK')).toBe(true);
    expect(s.transactions.method('BYE')).toHaveLength(1);
  });

  it('CANCEL matching no transaction → 481; after the 2xx it has no effect', async () => {
    const s = setup();
    const tx = await s.answered({ ack: false });
    const late = s.cancel(tx);
    expect(late.statuses).toEqual([200]);
    expect(tx.statuses).toEqual([200]);
    expect(s.service.status().calls).toBe(1);
    const stray = s.transactions.deliver({ ...late.request }, s.flow);
    expect(stray.statuses).toEqual([481]);
  });
});

describe('dialog housekeeping', () => {
  it('481 for BYE outside any dialog and for an unknown dialog', async () => {
    const s = setup();
    const tx = s.invite('*43');
    await settle();
    const bye = s.browserInDialog('BYE', tx);
    expect(bye.statuses).toEqual([200]);
    const again = s.browserInDialog('BYE', tx);
    expect(again.statuses).toEqual([481]);
  });

  it('re-INVITE in the dialog → 488, the call stays up', async () => {
    const s = setup();
    const tx = s.invite('*43');
    await settle();
    const re = s.browserInDialog('INVITE', tx);
    expect(re.statuses).toEqual([488]);
    expect(s.service.status().calls).toBe(1);
  });

  it('no ACK from the browser within 64*T1 → BYE to both sides', async () => {
    const s = setup();
    const tx = await s.answered({ ack: false });
    tx.fireAckTimeout();
    await settle();
    expect(s.transactions.method('BYE').map((b) => b.dest === s.flow)).toEqual([true, false]);
    expect(s.service.status().calls).toBe(0);
  });

  it('ring timeout → 480 to the browser and CANCEL to the trunk', async () => {
    vi.useFakeTimers();
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(180);
    await settle();
    vi.advanceTimersByTime(59_999);
    expect(tx.last.status).toBe(180);
    vi.advanceTimersByTime(1);
    expect(tx.last.status).toBe(480);
    expect(s.transactions.method('CANCEL')).toHaveLength(1);
  });

  it('the browser connection closing mid-call (no reconnect grace) sends BYE to the trunk and frees media', async () => {
    const s = setup(testConfig({ calls: { reconnectGrace: 0 } }));
    await s.answered({ ack: true });
    s.flow.close();
    await settle();
    expect(s.transactions.method('BYE').map((b) => b.dest === s.flow)).toEqual([false]);
    expect(getHeader(s.transactions.method('BYE')[0]!.request, 'Reason')).toBe('SIP;cause=480;text="Connection lost"');
    expect(s.media.deleted).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);
  });

  it('close() ends every call', async () => {
    const s = setup();
    const tx = s.invite('5551234');
    await settle();
    await s.service.close();
    expect(tx.last.status).toBe(503);
    expect(s.service.status().calls).toBe(0);
  });

  it('the dialled number may be a tel-style user with visual separators', () => {
    expect(parseUri('sip:+1-555-123-4567@gw.test').user).toBe('+1-555-123-4567');
  });
});
