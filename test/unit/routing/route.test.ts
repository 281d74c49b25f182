import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../gateway/config/schema.js';
import { normalizeDialled, route } from '../../../gateway/routing/index.js';

const config = configSchema.parse({
  trunks: [
    { name: 'us', uri: 'sip:us.trunk.invalid:5060' },
    { name: 'intl', uri: 'sip:intl.trunk.invalid' },
  ],
  routes: [
    { match: '^\\*43$', echo: true },
    { match: '^\\+?1\\d{10}$', trunk: 'us' },
    { match: '^\\+', trunk: 'intl' },
  ],
});

describe('normalizeDialled', () => {
  it('drops RFC 3966 visual separators and spaces', () => {
    expect(normalizeDialled('+1 (555) 010-0199')).toBe('+15550100199');
    expect(normalizeDialled('555.010.0199')).toBe('5550100199');
  });
  it('keeps digits, + * # and letters', () => {
    expect(normalizeDialled('*43#')).toBe('*43#');
    expect(normalizeDialled('alice')).toBe('alice');
  });
});

describe('route', () => {
  it('routes the echo line', () => {
    expect(route('*43', config)).toEqual({ kind: 'echo', number: '*43' });
  });
  it('routes to the first matching trunk, after normalisation', () => {
    const r = route('+1 (555) 010-0199', config);
    expect(r.kind).toBe('trunk');
    expect(r.kind === 'trunk' && r.trunk.name).toBe('us');
    expect(r.number).toBe('+15550100199');
  });
  it('tries routes in order: a later route only gets what earlier ones left', () => {
    const r = route('+44 20 7946 0958', config);
    expect(r.kind === 'trunk' && r.trunk.name).toBe('intl');
  });
  it('returns none when nothing matches', () => {
    expect(route('0800', config)).toEqual({ kind: 'none', number: '0800' });
  });
  it('returns none for an empty or separators-only number', () => {
    expect(route('', config).kind).toBe('none');
    expect(route(' - ', { ...config, routes: [{ match: '.*', echo: true }] }).kind).toBe('none');
  });
  it('treats match as an unanchored JS RegExp', () => {
    const cfg = { trunks: config.trunks, users: [], routes: [{ match: '555', trunk: 'us' }] };
    expect(route('0555123', cfg).kind).toBe('trunk');
    expect(route('0554123', cfg).kind).toBe('none');
  });
  it('routes nowhere when a hand-built config names a missing trunk', () => {
    expect(route('1', { trunks: [], users: [], routes: [{ match: '1', trunk: 'ghost' }] }).kind).toBe('none');
  });
});
