import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTrunkAcl, normalizeIp, trunkHosts } from '../../../gateway/call/trunk-acl.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { FakeFlow, settle } from './fakes.js';

const logger = createLogger('silent');
const trunks = configSchema.parse({
  trunks: [
    { name: 'numeric', uri: 'sip:192.0.2.10:5060', addresses: ['198.51.100.7', '[2001:db8::1]'] },
    { name: 'named', uri: 'sip:trunk.example.test;transport=tcp' },
  ],
}).trunks;

const from = (address: string, transport: 'udp' | 'tcp' | 'ws' = 'udp') => new FakeFlow('f', transport, undefined, { address, port: 5060 });

afterEach(() => {
  vi.useRealTimers();
});

describe('trunk ACL', () => {
  it('lists the URI host and the configured addresses, normalised', () => {
    expect(trunkHosts(trunks[0]!)).toEqual(['192.0.2.10', '198.51.100.7', '2001:db8::1']);
    expect(normalizeIp('::ffff:192.0.2.10')).toBe('192.0.2.10');
  });

  it('accepts the numeric URI host and the extra addresses, by source IP only', () => {
    const acl = createTrunkAcl({ trunks, logger, lookup: async () => [] });
    expect(acl.trunkFor(from('192.0.2.10'))?.name).toBe('numeric');
    expect(acl.trunkFor(from('::ffff:198.51.100.7'))?.name).toBe('numeric');
    expect(acl.trunkFor(from('2001:DB8::1', 'tcp'))?.name).toBe('numeric');
    expect(acl.trunkFor(from('192.0.2.11'))).toBeUndefined();
    acl.close();
  });

  it('never takes a WebSocket flow for a trunk, even from a trunk address', () => {
    const acl = createTrunkAcl({ trunks, logger, lookup: async () => [] });
    expect(acl.trunkFor(from('192.0.2.10', 'ws'))).toBeUndefined();
    acl.close();
  });

  it('resolves names at start and again on refresh; a failed lookup keeps the old addresses', async () => {
    vi.useFakeTimers();
    const answers: Array<string[] | Error> = [['203.0.113.5'], new Error('SERVFAIL'), ['203.0.113.6']];
    const lookup = vi.fn(async (host: string) => {
      expect(host).toBe('trunk.example.test');
      const next = answers.shift()!;
      if (next instanceof Error) throw next;
      return next;
    });
    const acl = createTrunkAcl({ trunks, logger, lookup, refreshMs: 1000 });
    expect(acl.trunkFor(from('203.0.113.5'))).toBeUndefined(); // not resolved yet
    await settle();
    expect(acl.trunkFor(from('203.0.113.5'))?.name).toBe('named');
    await vi.advanceTimersByTimeAsync(1000); // SERVFAIL: still the old address
    expect(acl.trunkFor(from('203.0.113.5'))?.name).toBe('named');
    await vi.advanceTimersByTimeAsync(1000);
    expect(acl.trunkFor(from('203.0.113.5'))).toBeUndefined();
    expect(acl.trunkFor(from('203.0.113.6'))?.name).toBe('named');
    expect(lookup).toHaveBeenCalledTimes(3);
    acl.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(lookup).toHaveBeenCalledTimes(3);
  });
});

describe('trunk ACL index', () => {
  it('answers from an index rebuilt when the trunk list changes or a name resolves anew', async () => {
    let answer = ['192.0.2.10'];
    const t = (name: string, uri: string, addresses: string[] = []) => ({ name, uri, addresses }) as never;
    const acl = createTrunkAcl({ trunks: [t('a', 'sip:192.0.2.1'), t('b', 'sip:pbx.test', ['192.0.2.2'])], logger: createLogger('silent'), lookup: async () => answer });
    const from = (address: string) => ({ transport: 'udp', remote: { address, port: 5060 } }) as never;
    await acl.refresh();
    expect([acl.trunkFor(from('192.0.2.1')), acl.trunkFor(from('192.0.2.2')), acl.trunkFor(from('192.0.2.10'))].map((x) => (x as { name?: string } | undefined)?.name)).toEqual(['a', 'b', 'b']);
    answer = ['192.0.2.11'];
    await acl.refresh();
    expect(acl.trunkFor(from('192.0.2.10'))).toBeUndefined();
    expect((acl.trunkFor(from('192.0.2.11')) as { name: string }).name).toBe('b');
    acl.update([t('c', 'sip:192.0.2.1')]);
    expect((acl.trunkFor(from('192.0.2.1')) as { name: string }).name).toBe('c');
    expect(acl.trunkFor(from('192.0.2.2'))).toBeUndefined();
    acl.close();
  });
});
