// SIP INFO DTMF bodies (sip/ua/info.ts): application/dtmf-relay and application/dtmf parsed and written,
// RFC 6086 §4.2.2 verdicts (469 with an Info-Package, 415 for other bodies, 200 for an empty INFO), and a
// seeded mutation test: mutated bodies only ever throw InfoBodyError, and what is accepted re-serialises
// to a body that parses to the same digit.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { answerInfo, classifyInfo, DEFAULT_DURATION_MS, InfoBodyError, MAX_DURATION_MS, MIN_DURATION_MS, parseDtmfInfo, serializeDtmfRelay } from '../../../gateway/sip/ua/info.js';
import { rng } from '../../support/rng.js';

function info(headers: Record<string, string>, body = ''): SipRequest {
  return {
    kind: 'request',
    method: 'INFO',
    uri: 'sip:gw@127.0.0.1',
    version: 'SIP/2.0',
    headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
    body: Buffer.from(body),
  } as SipRequest;
}

describe('application/dtmf-relay', () => {
  it('reads Signal and Duration (CRLF, LF, any case, spaces around =, other lines ignored)', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({ signal: '5', durationMs: 160 });
    expect(parseDtmfInfo('Application/DTMF-Relay; charset=utf-8', 'signal = #\nduration= 300\n')).toEqual({ signal: '#', durationMs: 300 });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=*\r\n')).toEqual({ signal: '*', durationMs: DEFAULT_DURATION_MS });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=d\r\nDuration=100\r\nVolume=10\r\n')).toEqual({ signal: 'D', durationMs: 100 });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=16\r\nDuration=2000')).toEqual({ signal: '16', durationMs: 2000 });
  });

  it('clamps the duration to 40-8000 ms', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=1\r\nDuration=1\r\n').durationMs).toBe(MIN_DURATION_MS);
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=1\r\nDuration=999999\r\n').durationMs).toBe(MAX_DURATION_MS);
  });

  it('refuses what is not DTMF with InfoBodyError', () => {
    for (const body of ['', 'Duration=100', 'Signal=E', 'Signal=55', 'Signal=5\r\nDuration=-3', 'Signal=5\r\nDuration=abc', 'garbage', 'Signal=']) {
      expect(() => parseDtmfInfo('application/dtmf-relay', body), body).toThrow(InfoBodyError);
    }
    expect(() => parseDtmfInfo('text/plain', '5')).toThrow(InfoBodyError);
  });

  it('writes "Signal=5\\r\\nDuration=160\\r\\n"', () => {
    expect(serializeDtmfRelay({ signal: '5', durationMs: 160 })).toBe('Signal=5\r\nDuration=160\r\n');
    expect(serializeDtmfRelay({ signal: '#', durationMs: 20 })).toBe('Signal=#\r\nDuration=40\r\n');
  });
});

describe('application/dtmf', () => {
  it('is the signal alone', () => {
    expect(parseDtmfInfo('application/dtmf', '5')).toEqual({ signal: '5', durationMs: DEFAULT_DURATION_MS });
    expect(parseDtmfInfo('application/dtmf', ' a\r\n')).toEqual({ signal: 'A', durationMs: DEFAULT_DURATION_MS });
    expect(() => parseDtmfInfo('application/dtmf', 'Signal=5')).toThrow(InfoBodyError);
  });
});

describe('RFC 6086 §4.2.2 verdicts', () => {
  it('legacy DTMF INFO without Info-Package is taken; Info-Package → 469; other types → 415 with Accept; empty → 200', () => {
    expect(classifyInfo(info({ 'Content-Type': 'application/dtmf-relay' }, 'Signal=1'))).toEqual({ kind: 'dtmf', contentType: 'application/dtmf-relay' });
    expect(classifyInfo(info({ 'Info-Package': 'foo', 'Content-Type': 'application/dtmf-relay' }, 'Signal=1'))).toMatchObject({ kind: 'reject', status: 469 });
    expect(classifyInfo(info({ 'Content-Type': 'application/json' }, '{}'))).toMatchObject({ kind: 'reject', status: 415, headers: [{ name: 'Accept', value: 'application/dtmf-relay, application/dtmf' }] });
    expect(classifyInfo(info({}))).toEqual({ kind: 'empty' });
  });

  it('answerInfo: 200 then the digit; 400 for a bad DTMF body (no digit)', () => {
    const answers: number[] = [];
    const digits: string[] = [];
    answerInfo(info({ 'Content-Type': 'application/dtmf' }, '9'), (s) => answers.push(s), (d) => digits.push(d.signal));
    answerInfo(info({ 'Content-Type': 'application/dtmf-relay' }, 'Signal=X'), (s) => answers.push(s), (d) => digits.push(d.signal));
    answerInfo(info({ 'Content-Type': 'text/plain' }, '9'), (s) => answers.push(s), (d) => digits.push(d.signal));
    expect(answers).toEqual([200, 400, 415]);
    expect(digits).toEqual(['9']);
  });
});

describe('seeded mutation', () => {
  const seeds = ['Signal=5\r\nDuration=160\r\n', 'Signal=#\nDuration=250\n', 'signal=A\r\n', 'Signal=16\r\nDuration=1000\r\nFoo=bar\r\n'];
  const alphabet = 'Signal=Duration\r\n0123456789*#ABCDE ;:=,\t\u0000\u00ff-';

  function mutate(s: string, next: () => number): string {
    const chars = [...s];
    const n = 1 + Math.floor(next() * 4);
    for (let i = 0; i < n; i++) {
      const at = Math.floor(next() * (chars.length + 1));
      const op = Math.floor(next() * 3);
      const c = alphabet[Math.floor(next() * alphabet.length)]!;
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, c);
      else chars[at] = c;
    }
    return chars.join('');
  }

  it('2000 mutated bodies per type: only InfoBodyError, and accepted ones re-serialise to the same digit', () => {
    const next = rng(4733);
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const body = mutate(seeds[i % seeds.length]!, next);
      for (const type of ['application/dtmf-relay', 'application/dtmf']) {
        let digit;
        try {
          digit = parseDtmfInfo(type, body);
        } catch (err) {
          expect(err).toBeInstanceOf(InfoBodyError);
          continue;
        }
        accepted++;
        expect(parseDtmfInfo('application/dtmf-relay', serializeDtmfRelay(digit))).toEqual(digit);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
