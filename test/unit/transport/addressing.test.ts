import { describe, expect, it } from 'vitest';
import type { Via } from '../../../gateway/sip/message/types.js';
import {
  addressKey,
  advertisedAddress,
  defaultPort,
  isOwnSentBy,
  normalizeHost,
  selectResponseDestination,
  stampInboundVia,
} from '../../../gateway/sip/transport/addressing.js';

function via(host: string, port: number | undefined, params: Via['params'] = {}, transport = 'UDP'): Via {
  return { protocol: 'SIP/2.0', transport, host, port, params: { branch: 'z9hG4bKabc', ...params } };
}

describe('normalizeHost / addressKey', () => {
  it('strips IPv6 brackets and IPv4-mapped prefixes, lower-cases', () => {
    expect(normalizeHost('[::1]')).toBe('::1');
    expect(normalizeHost('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeHost('Example.COM')).toBe('example.com');
  });
  it('keys IPv6 with brackets so the port stays unambiguous', () => {
    expect(addressKey({ address: '::1', port: 5060 })).toBe('[::1]:5060');
    expect(addressKey({ address: '[::1]', port: 5060 })).toBe('[::1]:5060');
    expect(addressKey({ address: '::ffff:127.0.0.1', port: 7 })).toBe('127.0.0.1:7');
  });
  it('default ports: 5060, 5061 for TLS', () => {
    expect(defaultPort('udp')).toBe(5060);
    expect(defaultPort('tls')).toBe(5061);
  });
});

describe('stampInboundVia (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  const source = { address: '192.0.2.7', port: 40000 };

  it('leaves the Via alone when sent-by is the source IP and there is no rport', () => {
    expect(stampInboundVia(via('192.0.2.7', 5060), source)).toBeUndefined();
  });
  it('adds received when the sent-by IP differs from the source', () => {
    const out = stampInboundVia(via('10.0.0.1', 5060), source);
    expect(out?.params.received).toBe('192.0.2.7');
    expect(out?.params).not.toHaveProperty('rport');
    expect(out?.params.branch).toBe('z9hG4bKabc');
  });
  it('adds received when sent-by is a domain name (browsers send *.invalid)', () => {
    const out = stampInboundVia(via('df7jal23ls0d.invalid', undefined, {}, 'WSS'), source);
    expect(out?.params.received).toBe('192.0.2.7');
  });
  it('fills an empty rport and adds received even when the IP matches', () => {
    const out = stampInboundVia(via('192.0.2.7', 5060, { rport: null }), source);
    expect(out?.params.rport).toBe('40000');
    expect(out?.params.received).toBe('192.0.2.7');
  });
  it('overwrites an rport value the sender wrote with the real source port (never trusted)', () => {
    const out = stampInboundVia(via('10.0.0.1', 5060, { rport: '1234' }), source);
    expect(out?.params.rport).toBe('40000');
    expect(out?.params.received).toBe('192.0.2.7');
  });
  it('overwrites a received the sender wrote (sent-by differs) with the real source address', () => {
    const out = stampInboundVia(via('10.0.0.1', 5060, { received: '127.0.0.77', rport: '5060' }), source);
    expect(out?.params).toMatchObject({ received: '192.0.2.7', rport: '40000' });
  });
  it('removes a received the sender wrote when sent-by is already the source IP', () => {
    const out = stampInboundVia(via('192.0.2.7', 5060, { received: '127.0.0.77' }), source);
    expect(out?.params).not.toHaveProperty('received');
    expect(out?.params.branch).toBe('z9hG4bKabc');
  });
  it('compares IPv6 sent-by and IPv4-mapped sources by value', () => {
    expect(stampInboundVia(via('[::1]', 5060), { address: '::1', port: 5060 })).toBeUndefined();
    expect(stampInboundVia(via('127.0.0.1', 5060), { address: '::ffff:127.0.0.1', port: 5060 })).toBeUndefined();
  });
  it('does not mutate its input', () => {
    const v = via('10.0.0.1', 5060, { rport: null });
    stampInboundVia(v, source);
    expect(v.params).toEqual({ branch: 'z9hG4bKabc', rport: null });
  });
});

describe('selectResponseDestination (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  const remote = { address: '192.0.2.7', port: 40000 };
  const udpFlow = { transport: 'udp' as const, reliable: false, alive: true, remote };
  const deadTcp = { transport: 'tcp' as const, reliable: true, alive: false, remote };

  it('reliable and alive: the same connection', () => {
    expect(selectResponseDestination(via('x.invalid', undefined), { transport: 'ws', reliable: true, alive: true, remote })).toEqual({
      kind: 'flow',
    });
  });
  it('UDP with received and rport: received:rport', () => {
    const v = via('10.0.0.1', 5070, { received: '192.0.2.7', rport: '40000' });
    expect(selectResponseDestination(v, udpFlow)).toEqual({ kind: 'address', transport: 'udp', address: '192.0.2.7', port: 40000 });
  });
  it('UDP with received only: received and the sent-by port', () => {
    const v = via('10.0.0.1', 5070, { received: '192.0.2.7' });
    expect(selectResponseDestination(v, udpFlow)).toEqual({ kind: 'address', transport: 'udp', address: '192.0.2.7', port: 5070 });
  });
  it('UDP with received and no sent-by port: port 5060', () => {
    const v = via('host.example', undefined, { received: '192.0.2.7' });
    expect(selectResponseDestination(v, udpFlow)).toMatchObject({ address: '192.0.2.7', port: 5060 });
  });
  it('UDP without received: the sent-by host and port', () => {
    expect(selectResponseDestination(via('192.0.2.7', 5080), udpFlow)).toMatchObject({ address: '192.0.2.7', port: 5080 });
  });
  it('strict (default): a maddr other than the source is ignored — received:rport wins', () => {
    const v = via('10.0.0.1', 5070, { maddr: '127.0.0.77', received: '192.0.2.7', rport: '40000' });
    expect(selectResponseDestination(v, udpFlow)).toEqual({ kind: 'address', transport: 'udp', address: '192.0.2.7', port: 40000 });
    expect(selectResponseDestination(v, udpFlow, 'strict')).toMatchObject({ address: '192.0.2.7' });
  });
  it('strict: a maddr equal to the source is honoured (it changes nothing but the port rule)', () => {
    const v = via('192.0.2.7', 5070, { maddr: '192.0.2.7' });
    expect(selectResponseDestination(v, udpFlow)).toMatchObject({ address: '192.0.2.7', port: 5070 });
  });
  it('rfc3261: maddr and the sent-by port, as §18.2.2 says', () => {
    const v = via('10.0.0.1', 5070, { maddr: '239.1.1.1', received: '192.0.2.7', rport: '1' });
    expect(selectResponseDestination(v, udpFlow, 'rfc3261')).toMatchObject({ address: '239.1.1.1', port: 5070 });
  });
  it('an unusable rport value falls back to the sent-by port', () => {
    const v = via('10.0.0.1', 5070, { received: '192.0.2.7', rport: '99999' });
    expect(selectResponseDestination(v, udpFlow)).toMatchObject({ port: 5070 });
  });
  it('strict: dead TCP/TLS → dropped, never a new connection to a Via address', () => {
    const v = via('127.0.0.77', 5070, { received: '192.0.2.7', rport: '40000' }, 'TCP');
    expect(selectResponseDestination(v, deadTcp)).toMatchObject({ kind: 'drop' });
    expect(selectResponseDestination(v, { ...deadTcp, transport: 'tls' })).toMatchObject({ kind: 'drop' });
  });
  it('rfc3261: dead TCP → a new connection to received and the sent-by port (not rport)', () => {
    const v = via('10.0.0.1', 5070, { received: '192.0.2.7', rport: '40000' }, 'TCP');
    expect(selectResponseDestination(v, deadTcp, 'rfc3261')).toEqual({ kind: 'address', transport: 'tcp', address: '192.0.2.7', port: 5070 });
  });
  it('dead WebSocket: nowhere to send, in both modes', () => {
    const v = via('x.invalid', undefined, { received: '192.0.2.7' }, 'WS');
    const deadWs = { transport: 'ws' as const, reliable: true, alive: false, remote };
    expect(selectResponseDestination(v, deadWs)).toMatchObject({ kind: 'none' });
    expect(selectResponseDestination(v, deadWs, 'rfc3261')).toMatchObject({ kind: 'none' });
  });
  it('a forged received/rport never steers a UDP response once the Via is stamped', () => {
    const forged = via('127.0.0.77', 5060, { received: '127.0.0.77', rport: '5060', maddr: '127.0.0.77' });
    const stamped = stampInboundVia(forged, remote)!;
    expect(selectResponseDestination(stamped, udpFlow)).toEqual({ kind: 'address', transport: 'udp', address: '192.0.2.7', port: 40000 });
  });
});

describe('advertised sent-by', () => {
  const points = [{ bound: { address: '0.0.0.0', port: 5060 }, sentBy: { address: '203.0.113.10', port: 15060 } }];

  it('the configured parts replace the bound ones', () => {
    expect(advertisedAddress({ address: '0.0.0.0', port: 5060 }, { address: '203.0.113.10' })).toEqual({ address: '203.0.113.10', port: 5060 });
    expect(advertisedAddress({ address: '0.0.0.0', port: 5060 }, { address: '203.0.113.10', port: 15060 })).toEqual({ address: '203.0.113.10', port: 15060 });
    expect(advertisedAddress({ address: '127.0.0.1', port: 5060 })).toEqual({ address: '127.0.0.1', port: 5060 });
  });

  it('a response Via naming our advertised address or a bound port is ours; another address and port is not', () => {
    expect(isOwnSentBy({ host: '203.0.113.10', port: 15060 }, points)).toBe(true);
    expect(isOwnSentBy({ host: '127.0.0.1', port: 5060 }, points)).toBe(true);
    expect(isOwnSentBy({ host: '198.51.100.1', port: 15060 }, points)).toBe(false);
    expect(isOwnSentBy({ host: '203.0.113.10', port: 5999 }, points)).toBe(false);
  });
});
