// "Keep me signed in": device tokens (http/device-tokens.ts) authenticate as their account through the
// digest server and the HTTP Basic check, expire, are revocable, and never shadow a configured user.
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../gateway/config/load.js';
import { DeviceTokens, TOKEN_TTL_MS, TOKENS_PER_USER } from '../../../gateway/http/device-tokens.js';
import { answerChallenge, createDigestServer } from '../../../gateway/sip/auth/index.js';
import { accountOf, addSecrets, passwordCheck, passwordLookup, realmOf } from '../../../gateway/sip/ua/credentials.js';
import { DEFAULT_CONFIG_FILE } from '../../e2e/helpers.js';

function setup() {
  const config = loadConfigFile(DEFAULT_CONFIG_FILE);
  let now = 1_000_000;
  const tokens = new DeviceTokens({ realm: realmOf(config), isAccount: (n) => config.users.some((u) => u.name === n), now: () => now });
  addSecrets(config, tokens);
  return { config, tokens, advance: (ms: number) => { now += ms; } };
}

describe('http/device-tokens', () => {
  it('a token is a user name of its own and a 256-bit secret; it checks as its account, the password untouched', () => {
    const { config, tokens } = setup();
    const t = tokens.issue('alice');
    expect(t.username).toMatch(/^alice~[0-9a-f]{16}$/);
    expect(t.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const check = passwordCheck(config);
    expect(check(t.username, t.token)).toBe(true);
    expect(check(t.username, 'alice')).toBe(false);
    expect(check('alice', t.token)).toBe(false); // the token is not alice's password
    expect(check('alice', 'alice')).toBe(true);
    expect(accountOf(config, t.username)).toBe('alice');
    expect(accountOf(config, 'alice')).toBe('alice');
    expect(accountOf(config, 'alice~0000000000000000')).toBeUndefined();
    // Stored: the HA1s only, never the secret.
    expect(JSON.stringify(passwordLookup(config)(t.username))).not.toContain(t.token);
  });

  it('RFC 7616 digest: a REGISTER answered with the token verifies, as the token user name', () => {
    const { config, tokens } = setup();
    const t = tokens.issue('bob');
    const digest = createDigestServer({ realm: realmOf(config), algorithms: ['SHA-256', 'MD5'] });
    for (const algorithm of [0, 1]) { // SHA-256, MD5 (sip.js): a fresh nonce each (nonce counts are tracked)
      const challenge = digest.challenge()[algorithm]!;
      const authz = answerChallenge({ challenge, username: t.username, password: t.token, method: 'REGISTER', uri: 'sip:gateway' });
      const result = digest.verify('REGISTER', 'sip:gateway', authz, passwordLookup(config));
      expect(result).toMatchObject({ ok: true, username: t.username });
      const wrong = answerChallenge({ challenge: digest.challenge()[algorithm]!, username: t.username, password: 'bob', method: 'REGISTER', uri: 'sip:gateway' });
      expect(digest.verify('REGISTER', 'sip:gateway', wrong, passwordLookup(config)).ok).toBe(false);
    }
  });

  it('expires after 30 days; revoke and revokeAll end it at once', () => {
    const { config, tokens, advance } = setup();
    const check = passwordCheck(config);
    const a = tokens.issue('alice');
    const b = tokens.issue('alice');
    const c = tokens.issue('bob');
    advance(TOKEN_TTL_MS - 1);
    expect(check(a.username, a.token)).toBe(true);
    expect(tokens.revoke(a.username)).toBe(true);
    expect(check(a.username, a.token)).toBe(false);
    expect(accountOf(config, a.username)).toBeUndefined();
    expect(tokens.revokeAll('alice')).toBe(1);
    expect(check(b.username, b.token)).toBe(false);
    expect(check(c.username, c.token)).toBe(true);
    advance(1);
    expect(check(c.username, c.token)).toBe(false);
    expect(tokens.list('bob')).toEqual([]);
  });

  it('at most 5 per user: the oldest goes; only configured accounts get one', () => {
    const { config, tokens, advance } = setup();
    const issued: Array<{ username: string; token: string }> = [];
    for (let i = 0; i <= TOKENS_PER_USER; i += 1) {
      issued.push(tokens.issue('alice'));
      advance(1);
    }
    expect(tokens.list('alice')).toHaveLength(TOKENS_PER_USER);
    expect(passwordCheck(config)(issued[0]!.username, issued[0]!.token)).toBe(false);
    expect(passwordCheck(config)(issued[1]!.username, issued[1]!.token)).toBe(true);
    expect(() => tokens.issue('mallory')).toThrow(/not an account/);
    expect(() => tokens.issue(issued[1]!.username)).toThrow(/not an account/);
  });
});
