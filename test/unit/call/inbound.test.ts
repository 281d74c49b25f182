import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCallId, getFrom, getHeader } from '../../../gateway/sip/message/index.js';
import { MediaError, settle, WEBRTC_ANSWER } from './fakes.js';
import { BROWSER_ANSWER, setupInbound, TRUNK_RTP_OFFER } from './inbound-harness.js';

afterEach(() => {
  vi.useRealTimers();
});

const REASON = 'SIP;cause=200;text="Call completed elsewhere"';
const offers = (s: ReturnType<typeof setupInbound>) => s.media.calls.filter((c) => c.op === 'offer').map((c) => c.req as Record<string, unknown>);

/** alice registered twice (two tabs), the trunk calls her DID, both forks are out. */
async function ringingTwice() {
  const s = setupInbound();
  const tab1 = s.register('alice', 'pa', 'tab1');
  const tab2 = s.register('alice', 'pa', 'tab2');
  const tx = s.trunkInvite('+15550100');
  await settle();
  return { s, tab1, tab2, tx };
}

describe('a DID call from the trunk rings every contact', () => {
  it('sends each contact its own WebRTC offer over its flow, with the caller ID', async () => {
    const { s, tab1, tab2, tx } = await ringingTwice();
    expect(s.transactions.method('INVITE').map((i) => i.dest)).toEqual([tab1, tab2]);
    const [o1, o2] = offers(s);
    expect(o1).toMatchObject({ fromTag: 'trunktag', sdp: TRUNK_RTP_OFFER, toProfile: 'webrtc', codecs: ['PCMU', 'PCMA', 'telephone-event'] });
    expect(o1!.callId).not.toBe(o2!.callId); // each fork has its own media legs
    const invite = s.sentInvite(0).request;
    expect(invite.uri).toBe('sip:tab1@tab1.invalid;transport=ws');
    const from = getFrom(invite);
    expect(from.displayName).toBe('Jane Doe');
    expect(from.uri.user).toBe('+15557654321');
    expect(from.params.tag).not.toBe('trunktag');
    expect(getHeader(invite, 'To')).toBe('<sip:alice@gw.test>');
    expect(tx.statuses).toEqual([]); // nothing final yet
    expect(s.service.status().calls).toBe(1);
  });

  it('relays the first 180 once; the first 200 wins; the other fork is CANCELled with the Reason', async () => {
    const { s, tx } = await ringingTwice();
    s.forkResponds(0, 180);
    s.forkResponds(1, 180);
    expect(tx.statuses).toEqual([180]);
    s.forkResponds(1, 200, { body: BROWSER_ANSWER });
    await settle();
    // ACK to the winner (sent by the transport, not a transaction)
    expect(s.transport.sent.filter((x) => x.message.kind === 'request' && x.message.method === 'ACK')).toHaveLength(1);
    const cancels = s.toFork(0, 'CANCEL');
    expect(cancels).toHaveLength(1);
    expect(getHeader(cancels[0]!.request, 'Reason')).toBe(REASON);
    expect(s.toFork(1, 'CANCEL')).toHaveLength(0);
    // The winner's answer becomes the trunk's RTP answer; the loser's media is freed.
    const answer = s.media.calls.find((c) => c.op === 'answer')!.req as Record<string, unknown>;
    expect(answer).toMatchObject({ callId: offers(s)[1]!.callId, fromTag: 'trunktag', toTag: 'fork1', sdp: BROWSER_ANSWER });
    expect(tx.statuses).toEqual([180, 200]);
    expect(tx.last.body.toString()).toBe(WEBRTC_ANSWER);
    expect(s.media.deleted).toEqual([offers(s)[0]!.callId]);
  });

  it('CANCELs a fork that has sent nothing yet only once it sends a provisional (§9.1)', async () => {
    const { s } = await ringingTwice();
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    expect(s.toFork(1, 'CANCEL')).toHaveLength(0);
    s.forkResponds(1, 180);
    expect(s.toFork(1, 'CANCEL')).toHaveLength(1);
  });

  it('a loser answering after the CANCEL gets ACK and BYE', async () => {
    const { s, tx } = await ringingTwice();
    s.forkResponds(0, 180);
    s.forkResponds(1, 180);
    s.forkResponds(1, 200, { body: BROWSER_ANSWER });
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    expect(s.toFork(0, 'BYE')).toHaveLength(1);
    expect(s.toFork(1, 'BYE')).toHaveLength(0);
    expect(s.transport.sent.filter((x) => x.message.kind === 'request' && x.message.method === 'ACK')).toHaveLength(2);
    expect(tx.statuses.filter((c) => c === 200)).toHaveLength(1);
  });

  it('BYE from the trunk after answer hangs up the winner; BYE from the winner hangs up the trunk', async () => {
    const { s, tx } = await ringingTwice();
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    s.callerInDialog('ACK', tx);
    expect(s.callerInDialog('BYE', tx).statuses).toEqual([200]);
    await settle();
    expect(s.toFork(0, 'BYE')).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);

    const again = await ringingTwice();
    again.s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    again.s.callerInDialog('ACK', again.tx);
    expect(again.s.forkBye(0).statuses).toEqual([200]);
    const bye = again.s.transactions.method('BYE').filter((b) => b.dest === again.s.trunkFlow);
    expect(bye).toHaveLength(1);
    expect(getCallId(bye[0]!.request)).toBe(getCallId(again.tx.request));
    expect(again.s.service.status().calls).toBe(0);
  });

  it('a fork whose connection closes while ringing counts as unavailable (480)', async () => {
    const { s, tab1, tx } = await ringingTwice();
    tab1.close();
    expect(tx.statuses).toEqual([]);
    s.forkResponds(1, 486);
    await settle();
    // Not "all busy": one fork was unreachable; §16.7 lowest class, first received.
    expect(tx.last.status).toBe(480);
  });

  it('the winner\'s connection closing after answer ends the call after the reconnect grace (BYE to the trunk)', async () => {
    const { s, tab1, tx } = await ringingTwice();
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    s.callerInDialog('ACK', tx);
    vi.useFakeTimers();
    tab1.close();
    expect(s.transactions.method('BYE').filter((b) => b.dest === s.trunkFlow)).toHaveLength(0);
    vi.advanceTimersByTime(s.config.calls.reconnectGrace * 1000);
    expect(s.transactions.method('BYE').filter((b) => b.dest === s.trunkFlow)).toHaveLength(1);
    expect(s.service.status().calls).toBe(0);
  });
});

describe('final responses to the trunk', () => {
  it('480 when the user has no contact', async () => {
    const s = setupInbound();
    const tx = s.trunkInvite('+15550100');
    await settle();
    expect(tx.statuses).toEqual([480]);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
    expect(s.media.calls).toHaveLength(0);
  });

  it('486 when every fork is busy; the best final otherwise (6xx wins)', async () => {
    const { s, tx } = await ringingTwice();
    s.forkResponds(0, 486);
    expect(tx.statuses).toEqual([]);
    s.forkResponds(1, 486);
    expect(tx.last.status).toBe(486);
    expect(s.media.deleted).toHaveLength(2);

    const b = await ringingTwice();
    b.s.forkResponds(0, 486);
    b.s.forkResponds(1, 603);
    expect(b.tx.last.status).toBe(603);
  });

  it('the media engine refusing every fork → its mapped final', async () => {
    const s = setupInbound();
    s.register('alice', 'pa');
    s.media.fail.offer = new MediaError('no-common-codec', 'no G.711');
    const tx = s.trunkInvite('+15550100');
    await settle();
    expect(tx.statuses).toEqual([488]);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
  });

  it('ring timeout → 480 to the trunk and CANCEL (no Reason) to every fork', async () => {
    vi.useFakeTimers();
    const { s, tx } = await ringingTwice();
    s.forkResponds(0, 180);
    s.forkResponds(1, 180);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(tx.statuses).toEqual([180]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(tx.last.status).toBe(480);
    for (const n of [0, 1]) {
      expect(s.toFork(n, 'CANCEL')).toHaveLength(1);
      expect(getHeader(s.toFork(n, 'CANCEL')[0]!.request, 'Reason')).toBeUndefined();
    }
  });

  it('trunk CANCEL → 200 + 487 to the trunk, CANCEL without Reason to every fork', async () => {
    const { s, tx } = await ringingTwice();
    s.forkResponds(0, 180);
    s.forkResponds(1, 183);
    const cancel = s.trunkCancel(tx);
    expect(cancel.statuses).toEqual([200]);
    expect(tx.last.status).toBe(487);
    for (const n of [0, 1]) {
      expect(s.toFork(n, 'CANCEL')).toHaveLength(1);
      expect(getHeader(s.toFork(n, 'CANCEL')[0]!.request, 'Reason')).toBeUndefined();
    }
    expect(s.media.deleted).toHaveLength(2);
    expect(s.service.status().calls).toBe(0);
  });
});

describe('who may call in', () => {
  it('403 for a DID called from an address that is no trunk, nothing rings', async () => {
    const s = setupInbound();
    s.register('alice', 'pa');
    const { FakeFlow } = await import('./fakes.js');
    const stranger = new FakeFlow('udp-x', 'udp', undefined, { address: '203.0.113.9', port: 5060 });
    const tx = s.trunkInvite('+15550100', { flow: stranger });
    await settle();
    expect(tx.statuses).toEqual([403]);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
  });

  it('404 for a number the trunk sends that maps to nobody', async () => {
    const s = setupInbound();
    const tx = s.trunkInvite('+15559999');
    await settle();
    expect(tx.statuses).toEqual([404]);
  });

  it('a route { match, user } rings that user from the trunk', async () => {
    const s = setupInbound();
    const bob = s.register('bob', 'pb');
    s.trunkInvite('712');
    await settle();
    expect(s.sentInvite(0).dest).toBe(bob);
  });

  it('a registered trunk delivering to our Contact token: the DID is read from To', async () => {
    const s = setupInbound();
    const alice = s.register('alice', 'pa');
    s.upstream.isTrunkContact.mockReturnValue(true);
    s.trunkInvite('gwtoken42', { toUser: '+15550100' });
    await settle();
    expect(s.sentInvite(0).dest).toBe(alice);
  });

  it('without a trunk registration the Request-URI decides: a token is no DID (404)', async () => {
    const s = setupInbound();
    s.register('alice', 'pa');
    const tx = s.trunkInvite('gwtoken42', { toUser: '+15550100' });
    await settle();
    expect(tx.statuses).toEqual([404]);
  });

  it('an INVITE from the user\'s PBX rings the user like a DID call', async () => {
    const s = setupInbound();
    const carol = s.register('carol', 'pc');
    s.upstream.matchInbound.mockReturnValue({ user: s.config.users.find((u) => u.name === 'carol') });
    const { FakeFlow } = await import('./fakes.js');
    const pbx = new FakeFlow('udp-pbx', 'udp', undefined, { address: '198.51.100.20', port: 5060 });
    s.trunkInvite('tok123', { flow: pbx });
    await settle();
    expect(s.upstream.matchInbound).toHaveBeenCalled();
    expect(s.sentInvite(0).dest).toBe(carol);
  });
});

describe('user-to-user calls', () => {
  it('alice dials bob\'s extension: bob\'s contacts get a WebRTC offer from alice\'s, caller ID alice', async () => {
    const s = setupInbound();
    const aliceTab = s.register('alice', 'pa');
    const bobTab = s.register('bob', 'pb');
    const tx = s.userInvite('alice', 'pa', '202', aliceTab);
    await settle();
    expect(s.sentInvite(0).dest).toBe(bobTab);
    expect(offers(s)[0]).toMatchObject({ toProfile: 'webrtc', codecs: undefined });
    const from = getFrom(s.sentInvite(0).request);
    expect([from.displayName, from.uri.user]).toEqual(['alice', '201']);
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    expect(tx.last.status).toBe(200);
  });

  it('calling yourself rings your other devices, not the calling one', async () => {
    const s = setupInbound();
    const tab1 = s.register('alice', 'pa', 'tab1');
    const tab2 = s.register('alice', 'pa', 'tab2');
    s.userInvite('alice', 'pa', 'alice', tab1);
    await settle();
    expect(s.transactions.method('INVITE').map((i) => i.dest)).toEqual([tab2]);
  });

  it('calling yourself with no other device → 480', async () => {
    const s = setupInbound();
    const tab1 = s.register('alice', 'pa', 'tab1');
    const tx = s.userInvite('alice', 'pa', '201', tab1);
    await settle();
    expect(tx.last.status).toBe(480);
  });

  it('a user with upstream calls out through their PBX with its credentials, not the trunk', async () => {
    const s = setupInbound();
    const tab = s.register('carol', 'pc');
    s.upstream.outboundFor.mockReturnValue({
      target: { address: '198.51.100.20', port: 5070, transport: 'udp' },
      requestUriHost: 'pbx.test',
      fromUri: 'sip:c100@pbx.test',
      credentials: { username: 'c100', password: 'pbxpw' },
    });
    s.userInvite('carol', 'pc', '5551234', tab);
    await settle();
    const out = s.sentInvite(0);
    expect(out.dest).toEqual({ address: '198.51.100.20', port: 5070, transport: 'udp' });
    expect(out.request.uri).toBe('sip:5551234@pbx.test');
    expect(getFrom(out.request).uri.user).toBe('c100');
    // The PBX challenges: the account's credentials answer (RFC 3261 §22.3).
    s.forkResponds(0, 407, { headers: [{ name: 'Proxy-Authenticate', value: 'Digest realm="pbx.test", nonce="n1", algorithm=MD5, qop="auth"' }] });
    const retry = s.sentInvite(1).request;
    expect(getHeader(retry, 'Proxy-Authorization')).toMatch(/username="c100".*realm="pbx.test"/);
    expect(s.transactions.method('INVITE').every((i) => i.dest !== undefined && !('id' in i.dest))).toBe(true);
  });

  it('503 when the user\'s PBX registration is not up', async () => {
    const s = setupInbound();
    const tab = s.register('carol', 'pc');
    const tx = s.userInvite('carol', 'pc', '5551234', tab);
    await settle();
    expect(tx.last.status).toBe(503);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
  });
});

describe('status', () => {
  it('reports calls, registrations and the upstream registrations', () => {
    const s = setupInbound();
    s.register('alice', 'pa');
    expect(s.service.status()).toMatchObject({ calls: 0, registrations: 1, trunks: [], upstream: [{ user: 'carol' }] });
  });
});
