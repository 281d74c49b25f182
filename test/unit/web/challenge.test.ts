import { describe, expect, it, vi } from 'vitest';
import { installChallengeShim, preferMd5Challenge } from '../../../web/challenge.js';

const md5 = 'WWW-Authenticate: Digest realm="gw", nonce="n1", algorithm=MD5, qop="auth"';
const sha = 'WWW-Authenticate: Digest realm="gw", nonce="n1", algorithm=SHA-256, qop="auth"';
const msg = (status: string, headers: string[], body = '') =>
  [status, 'Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK1', 'CSeq: 1 REGISTER', ...headers, `Content-Length: ${body.length}`, '', body].join('\r\n');

describe('web/challenge: preferMd5Challenge', () => {
  it('moves the MD5 challenge after SHA-256 (sip.js keeps the last one)', () => {
    const out = preferMd5Challenge(msg('SIP/2.0 401 Unauthorized', [md5, sha]));
    expect(out).toBe(msg('SIP/2.0 401 Unauthorized', [sha, md5]));
  });

  it('treats a challenge without algorithm as MD5 and handles Proxy-Authenticate', () => {
    const plain = 'Proxy-Authenticate: Digest realm="gw", nonce="n2"';
    const psha = 'proxy-authenticate: Digest realm="gw", nonce="n2", algorithm="SHA-256"';
    const out = preferMd5Challenge(msg('SIP/2.0 407 Proxy Authentication Required', [plain, psha]));
    expect(out).toBe(msg('SIP/2.0 407 Proxy Authentication Required', [psha, plain]));
  });

  it('leaves already-good, single-challenge, non-401 and body text alone', () => {
    const good = msg('SIP/2.0 401 Unauthorized', [sha, md5]);
    expect(preferMd5Challenge(good)).toBe(good);
    const single = msg('SIP/2.0 401 Unauthorized', [sha]);
    expect(preferMd5Challenge(single)).toBe(single);
    const ok = msg('SIP/2.0 200 OK', [md5, sha]);
    expect(preferMd5Challenge(ok)).toBe(ok);
    const req = `REGISTER sip:x SIP/2.0\r\n${md5}\r\n${sha}\r\n\r\n`;
    expect(preferMd5Challenge(req)).toBe(req);
    const body = msg('SIP/2.0 401 Unauthorized', [md5, sha], `${md5}\r\n${sha}`);
    expect(preferMd5Challenge(body).endsWith(`${md5}\r\n${sha}`)).toBe(true);
    expect(preferMd5Challenge('SIP/2.0 401 no header end')).toBe('SIP/2.0 401 no header end');
  });

  it('installs itself in front of the transport callback', () => {
    const deliver = vi.fn();
    const ua = { transport: { onMessage: deliver } };
    installChallengeShim(ua);
    ua.transport.onMessage(msg('SIP/2.0 401 Unauthorized', [md5, sha]));
    expect(deliver).toHaveBeenCalledWith(msg('SIP/2.0 401 Unauthorized', [sha, md5]));
  });
});
