// udp.ts literalLookup: the address lookup dgram runs for every send. IP literals are answered before
// the call returns (no tick per datagram); anything else still goes through dns.lookup.
import { describe, expect, it } from 'vitest';
import { literalLookup } from '../../../gateway/media/udp.js';

type Answer = { err: Error | null; address: string; family: number };

function ask(lookup: ReturnType<typeof literalLookup>, address: string, family: number): { sync: Answer | undefined; done: Promise<Answer> } {
  let sync: Answer | undefined;
  let returned = false;
  const done = new Promise<Answer>((resolve) => {
    lookup(address, family, (err, a, f) => {
      const answer = { err, address: a, family: f };
      if (!returned) sync = answer;
      resolve(answer);
    });
  });
  returned = true;
  return { sync, done };
}

describe('literalLookup', () => {
  it('answers an IPv4 or IPv6 literal synchronously, the first time and from its cache', () => {
    const lookup = literalLookup();
    for (let i = 0; i < 3; i++) expect(ask(lookup, '192.0.2.7', 4).sync).toEqual({ err: null, address: '192.0.2.7', family: 4 });
    expect(ask(lookup, '2001:db8::1', 6).sync).toEqual({ err: null, address: '2001:db8::1', family: 6 });
    expect(ask(lookup, '192.0.2.8', 4).sync).toEqual({ err: null, address: '192.0.2.8', family: 4 });
  });

  it('leaves a host name, or a literal of the other family, to dns.lookup (answered later)', async () => {
    const lookup = literalLookup();
    const name = ask(lookup, 'localhost', 4);
    expect(name.sync).toBeUndefined();
    expect((await name.done).err).toBeNull();
    const other = ask(lookup, '192.0.2.7', 6);
    expect(other.sync).toBeUndefined();
    await other.done;
    const again = ask(lookup, 'localhost', 4);
    expect(again.sync).toBeUndefined();
    await again.done;
  });
});
