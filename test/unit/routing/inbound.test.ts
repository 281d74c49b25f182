import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../gateway/config/schema.js';
import { didOwner, inboundUser, localUser, routeFromUser } from '../../../gateway/routing/index.js';

const config = configSchema.parse({
  users: [
    { name: 'alice', password: 'a', extension: '201', dids: ['+15550100'] },
    { name: 'bob', password: 'b', extension: '202', dids: ['4420799'] },
    { name: 'carol', password: 'c' },
  ],
  trunks: [{ name: 'main', uri: 'sip:127.0.0.1:5099' }],
  routes: [
    { match: '^\\*43$', echo: true },
    { match: '^9\\d+$', trunk: 'main' },
    { match: '^900$', user: 'carol' },
    { match: '^7\\d\\d$', user: 'carol' },
  ],
});

describe('didOwner', () => {
  it('matches a DID exactly after RFC 3966 normalisation', () => {
    expect(didOwner('+1 555-0100', config)?.name).toBe('alice');
  });
  it('matches up to a leading "+" either way', () => {
    expect(didOwner('15550100', config)?.name).toBe('alice');
    expect(didOwner('+4420799', config)?.name).toBe('bob');
  });
  it('finds nothing for other numbers, a prefix or an empty string', () => {
    expect(didOwner('1555010', config)).toBeUndefined();
    expect(didOwner('', config)).toBeUndefined();
  });
});

describe('localUser', () => {
  it('finds a user by name or extension', () => {
    expect(localUser('bob', config)?.name).toBe('bob');
    expect(localUser('201', config)?.name).toBe('alice');
    expect(localUser('203', config)).toBeUndefined();
  });
});

describe('inboundUser', () => {
  it('rings the DID owner first', () => {
    expect(inboundUser('+15550100', config)?.name).toBe('alice');
  });
  it('then the first matching user route, skipping trunk routes that match too', () => {
    // "900" matches the trunk route ^9\d+$ first; inbound only user routes count.
    expect(inboundUser('900', config)?.name).toBe('carol');
    expect(inboundUser('712', config)?.name).toBe('carol');
  });
  it('never applies the echo line, extensions or names inbound', () => {
    expect(inboundUser('*43', config)).toBeUndefined();
    expect(inboundUser('201', config)).toBeUndefined();
    expect(inboundUser('alice', config)).toBeUndefined();
  });
});

describe('routeFromUser', () => {
  it('checks names and extensions before routes', () => {
    const r = routeFromUser('202', config);
    expect(r.kind === 'user' && r.user.name).toBe('bob');
    expect(routeFromUser('carol', config).kind).toBe('user');
  });
  it('rings a local DID owner without going out the trunk', () => {
    const r = routeFromUser('+15550100', config);
    expect(r.kind === 'user' && r.user.name).toBe('alice');
  });
  it('falls back to the ordered routes', () => {
    expect(routeFromUser('*43', config).kind).toBe('echo');
    expect(routeFromUser('9123', config).kind).toBe('trunk');
    expect(routeFromUser('712', config).kind).toBe('user');
    expect(routeFromUser('555', config).kind).toBe('none');
  });
});
