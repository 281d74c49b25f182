// Header names (RFC 3261 §7.3.1 case-insensitive, §7.3.3 compact forms): the exact-spelling fast path of
// canonicalName/nameKey gives what the lower-casing path gives, for every spelling.
import { describe, expect, it } from 'vitest';
import { canonicalName, compactName, isListHeader, nameKey } from '../../../gateway/sip/message/header-names.js';

describe('header names', () => {
  it('canonical name and key of known names in any spelling, compact forms expanded', () => {
    const cases: Array<[string, string]> = [
      ['Call-ID', 'Call-ID'], ['call-id', 'Call-ID'], ['CALL-ID', 'Call-ID'], ['cAlL-Id', 'Call-ID'], ['i', 'Call-ID'], ['I', 'Call-ID'],
      ['Via', 'Via'], ['VIA', 'Via'], ['v', 'Via'], ['V', 'Via'], ['CSeq', 'CSeq'], ['cseq', 'CSeq'], ['WWW-Authenticate', 'WWW-Authenticate'],
      ['www-authenticate', 'WWW-Authenticate'], ['Content-Length', 'Content-Length'], ['l', 'Content-Length'], ['x', 'Session-Expires'],
    ];
    for (const [spelling, canonical] of cases) {
      expect(canonicalName(spelling)).toBe(canonical);
      expect(nameKey(spelling)).toBe(canonical.toLowerCase());
    }
  });

  it('unknown names: unchanged, keyed by their lower case', () => {
    for (const name of ['X-Custom', 'x-custom', 'P-Charging-Vector', 'Z']) {
      expect(canonicalName(name)).toBe(name);
      expect(nameKey(name)).toBe(name.toLowerCase());
    }
  });

  it('list headers and compact names through the same keys', () => {
    expect(isListHeader('m')).toBe(true);
    expect(isListHeader('CONTACT')).toBe(true);
    expect(isListHeader('Call-ID')).toBe(false);
    expect(compactName('call-id')).toBe('i');
    expect(compactName('Session-Expires')).toBe('Session-Expires'); // not an RFC 3261 compact form
  });
});
