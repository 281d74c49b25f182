import { describe, expect, it } from 'vitest';
import {
  answerChallenge,
  computeDigestResponse,
  DigestParseError,
  formatChallenge,
  parseAuthValue,
  parseChallenge,
  parseCredentials,
  pickBestChallenge,
} from '../../../gateway/sip/auth/index.js';

describe('auth-param parsing', () => {
  it('parses tokens, quoted strings and escapes', () => {
    const v = parseAuthValue('Digest realm="a \\"b\\" \\\\c", nonce="n,1", algorithm=SHA-256 ,  stale=TRUE');
    expect(v.scheme).toBe('Digest');
    expect(v.params).toEqual({ realm: 'a "b" \\c', nonce: 'n,1', algorithm: 'SHA-256', stale: 'TRUE' });
  });

  it('lower-cases parameter names and tolerates LWS around "="', () => {
    expect(parseAuthValue('Digest Realm = "x"').params.realm).toBe('x');
  });

  it.each([
    ['Digest realm="unterminated', 'unterminated quoted-string'],
    ['Digest realm', 'parameter "realm" has no value'],
    ['Digest realm="a" nonce="b"', 'expected ","'],
    ['Digest realm="a", realm="b"', 'duplicate parameter "realm"'],
    ['', 'missing auth scheme'],
  ])('rejects %j with a reason', (input, reason) => {
    expect(() => parseAuthValue(input)).toThrow(DigestParseError);
    expect(() => parseAuthValue(input)).toThrow(reason);
  });

  it('formats a challenge that parses back to itself (quoting escapes round-trip)', () => {
    const c = { realm: 'r "q" \\', nonce: 'abc', algorithm: 'SHA-256', qop: ['auth'], stale: true };
    const text = formatChallenge(c);
    expect(text).toBe('Digest realm="r \\"q\\" \\\\", nonce="abc", stale=TRUE, algorithm=SHA-256, qop="auth"');
    expect(parseChallenge(text)).toMatchObject(c);
  });

  it('refuses a non-Digest scheme and missing required params', () => {
    expect(() => parseChallenge('Basic realm="x"')).toThrow('unsupported auth scheme "Basic"');
    expect(() => parseChallenge('Digest realm="x"')).toThrow('missing "nonce" parameter');
    expect(() => parseCredentials('Digest username="u", realm="r", nonce="n", uri="sip:x"')).toThrow(
      'missing "response" parameter',
    );
  });
});

describe('RFC test vectors', () => {
  it('RFC 2617 §3.5 (MD5, qop=auth)', () => {
    const response = computeDigestResponse({
      algorithm: 'MD5',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  // RFC 7616 §3.9.1 (password "Circle of Life", lower-case "of" — erratum 4495).
  const rfc7616 = {
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  it.each([
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
  ])('RFC 7616 §3.9.1 %s through answerChallenge', (algorithm, expected) => {
    const challenge =
      `Digest realm="${rfc7616.realm}", qop="auth, auth-int", algorithm=${algorithm}, ` +
      `nonce="${rfc7616.nonce}", opaque="${rfc7616.opaque}"`;
    const auth = answerChallenge({
      challenge,
      username: 'Mufasa',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nc: 1,
      cnonce: rfc7616.cnonce,
    });
    const c = parseCredentials(auth);
    expect(c).toEqual({
      username: 'Mufasa',
      realm: rfc7616.realm,
      nonce: rfc7616.nonce,
      uri: '/dir/index.html',
      response: expected,
      algorithm,
      cnonce: rfc7616.cnonce,
      opaque: rfc7616.opaque,
      qop: 'auth',
      nc: '00000001',
    });
  });

  it('RFC 2069 mode (no qop): response = H(HA1:nonce:HA2), no nc/cnonce sent', () => {
    const auth = answerChallenge({
      challenge: 'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"',
      username: 'Mufasa',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
    });
    const c = parseCredentials(auth);
    expect(c.qop).toBeUndefined();
    expect(c.nc).toBeUndefined();
    expect(c.cnonce).toBeUndefined();
    expect(c.algorithm).toBeUndefined();
    // H(H("Mufasa:testrealm@host.com:Circle Of Life") ":" nonce ":" H("GET:/dir/index.html")), computed independently
    expect(c.response).toBe(
      computeDigestResponse({
        algorithm: 'MD5', username: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life',
        method: 'GET', uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      }),
    );
    expect(c.response).not.toBe('6629fae49393a05397450978507c4ef1');
  });

  it('-sess variants hash the cnonce into HA1', () => {
    const base = { challenge: 'Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256-sess', username: 'u',
      password: 'p', method: 'INVITE', uri: 'sip:a@b', nc: 1 };
    const a = parseCredentials(answerChallenge({ ...base, cnonce: 'c1' }));
    const b = parseCredentials(answerChallenge({ ...base, cnonce: 'c2' }));
    expect(a.algorithm).toBe('SHA-256-sess');
    expect(a.response).toHaveLength(64);
    expect(a.response).not.toBe(b.response);
  });

  it('refuses an unsupported algorithm with a reason', () => {
    expect(() =>
      answerChallenge({ challenge: 'Digest realm="r", nonce="n", algorithm=SHA-1', username: 'u', password: 'p',
        method: 'INVITE', uri: 'sip:a@b' }),
    ).toThrow('unsupported digest algorithm "SHA-1"');
  });
});

describe('pickBestChallenge', () => {
  const md5 = 'Digest realm="r", nonce="n", algorithm=MD5, qop="auth"';
  const sha = 'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"';
  it('prefers SHA-256 whatever the order', () => {
    expect(pickBestChallenge([md5, sha])).toBe(sha);
    expect(pickBestChallenge([sha, md5])).toBe(sha);
  });
  it('treats a missing algorithm as MD5 and skips unusable values', () => {
    const bare = 'Digest realm="r", nonce="n"';
    expect(pickBestChallenge(['Basic realm="x"', 'Digest realm="r", nonce="n", algorithm=SHA-1', bare])).toBe(bare);
    expect(pickBestChallenge(['garbage "', 'Basic realm="x"'])).toBeUndefined();
  });
});
