// Session-Expires / Min-SE (RFC 4028) and RSeq / RAck (RFC 3262) parsers, with a seeded mutation run.
import { describe, expect, it } from 'vitest';
import {
  formatRAck,
  formatSessionExpires,
  hasOptionTag,
  parseMinSE,
  parseRAck,
  parseRSeq,
  parseSessionExpires,
} from '../../../gateway/sip/message/extension-headers.js';
import { SipParseError } from '../../../gateway/sip/message/types.js';
import { rng } from '../../support/rng.js';

describe('Session-Expires / Min-SE', () => {
  it('parses delta-seconds, the refresher and other params', () => {
    expect(parseSessionExpires('1800')).toEqual({ interval: 1800, params: {} });
    expect(parseSessionExpires(' 90 ; refresher = UAS;x=1')).toEqual({ interval: 90, refresher: 'uas', params: { x: '1' } });
    expect(parseMinSE('120;foo')).toBe(120);
  });
  it('rejects bad values with SipParseError', () => {
    for (const bad of ['', 'abc', '90;refresher=both', '90;refresher', '-5', '99999999999', '90 x']) {
      expect(() => parseSessionExpires(bad), bad).toThrow(SipParseError);
    }
    expect(() => parseMinSE('')).toThrow(SipParseError);
  });
  it('formats round trip', () => {
    expect(formatSessionExpires({ interval: 600, refresher: 'uac' })).toBe('600;refresher=uac');
    expect(parseSessionExpires(formatSessionExpires({ interval: 7, params: { a: 'b' } }))).toEqual({ interval: 7, params: { a: 'b' } });
  });
});

describe('RSeq / RAck', () => {
  it('parses', () => {
    expect(parseRSeq(' 988789 ')).toBe(988789);
    expect(parseRAck('776656 1 INVITE')).toEqual({ rseq: 776656, cseq: 1, method: 'INVITE' });
    expect(formatRAck({ rseq: 5, cseq: 2, method: 'INVITE' })).toBe('5 2 INVITE');
  });
  it('rejects', () => {
    for (const bad of ['', 'x', '1 2', '1  INVITE', '1 2 INV@TE', '4294967296 1 INVITE', '1 2147483648 INVITE']) {
      expect(() => parseRAck(bad), bad).toThrow(SipParseError);
    }
    for (const bad of ['', '1 2', '-1', '4294967296']) expect(() => parseRSeq(bad), bad).toThrow(SipParseError);
  });
});

it('hasOptionTag looks through every Supported/Require field, case-insensitively', () => {
  const msg = { headers: [{ name: 'Supported', value: 'replaces, 100REL' }, { name: 'k', value: 'timer' }] };
  expect(hasOptionTag(msg, 'Supported', '100rel')).toBe(true);
  expect(hasOptionTag(msg, 'Supported', 'timer')).toBe(true);
  expect(hasOptionTag(msg, 'Require', 'timer')).toBe(false);
});

describe('seeded mutations', () => {
  const SPECIAL = ';=" \t,\\x0-9';
  const seeds = ['1800;refresher=uac', '90', '120;x="a b"', '776656 1 INVITE', '988789'];
  const parsers = [parseSessionExpires, parseMinSE, parseRSeq, parseRAck];
  it('3000 mutated values: a result or SipParseError, nothing else', () => {
    const rand = rng(4028);
    const seen = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      const chars = [...(seeds[i % seeds.length] ?? '')];
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const pos = Math.floor(rand() * (chars.length + 1));
        const ch = rand() < 0.7 ? SPECIAL.charAt(Math.floor(rand() * SPECIAL.length)) : String.fromCharCode(Math.floor(rand() * 256));
        if (rand() < 0.5) chars.splice(pos, 1, ch);
        else chars.splice(pos, 0, ch);
      }
      const text = chars.join('');
      for (const p of parsers) {
        try {
          p(text);
          seen.ok++;
        } catch (err) {
          if (!(err instanceof SipParseError)) throw err;
          seen.rejected++;
        }
      }
    }
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(100);
  });
});
