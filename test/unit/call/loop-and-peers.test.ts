// What the call layer passes on from the received INVITE: its Max-Forwards less one to the INVITE sent
// on (RFC 7332 §3.2, loop detection across the B2BUA), and the SIP source IPs the media engine's
// strict-source latching expects media from.
import { describe, expect, it } from 'vitest';
import { getHeaderValues } from '../../../gateway/sip/message/index.js';
import { settle } from './fakes.js';
import { setup, testConfig, TRUNK_ANSWER } from './harness.js';
import { BROWSER_ANSWER, setupInbound, TRUNK_IP } from './inbound-harness.js';

const maxForwards = (req: Parameters<typeof getHeaderValues>[0]) => getHeaderValues(req, 'Max-Forwards');

describe('Max-Forwards: browser → trunk', () => {
  it.each([
    [70, '69'],
    [1, '0'],
  ])('the trunk INVITE carries the browser\'s %i less one', async (received, sent) => {
    const s = setup();
    s.invite('5551234', { maxForwards: received });
    await settle();
    expect(maxForwards(s.trunkInvite().request)).toEqual([sent]);
  });

  it('keeps the forwarded value on the INVITE re-sent with credentials', async () => {
    const s = setup();
    s.invite('5551234', { maxForwards: 12 });
    await settle();
    s.trunkResponds(407, { headers: [{ name: 'Proxy-Authenticate', value: 'Digest realm="trunk", nonce="n1"' }] });
    await settle();
    expect(s.transactions.method('INVITE').map((i) => maxForwards(i.request))).toEqual([['11'], ['11']]);
  });

  it('Max-Forwards 0 → 483 Too Many Hops; nothing is sent and no media is allocated', async () => {
    const s = setup();
    const tx = s.invite('5551234', { maxForwards: 0, auth: false });
    await settle();
    expect(tx.statuses).toEqual([483]);
    expect(s.transactions.method('INVITE')).toHaveLength(0);
    expect(s.media.calls).toHaveLength(0);
  });
});

describe('Max-Forwards: trunk → registered contacts', () => {
  it('every fork carries the trunk\'s value less one; 0 → 483', async () => {
    const s = setupInbound();
    s.register('alice', 'pa', 'tab1');
    s.register('alice', 'pa', 'tab2');
    s.trunkInvite('+15550100', { maxForwards: 70 });
    await settle();
    expect(s.transactions.method('INVITE').map((i) => maxForwards(i.request))).toEqual([['69'], ['69']]);

    const looped = s.trunkInvite('+15550100', { maxForwards: 0 });
    await settle();
    expect(looped.statuses).toEqual([483]);
    expect(s.transactions.method('INVITE')).toHaveLength(2);
  });
});

describe('peerAddress for strict media sources', () => {
  it('outbound: the offer names the browser\'s flow, the answer the trunk\'s address', async () => {
    const s = setup(testConfig({ trunks: [{ name: 'main', uri: 'sip:192.0.2.9:5099', username: 'u', password: 'p' }] }));
    s.invite('5551234');
    await settle();
    s.trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    const req = (op: string) => s.media.calls.find((c) => c.op === op)!.req;
    expect(req('offer')).toMatchObject({ peerAddress: s.flow.remote.address });
    expect(req('answer')).toMatchObject({ peerAddress: '192.0.2.9' });
  });

  it('inbound: the offer names the trunk\'s source, the answer the answering contact\'s flow', async () => {
    const s = setupInbound();
    const tab = s.register('alice', 'pa', 'tab1');
    s.trunkInvite('+15550100');
    await settle();
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    const req = (op: string) => s.media.calls.find((c) => c.op === op)!.req;
    expect(req('offer')).toMatchObject({ peerAddress: TRUNK_IP });
    expect(req('answer')).toMatchObject({ peerAddress: tab.remote.address });
  });
});
