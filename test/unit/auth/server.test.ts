import { describe, expect, it } from 'vitest';
import {
  answerChallenge,
  createDigestServer,
  formatCredentials,
  parseChallenge,
  parseCredentials,
  type DigestServerOptions,
} from '../../../gateway/sip/auth/index.js';

const URI = 'sip:bob@gw.example.com';
const users: Record<string, string> = { alice: 'secret-a' };
const lookup = (u: string): string | undefined => users[u];

function setup(extra: Partial<DigestServerOptions> = {}) {
  const clock = { t: 1_700_000_000_000 };
  const server = createDigestServer({
    realm: 'gw.example.com',
    secret: Buffer.alloc(32, 7),
    now: () => clock.t,
    ...extra,
  });
  return { clock, server };
}

function answer(challenge: string, o: { username?: string; password?: string; nc?: number; uri?: string } = {}) {
  return answerChallenge({
    challenge,
    username: o.username ?? 'alice',
    password: o.password ?? 'secret-a',
    method: 'INVITE',
    uri: o.uri ?? URI,
    nc: o.nc ?? 1,
    cnonce: 'cn0nce',
  });
}

describe('createDigestServer challenge()', () => {
  it('offers SHA-256 then MD5 with one shared nonce and qop=auth (RFC 8760 §2.4)', () => {
    const { server } = setup();
    const [first, second, ...rest] = server.challenge().map(parseChallenge);
    expect(rest).toHaveLength(0);
    expect(first).toMatchObject({ realm: 'gw.example.com', algorithm: 'SHA-256', qop: ['auth'], stale: false });
    expect(second).toMatchObject({ algorithm: 'MD5', qop: ['auth'] });
    expect(first!.nonce).toBe(second!.nonce);
  });

  it('issues distinct nonces even within the same millisecond, and marks stale on request', () => {
    const { server } = setup({ algorithms: ['MD5'] });
    const a = parseChallenge(server.challenge()[0]!);
    const b = parseChallenge(server.challenge({ stale: true })[0]!);
    expect(a.nonce).not.toBe(b.nonce);
    expect(b.stale).toBe(true);
  });
});

describe('createDigestServer verify()', () => {
  it.each(['SHA-256', 'MD5'])('accepts a correct %s answer (round trip)', (alg) => {
    const { server } = setup();
    const ch = server.challenge().find((c) => parseChallenge(c).algorithm === alg)!;
    expect(server.verify('INVITE', URI, answer(ch), lookup)).toEqual({ ok: true, username: 'alice', algorithm: alg });
  });

  it('rejects a wrong password, without stale', () => {
    const { server } = setup();
    const r = server.verify('INVITE', URI, answer(server.challenge()[0]!, { password: 'nope' }), lookup);
    expect(r).toEqual({ ok: false, stale: false, reason: 'bad credentials' });
  });

  it('an unknown user looks exactly like a wrong password', () => {
    const { server } = setup();
    const ch = server.challenge()[0]!;
    const unknown = server.verify('INVITE', URI, answer(ch, { username: 'mallory', password: 'x' }), lookup);
    const wrong = server.verify('INVITE', URI, answer(ch, { password: 'x' }), lookup);
    expect(unknown).toEqual(wrong);
    expect(unknown.ok).toBe(false);
  });

  it('the lookup is consulted for an unknown user too (same work path)', () => {
    const { server } = setup();
    const seen: string[] = [];
    server.verify('INVITE', URI, answer(server.challenge()[0]!, { username: 'mallory' }), (u) => {
      seen.push(u);
      return undefined;
    });
    expect(seen).toEqual(['mallory']);
  });

  it('rejects a response computed for another method', () => {
    const { server } = setup();
    expect(server.verify('BYE', URI, answer(server.challenge()[0]!), lookup)).toMatchObject({ ok: false, stale: false });
  });

  it('an expired but authentic nonce with a valid digest → stale=true', () => {
    const { server, clock } = setup({ nonceTtlMs: 60_000 });
    const ch = server.challenge()[0]!;
    clock.t += 60_001;
    expect(server.verify('INVITE', URI, answer(ch), lookup)).toEqual({ ok: false, stale: true, reason: 'nonce expired' });
  });

  it('an expired nonce with a wrong password is not stale (stale only when the digest is valid)', () => {
    const { server, clock } = setup({ nonceTtlMs: 60_000 });
    const ch = server.challenge()[0]!;
    clock.t += 60_001;
    expect(server.verify('INVITE', URI, answer(ch, { password: 'x' }), lookup)).toMatchObject({ stale: false });
  });

  it('the nonce is still good just before the TTL', () => {
    const { server, clock } = setup({ nonceTtlMs: 60_000 });
    const ch = server.challenge()[0]!;
    clock.t += 60_000;
    expect(server.verify('INVITE', URI, answer(ch), lookup).ok).toBe(true);
  });

  it('nonce counts must strictly increase per nonce (replay rejected, answered stale: the digest matched)', () => {
    const { server } = setup();
    const ch = server.challenge()[0]!;
    const first = answer(ch, { nc: 1 });
    expect(server.verify('INVITE', URI, first, lookup).ok).toBe(true);
    expect(server.verify('INVITE', URI, first, lookup)).toEqual({ ok: false, stale: true, reason: 'nonce count replayed' });
    expect(server.verify('INVITE', URI, answer(ch, { nc: 3 }), lookup).ok).toBe(true);
    expect(server.verify('INVITE', URI, answer(ch, { nc: 2 }), lookup).ok).toBe(false);
    expect(server.verify('INVITE', URI, answer(ch, { nc: 4 }), lookup).ok).toBe(true);
  });

  it('a failed attempt does not advance the nonce count', () => {
    const { server } = setup();
    const ch = server.challenge()[0]!;
    expect(server.verify('INVITE', URI, answer(ch, { nc: 9, password: 'x' }), lookup).ok).toBe(false);
    expect(server.verify('INVITE', URI, answer(ch, { nc: 1 }), lookup).ok).toBe(true);
  });

  it('when the replay table overflows, forgotten nonces get stale=true instead of accepting replays', () => {
    const { server, clock } = setup({ maxTrackedNonces: 2 });
    const chs = [0, 1, 2].map(() => {
      clock.t += 1;
      return server.challenge()[0]!;
    });
    const firstUse = answer(chs[0]!);
    expect(server.verify('INVITE', URI, firstUse, lookup).ok).toBe(true);
    expect(server.verify('INVITE', URI, answer(chs[1]!), lookup).ok).toBe(true);
    expect(server.verify('INVITE', URI, answer(chs[2]!), lookup).ok).toBe(true); // evicts nonce 0
    expect(server.verify('INVITE', URI, firstUse, lookup)).toMatchObject({ ok: false, stale: true });
    const fresh = server.challenge()[0]!;
    expect(server.verify('INVITE', URI, answer(fresh), lookup).ok).toBe(true);
  });

  it('rejects a tampered nonce', () => {
    const { server } = setup();
    const ch = parseChallenge(server.challenge()[0]!);
    const n = ch.nonce;
    const flipped = n.slice(0, 5) + (n[5] === 'A' ? 'B' : 'A') + n.slice(6);
    const tampered = answer(`Digest realm="${ch.realm}", nonce="${flipped}", qop="auth", algorithm=SHA-256`);
    expect(server.verify('INVITE', URI, tampered, lookup)).toEqual({
      ok: false, stale: false, reason: 'nonce not issued by this server',
    });
  });

  it('rejects a nonce issued under another secret', () => {
    const { server } = setup();
    const other = createDigestServer({ realm: 'gw.example.com', secret: Buffer.alloc(32, 8) });
    const r = server.verify('INVITE', URI, answer(other.challenge()[0]!), lookup);
    expect(r).toMatchObject({ ok: false, reason: 'nonce not issued by this server' });
  });

  it('rejects a realm mismatch', () => {
    const { server } = setup();
    const ch = parseChallenge(server.challenge()[0]!);
    const other = answer(`Digest realm="evil.example", nonce="${ch.nonce}", qop="auth", algorithm=SHA-256`);
    expect(server.verify('INVITE', URI, other, lookup)).toEqual({
      ok: false, stale: false, reason: 'realm mismatch: "evil.example"',
    });
  });

  it('rejects a digest uri that differs from the Request-URI', () => {
    const { server } = setup();
    const auth = answer(server.challenge()[0]!, { uri: 'sip:other@gw.example.com' });
    expect(server.verify('INVITE', URI, auth, lookup)).toMatchObject({
      ok: false, reason: 'digest uri does not match the Request-URI',
    });
  });

  it('rejects an algorithm it did not offer, and missing qop', () => {
    const { server } = setup({ algorithms: ['SHA-256'] });
    const nonce = parseChallenge(server.challenge()[0]!).nonce;
    const md5 = answer(`Digest realm="gw.example.com", nonce="${nonce}", qop="auth", algorithm=MD5`);
    expect(server.verify('INVITE', URI, md5, lookup)).toMatchObject({ ok: false, reason: 'unsupported algorithm "MD5"' });
    const noQop = answer(`Digest realm="gw.example.com", nonce="${nonce}", algorithm=SHA-256`);
    expect(server.verify('INVITE', URI, noQop, lookup)).toMatchObject({ ok: false, reason: 'qop=auth required' });
  });

  it('rejects a malformed nc', () => {
    const { server } = setup();
    const c = parseCredentials(answer(server.challenge()[0]!));
    const bad = formatCredentials({ ...c, nc: '1' });
    expect(server.verify('INVITE', URI, bad, lookup)).toMatchObject({ ok: false, reason: 'nc must be 8 hex digits' });
  });

  it('never throws on garbage; each failure carries a reason', () => {
    const { server } = setup();
    for (const bad of [undefined, '', 'Digest', 'Digest username="x', 'Basic abc', 'Digest username="a", realm="b"']) {
      const r = server.verify('INVITE', URI, bad, lookup);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/\S/);
    }
  });
});
