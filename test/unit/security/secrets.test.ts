// Item 7: passwords stored as digest HA1 (RFC 7616 §3.4.2), demo users refused on a non-loopback listen.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';
import { isLoopbackHost } from '../../../gateway/config/security.js';
import { answerChallenge, createDigestServer, parseChallenge, secretMatches, type UserSecret } from '../../../gateway/sip/auth/index.js';
import { passwordCheck } from '../../../gateway/sip/ua/credentials.js';

const REALM = 'gw.example.com';
const h = (alg: string, s: string): string => createHash(alg).update(s).digest('hex');
const ha1Of = (user: string, password: string, realm = REALM) => ({ realm, md5: h('md5', `${user}:${realm}:${password}`), sha256: h('sha256', `${user}:${realm}:${password}`) });

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'x.yaml');
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

function verifyWith(secret: UserSecret | undefined, alg: 'MD5' | 'SHA-256', password: string) {
  const server = createDigestServer({ realm: REALM, secret: Buffer.alloc(32, 3), now: () => 1_700_000_000_000 });
  const challenge = server.challenge().find((c) => parseChallenge(c).algorithm === alg)!;
  const auth = answerChallenge({ challenge, username: 'carol', password, method: 'REGISTER', uri: 'sip:gw.example.com', nc: 1, cnonce: 'c' });
  return server.verify('REGISTER', 'sip:gw.example.com', auth, (u) => (u === 'carol' ? secret : undefined));
}

describe('HA1 secrets in the digest server', () => {
  it.each(['MD5', 'SHA-256'] as const)('a stored HA1 verifies the right password over %s and refuses a wrong one', (alg) => {
    const { md5, sha256 } = ha1Of('carol', 's3cret');
    expect(verifyWith({ ha1: { md5, sha256 } }, alg, 's3cret')).toMatchObject({ ok: true, username: 'carol' });
    expect(verifyWith({ ha1: { md5: md5.toUpperCase(), sha256 } }, alg, 's3cret').ok).toBe(true);
    expect(verifyWith({ ha1: { md5, sha256 } }, alg, 'wrong')).toEqual({ ok: false, stale: false, reason: 'bad credentials' });
  });

  it('an algorithm whose HA1 is not stored fails exactly like an unknown user', () => {
    const { md5 } = ha1Of('carol', 's3cret');
    expect(verifyWith({ ha1: { md5 } }, 'SHA-256', 's3cret')).toEqual(verifyWith(undefined, 'SHA-256', 's3cret'));
    expect(verifyWith({ ha1: { md5 } }, 'MD5', 's3cret').ok).toBe(true);
  });

  it('HTTP Basic (GET /api/ice-servers) checks a plain password against the stored HA1', () => {
    const { md5, sha256 } = ha1Of('carol', 's3cret');
    expect(secretMatches({ ha1: { sha256 } }, 'carol', REALM, 's3cret')).toBe(true);
    expect(secretMatches({ ha1: { md5 } }, 'carol', REALM, 's3cret')).toBe(true);
    expect(secretMatches({ ha1: { md5, sha256 } }, 'carol', REALM, 'S3cret')).toBe(false);
    expect(secretMatches({ ha1: { md5 } }, 'carol', 'other', 's3cret')).toBe(false);
    expect(secretMatches(undefined, 'carol', REALM, 's3cret')).toBe(false);
    const check = passwordCheck(parseConfig({ sip: { realm: REALM }, users: [{ name: 'carol', password: { ha1: ha1Of('carol', 's3cret') } }, { name: 'dan', password: 'd' }] }, 'x.yaml'));
    expect([check('carol', 's3cret'), check('carol', 'x'), check('dan', 'd'), check('dan', 'x'), check('eve', 'd')]).toEqual([true, false, true, false, false]);
  });
});

describe('users[].password as HA1 in the config', () => {
  it('takes { ha1: { realm, md5, sha256 } } made for the digest realm', () => {
    const cfg = parseConfig({ sip: { domain: 'example.com' }, users: [{ name: 'carol', password: { ha1: ha1Of('carol', 'x', 'example.com') } }] }, 'x.yaml');
    expect(cfg.users[0]!.password).toMatchObject({ ha1: { realm: 'example.com' } });
  });

  it('refuses an HA1 made for another realm, bad hex, none given, and no password at all, naming the key', () => {
    expect(problems({ users: [{ name: 'carol', password: { ha1: ha1Of('carol', 'x', 'old.example') } }] })).toEqual([
      'users[0].password.ha1.realm: HA1 was made for realm "old.example" but the digest realm is "gateway" (sip.realm, else sip.domain, else "gateway"): recompute H(user:realm:password) for it',
    ]);
    expect(problems({ users: [{ name: 'carol', password: { ha1: { realm: 'gateway', md5: 'abc' } } }] })).toEqual(['users[0].password.ha1.md5: expected 32 hex digits']);
    expect(problems({ users: [{ name: 'carol', password: { ha1: { realm: 'gateway' } } }] })).toEqual(['users[0].password.ha1: give md5, sha256 or both']);
    expect(problems({ users: [{ name: 'carol' }] })).toEqual(['users[0].password: expected a password, or { ha1: { realm, md5?, sha256? } }']);
  });
});

describe('demo users on a non-loopback listen', () => {
  const demo = [{ name: 'alice', password: 'alice' }, { name: 'bob', password: 'bob' }];

  it('are refused on http.listen 0.0.0.0 and on a public sip.listen, naming the key and the user', () => {
    expect(problems({ http: { listen: '0.0.0.0:8080' }, users: demo })).toEqual([
      'users[0].password: demo user "alice" still has its demo password and http.listen "0.0.0.0:8080" is not loopback: change the password, or set security.allowDemoUsers: true',
      'users[1].password: demo user "bob" still has its demo password and http.listen "0.0.0.0:8080" is not loopback: change the password, or set security.allowDemoUsers: true',
    ]);
    const p = problems({ sip: { listen: ['udp:127.0.0.1:5060', { listen: 'tcp:192.0.2.10:5060' }] }, users: [{ name: 'bob', password: { ha1: ha1Of('bob', 'bob', 'gateway') } }] });
    expect(p).toEqual(['users[0].password: demo user "bob" still has its demo password and sip.listen[1] "tcp:192.0.2.10:5060" is not loopback: change the password, or set security.allowDemoUsers: true']);
  });

  it('are fine on loopback, with security.allowDemoUsers: true, or with a changed password', () => {
    expect(problems({ http: { listen: '127.0.0.5:8080' }, sip: { listen: ['udp:[::1]:5060'] }, users: demo })).toEqual([]);
    expect(problems({ http: { listen: '0.0.0.0:8080' }, users: demo, security: { allowDemoUsers: true } })).toEqual([]);
    expect(problems({ http: { listen: '0.0.0.0:8080' }, users: [{ name: 'alice', password: 'long-and-random' }] })).toEqual([]);
  });

  it('loopback means 127/8, ::1 and localhost', () => {
    expect(['127.0.0.1', '127.9.8.7', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '192.0.2.1', 'gw.example.com', '128.0.0.1'].some(isLoopbackHost)).toBe(false);
  });
});

describe('the security block', () => {
  it('defaults every protection on', () => {
    expect(parseConfig({}, 'x.yaml').security).toEqual({
      rateLimit: { requestsPerSecond: 20, burst: 100 },
      ban: { seconds: 600 },
      authFailures: { max: 5, windowSeconds: 300, lockoutSeconds: 900 },
      dropUserAgents: expect.arrayContaining(['friendly-scanner', 'sipvicious', 'sipcli', 'sip-scan', 'VaxSIPUserAgent']),
      allowDemoUsers: false,
    });
    expect(parseConfig({ security: { rateLimit: false } }, 'x.yaml').security.rateLimit).toBe(false);
    expect(problems({ security: { authFailures: { max: 0 } } })).toEqual(['security.authFailures.max: Number must be greater than or equal to 1']);
  });
});
