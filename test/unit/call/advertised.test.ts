// Via sent-by and Contact come from the flow's advertised address (Flow.sentBy), never from the address
// its socket is bound to: a gateway bound to 0.0.0.0 behind NAT must not tell peers "0.0.0.0".
import { describe, expect, it } from 'vitest';
import { getHeader, getHeaderValues } from '../../../gateway/sip/message/index.js';
import { settle } from './fakes.js';
import { BROWSER_ANSWER, setupInbound } from './inbound-harness.js';

describe('advertised addresses on the wire (call layer)', () => {
  it('a trunk call: 180/200 to the trunk, the fork INVITE and the BYE carry the advertised addresses', async () => {
    const s = setupInbound();
    // The trunk's flow reached a socket bound to 0.0.0.0 that advertises 203.0.113.10; alice's WebSocket
    // reached the web server, advertised as 198.51.100.5:443.
    Object.assign(s.trunkFlow, { local: { address: '0.0.0.0', port: 5060 } });
    s.trunkFlow.advertised = { address: '203.0.113.10', port: 5060 };
    const tab = s.register('alice', 'pa', 'tab');
    tab.advertised = { address: '198.51.100.5', port: 443 };
    const tx = s.trunkInvite('+15550100');
    await settle();

    const fork = s.sentInvite(0).request;
    expect(getHeaderValues(fork, 'Via')[0]).toMatch(/^SIP\/2\.0\/WS 198\.51\.100\.5:443;/);
    expect(getHeader(fork, 'Contact')).toBe('<sip:gateway@198.51.100.5:443;transport=ws>');

    s.forkResponds(0, 180);
    s.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    expect(tx.statuses).toEqual([180, 200]);
    for (const res of tx.responses) expect(getHeader(res, 'Contact')).toBe('<sip:gateway@203.0.113.10:5060>');

    s.callerInDialog('ACK', tx);
    s.forkBye(0);
    await settle();
    const bye = s.transactions.method('BYE').find((b) => b.dest === s.trunkFlow)!;
    expect(getHeaderValues(bye.request, 'Via')[0]).toMatch(/^SIP\/2\.0\/UDP 203\.0\.113\.10:5060;/);
    const everything = [fork, ...tx.responses, bye.request].map((m) => m.headers.map((h) => h.value).join('\n')).join('\n');
    expect(everything).not.toContain('0.0.0.0');
  });
});
