// The address-selection rule (gateway/config/addresses.ts) and its application to a whole config
// (gateway/config/resolve.ts), on injected interface lists: what goes on the wire, never a wildcard.
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  AddressError,
  candidateAddresses,
  isWildcard,
  parseAdvertise,
  selectAddress,
  type InterfaceList,
} from '../../../gateway/config/addresses.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { httpAdvertised, mediaAdvertised, pageUrl, sipListenPoints } from '../../../gateway/config/resolve.js';

function nic(address: string, internal = false): NetworkInterfaceInfo {
  const v6 = address.includes(':');
  const common = { address, internal, mac: '00:00:00:00:00:00', cidr: null };
  return v6
    ? { ...common, family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::', scopeid: 0 }
    : { ...common, family: 'IPv4', netmask: '255.255.255.0' };
}

const LO: InterfaceList = { lo: [nic('127.0.0.1', true), nic('::1', true)] };
const ONE: InterfaceList = { ...LO, eth0: [nic('198.51.100.7'), nic('fe80::1'), nic('2001:db8::7')] };
const TWO: InterfaceList = { ...ONE, eth1: [nic('203.0.113.5')] };

const point = (bind: string, advertise?: string) => ({ key: 'sip.listen[1]', hint: 'sip.listen[1].advertise or sip.advertise', bind, advertise });

describe('isWildcard / parseAdvertise', () => {
  it('knows every spelling of the wildcard and nothing else', () => {
    for (const w of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0', '::0']) expect(isWildcard(w), w).toBe(true);
    for (const a of ['127.0.0.1', '::1', 'example.com', '0.0.0.1', '', '::ffff:0.0.0.0']) expect(isWildcard(a), a).toBe(false);
  });

  it('reads host, host:port, bracketed and bare IPv6, DNS names; refuses the malformed', () => {
    expect(parseAdvertise('203.0.113.10')).toEqual({ host: '203.0.113.10' });
    expect(parseAdvertise('203.0.113.10:5080')).toEqual({ host: '203.0.113.10', port: 5080 });
    expect(parseAdvertise('sip.example.com:5061')).toEqual({ host: 'sip.example.com', port: 5061 });
    expect(parseAdvertise('[2001:db8::10]:5060')).toEqual({ host: '2001:db8::10', port: 5060 });
    expect(parseAdvertise('[2001:db8::10]')).toEqual({ host: '2001:db8::10' });
    expect(parseAdvertise('2001:db8::10')).toEqual({ host: '2001:db8::10' });
    for (const bad of ['', 'host:', 'host:0', 'host:65536', 'a b', '[example.com]:1', 'udp:1.2.3.4:5', '-bad-.com', '[::1']) {
      expect(parseAdvertise(bad), bad).toBeUndefined();
    }
  });
});

describe('selectAddress', () => {
  it('a specific bind address is what goes on the wire', () => {
    expect(selectAddress(point('127.0.0.1'), TWO)).toEqual({ host: '127.0.0.1' });
    expect(selectAddress(point('[2001:db8::7]'), TWO)).toEqual({ host: '2001:db8::7' });
  });

  it('an advertise wins over the bind, with or without a port', () => {
    expect(selectAddress(point('0.0.0.0', '203.0.113.10'), TWO)).toEqual({ host: '203.0.113.10' });
    expect(selectAddress(point('127.0.0.1', '203.0.113.10:5080'), TWO)).toEqual({ host: '203.0.113.10', port: 5080 });
    expect(selectAddress(point('::', '[2001:db8::10]:5062'), TWO)).toEqual({ host: '2001:db8::10', port: 5062 });
  });

  it('a wildcard with exactly one non-internal address of its family takes it (link-local IPv6 does not count)', () => {
    expect(selectAddress(point('0.0.0.0'), ONE)).toEqual({ host: '198.51.100.7' });
    expect(selectAddress(point('::'), ONE)).toEqual({ host: '2001:db8::7' });
    expect(candidateAddresses(ONE, 6)).toEqual(['2001:db8::7']);
  });

  it('a wildcard on a host with only loopback takes loopback of its family', () => {
    expect(selectAddress(point('0.0.0.0'), LO)).toEqual({ host: '127.0.0.1' });
    expect(selectAddress(point('::'), LO)).toEqual({ host: '::1' });
    expect(selectAddress(point('0.0.0.0'), {})).toEqual({ host: '127.0.0.1' });
  });

  it('a wildcard with several candidates stops start-up naming the key, the candidates and the fix', () => {
    let err: unknown;
    try {
      selectAddress(point('0.0.0.0'), TWO);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AddressError);
    const message = (err as Error).message;
    expect(message).toMatch(/^sip\.listen\[1\]: 0\.0\.0\.0 /);
    expect(message).toContain('198.51.100.7, 203.0.113.5');
    expect(message).toContain('set sip.listen[1].advertise or sip.advertise');
    // The IPv6 family has still only one: no error there.
    expect(selectAddress(point('::'), TWO)).toEqual({ host: '2001:db8::7' });
  });

  it('never returns a wildcard, even when one is passed as advertise', () => {
    expect(() => selectAddress(point('127.0.0.1', '0.0.0.0'), LO)).toThrow(/^sip\.listen\[1\]: cannot advertise "0\.0\.0\.0"/);
  });
});

describe('resolving a config', () => {
  const cfg = (raw: object) => parseConfig(raw, 'test.yaml');

  it('each listening point: its own advertise, else sip.advertise, else the bind/interface address', () => {
    const config = cfg({
      sip: {
        advertise: '203.0.113.10',
        listen: ['udp:0.0.0.0:5060', { listen: 'tcp:0.0.0.0:5060', advertise: '198.51.100.20:15060' }, { listen: 'udp:[::]:5062' }],
      },
    });
    expect(sipListenPoints(config, TWO)).toEqual([
      { transport: 'udp', address: '0.0.0.0', port: 5060, advertise: { address: '203.0.113.10' } },
      { transport: 'tcp', address: '0.0.0.0', port: 5060, advertise: { address: '198.51.100.20', port: 15060 } },
      { transport: 'udp', address: '::', port: 5062, advertise: { address: '203.0.113.10' } },
    ]);
    const bare = cfg({ sip: { listen: ['udp:0.0.0.0:5060', 'tcp:127.0.0.1:5060', 'udp:[::]:5062'] } });
    expect(sipListenPoints(bare, ONE).map((p) => p.advertise)).toEqual([{ address: '198.51.100.7' }, { address: '127.0.0.1' }, { address: '2001:db8::7' }]);
    expect(() => sipListenPoints(bare, TWO)).toThrow(/^sip\.listen\[0\]: /);
  });

  it('the page URL: http.advertise (with its port), else sip.advertise, else the bind; IPv6 in brackets', () => {
    const url = (raw: object, ifs: InterfaceList, bound = 8080) => {
      const config = cfg(raw);
      return pageUrl(config, httpAdvertised(config, ifs), bound);
    };
    expect(url({ http: { listen: '0.0.0.0:8080', advertise: 'phone.example.com:443', tls: { cert: 'c', key: 'k' } } }, TWO)).toBe('https://phone.example.com:443/');
    expect(url({ http: { listen: '0.0.0.0:0' }, sip: { advertise: '203.0.113.10' } }, TWO, 41234)).toBe('http://203.0.113.10:41234/');
    expect(url({ http: { listen: '[::]:8080' } }, ONE)).toBe('http://[2001:db8::7]:8080/');
    expect(url({ http: { listen: '0.0.0.0:8080' } }, LO)).toBe('http://127.0.0.1:8080/');
    expect(() => url({ http: { listen: '0.0.0.0:8080' } }, TWO)).toThrow(/^http\.listen: .*set http\.advertise/);
  });

  it('media: advertiseAddress, else the bind, else the interface address (sip.advertise does not apply)', () => {
    expect(mediaAdvertised(cfg({ media: { address: '0.0.0.0', advertiseAddress: '203.0.113.10' } }), TWO)).toBe('203.0.113.10');
    expect(mediaAdvertised(cfg({ media: { address: '0.0.0.0' }, sip: { advertise: '203.0.113.99' } }), ONE)).toBe('198.51.100.7');
    expect(mediaAdvertised(cfg({ media: { address: '0.0.0.0' } }), LO)).toBe('127.0.0.1');
    expect(() => mediaAdvertised(cfg({ media: { address: '0.0.0.0' } }), TWO)).toThrow(/^media\.address: .*set media\.advertiseAddress/);
  });
});
