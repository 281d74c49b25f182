// TURN REST API credentials (draft-uberti-behave-turn-rest-00 §2.2), as coturn's use-auth-secret checks them.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { iceServersFor, mintTurnCredential, turnRestPassword } from '../../../gateway/http/turn-credentials.js';

// 2023-11-14T22:13:20Z; expiry = that + 3600 s.
const NOW_MS = 1_700_000_000_000;

describe('TURN REST credentials', () => {
  it('username is "<expiry>:<user>", the credential base64(HMAC-SHA1(secret, username))', () => {
    const c = mintTurnCredential('north-wind', 'alice', 3600, NOW_MS + 999);
    expect(c.username).toBe('1700003600:alice');
    expect(c.expiresAt).toBe(1_700_003_600);
    // Computed independently: printf '%s' '1700003600:alice' | openssl dgst -sha1 -hmac 'north-wind' -binary | base64
    expect(c.credential).toBe('iRtTIZ3N38dm9S+dP+UkHfnN9Qo=');
  });

  it('matches the RFC 2202 HMAC-SHA1 test case 2 (key "Jefe")', () => {
    const expected = Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex').toString('base64');
    expect(turnRestPassword('Jefe', 'what do ya want for nothing?')).toBe(expected);
  });

  it('a different secret, user or time gives a different credential', () => {
    const base = mintTurnCredential('north-wind', 'alice', 3600, NOW_MS);
    expect(mintTurnCredential('south-wind', 'alice', 3600, NOW_MS).credential).not.toBe(base.credential);
    expect(mintTurnCredential('north-wind', 'bob', 3600, NOW_MS).credential).not.toBe(base.credential);
    expect(mintTurnCredential('north-wind', 'alice', 3600, NOW_MS + 1000).username).toBe('1700003601:alice');
  });

  it('hands out the configured urls with one credential, and nothing without a turn section', () => {
    const cfg = parseConfig({ turn: { urls: ['turn:203.0.113.40:3478?transport=udp', 'turn:203.0.113.40:3478?transport=tcp'], secret: 's3' } }, 't.yaml');
    expect(cfg.turn!.ttl).toBe(3600);
    const r = iceServersFor(cfg.turn, 'alice', NOW_MS);
    expect(r).toEqual({
      iceServers: [{ urls: cfg.turn!.urls, username: '1700003600:alice', credential: turnRestPassword('s3', '1700003600:alice') }],
      ttl: 3600,
    });
    expect(iceServersFor(undefined, 'alice', NOW_MS)).toEqual({ iceServers: [], ttl: 0 });
  });
});
