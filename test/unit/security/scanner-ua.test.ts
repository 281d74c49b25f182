// The scanner User-Agent check on raw bytes (gateway/security/scanner-ua.ts): what it drops before the
// parse, what it leaves to the parser, and — over seeded mutations of real scanner and phone requests —
// that it never calls "scanner" a message whose parsed User-Agent is not one (never throws either).
import { describe, expect, it } from 'vitest';
import { rawScannerUserAgent } from '../../../gateway/security/scanner-ua.js';
import { getHeaderValues, parseMessage } from '../../../gateway/sip/message/index.js';
import { rng } from '../../support/rng.js';

const NAMES = ['friendly-scanner', 'sipvicious', 'sipcli'];

function request(headers: string[], body = '', method = 'OPTIONS'): string {
  return [
    `${method} sip:100@192.0.2.1 SIP/2.0`,
    'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-1;rport',
    'From: "100" <sip:100@192.0.2.1>;tag=1',
    'To: "100" <sip:100@192.0.2.1>',
    'Call-ID: 1@198.51.100.7',
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
    ...headers,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const raw = (text: string): boolean => rawScannerUserAgent(Buffer.from(text, 'latin1'), NAMES);

describe('rawScannerUserAgent', () => {
  it('finds a scanner name in a User-Agent line, any case, any position in the value', () => {
    expect(raw(request(['User-Agent: friendly-scanner']))).toBe(true);
    expect(raw(request(['user-agent:SIPVicious 0.3.4']))).toBe(true);
    expect(raw(request(['USER-AGENT \t: x sipcli/v1.8']))).toBe(true);
    expect(raw(request(['User-Agent: Polycom', 'User-Agent: friendly-scanner']))).toBe(true);
  });

  it('leaves everything else to the parser: other agents, no agent, the name elsewhere, responses', () => {
    expect(raw(request(['User-Agent: Z 5.6.1 v2.10.20.4']))).toBe(false);
    expect(raw(request([]))).toBe(false);
    expect(raw(request(['Subject: friendly-scanner', 'X-User-Agent: friendly-scanner']))).toBe(false);
    expect(raw(request(['User-Agent-Extra: friendly-scanner']))).toBe(false);
    expect(raw(request(['Content-Type: text/plain'], 'User-Agent: friendly-scanner\r\n'))).toBe(false);
    expect(raw(request(['Subject: a', ' user-agent: friendly-scanner']))).toBe(false); // a continuation line
    expect(raw('SIP/2.0 200 OK\r\nUser-Agent: friendly-scanner\r\n\r\n')).toBe(false);
    expect(raw('\r\n\r\nsip/2.0 200 OK\r\nUser-Agent: friendly-scanner\r\n\r\n')).toBe(false);
    expect(rawScannerUserAgent(Buffer.from(request(['User-Agent: friendly-scanner'])), [])).toBe(false);
  });

  it('reads a folded User-Agent value to its end (RFC 3261 §7.3.1); skips CRLFs before the start line (§7.5)', () => {
    expect(raw(request(['User-Agent: Softphone', '\tfriendly-scanner']))).toBe(true);
    expect(raw(`\r\n\r\n${request(['User-Agent: friendly-scanner'])}`)).toBe(true);
  });

  it('over 5,000 seeded mutations: never throws, and "scanner" only when the parsed User-Agent is one (or the parse fails)', () => {
    const next = rng(8020);
    const bases = [
      `\r\n${request(['User-Agent: friendly-scanner'], '', 'REGISTER')}`,
      'SIP/2.0 407 Proxy Authentication Required\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n',
      request(['User-Agent: Linphone/5.2'], 'v=0\r\n', 'INVITE'),
      request(['User-Agent: sipvicious', 'Accept: application/sdp']),
    ];
    const alphabet = ['\r', '\n', ' ', '\t', ':', 'U', 'u', 'f', '-', 'user-agent: friendly-scanner\r\n', '\r\n\r\n', '\x00', 'é'];
    let flagged = 0;
    for (let i = 0; i < 5000; i++) {
      let text = bases[i % bases.length]!;
      for (let m = 0; m < 1 + Math.floor(next() * 4); m++) {
        const at = Math.floor(next() * text.length);
        const pick = next();
        if (pick < 0.4) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 8));
        else text = text.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)]! + text.slice(at);
      }
      const data = Buffer.from(text, 'latin1');
      const verdict = rawScannerUserAgent(data, NAMES);
      if (!verdict) continue;
      flagged++;
      let agents: string[];
      try {
        const parsed = parseMessage(data);
        if (parsed.kind !== 'request') throw new Error(`flagged a response: ${JSON.stringify(text)}`);
        agents = getHeaderValues(parsed, 'User-Agent').map((v) => v.toLowerCase());
      } catch (err) {
        if ((err as Error).message.startsWith('flagged')) throw err;
        continue; // unparseable: it would have been answered 400 or dropped; dropping it silently is as good
      }
      expect(agents.some((ua) => NAMES.some((n) => ua.includes(n))), JSON.stringify(text)).toBe(true);
    }
    expect(flagged).toBeGreaterThan(1000);
  });
});
