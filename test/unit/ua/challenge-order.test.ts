import { describe, expect, it } from 'vitest';
import { challengeOrder } from '../../../gateway/sip/ua/credentials.js';

const sha = 'Digest realm="gw", nonce="n", qop="auth", algorithm=SHA-256';
const md5 = 'Digest realm="gw", nonce="n", qop="auth", algorithm=MD5';
const bare = 'Digest realm="gw", nonce="n"'; // RFC 2617 §3.2.1: no algorithm means MD5

describe('challengeOrder', () => {
  it('keeps the server order (SHA-256 first, MD5 last) over WebSocket, where sip.js keeps the last', () => {
    expect(challengeOrder('ws', [sha, md5])).toEqual([sha, md5]);
    expect(challengeOrder('wss', [sha, md5])).toEqual([sha, md5]);
  });

  it('puts MD5 first for SIP phones over UDP, TCP and TLS, which answer the first', () => {
    for (const t of ['udp', 'tcp', 'tls'] as const) expect(challengeOrder(t, [sha, md5])).toEqual([md5, sha]);
    expect(challengeOrder('udp', [sha, bare])).toEqual([bare, sha]);
  });
});
