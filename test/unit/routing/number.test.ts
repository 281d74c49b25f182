// Number handling in the dial plan (issue 9 item 4): rewrite steps, inbound DID normalisation to E.164,
// the load-sharing order, caller ID presentation, and the config errors naming the key. Pure.
import { describe, expect, it } from 'vitest';
import { presentIdentity, callerAsksPrivacy } from '../../../gateway/call/caller-id.js';
import { failsOver, inFailoverSet } from '../../../gateway/call/failover.js';
import { rewriteStepSchema, type RewriteStep } from '../../../gateway/config/dial-plan.js';
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { inboundUser, route } from '../../../gateway/routing/index.js';
import { normalizeInbound, toE164 } from '../../../gateway/routing/inbound.js';
import { groupsOf, LoadShare } from '../../../gateway/routing/load-share.js';
import { rewriteNumber } from '../../../gateway/routing/rewrite.js';
import { parseMessage } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { rng } from '../../support/rng.js';

describe('rewriteNumber', () => {
  it('strips, prepends and replaces, in order', () => {
    expect(rewriteNumber('0301234', [{ strip: 1 }, { prepend: '+49' }])).toBe('+49301234');
    expect(rewriteNumber('+49301234', [{ match: '^\\+49', replace: '0049' }])).toBe('0049301234');
    expect(rewriteNumber('0301234', [{ match: '^0([1-9]\\d+)$', replace: '+49$1' }])).toBe('+49301234');
  });
  it('a regex that does not match leaves the number; no steps leave it too', () => {
    expect(rewriteNumber('12345', [{ match: '^0', replace: '+49' }])).toBe('12345');
    expect(rewriteNumber('12345', undefined)).toBe('12345');
    expect(rewriteNumber('12345', [])).toBe('12345');
  });
  it('stripping more than the number leaves nothing (the call then gets 484)', () => {
    expect(rewriteNumber('12', [{ strip: 5 }])).toBe('');
  });
  it('replaces the first match only (no g flag)', () => {
    expect(rewriteNumber('0101', [{ match: '0', replace: '9' }])).toBe('9101');
  });

  // Seeded mutation test: random valid steps (as the schema accepts them) over random dialable numbers never
  // throw and only ever produce dialable characters.
  it('random schema-valid steps over random numbers: never throws, output stays within the schema characters (seed 9)', () => {
    const r = rng(9);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const chars = '0123456789+*#';
    const str = (n: number) => Array.from({ length: n }, () => pick(chars.split(''))).join('');
    const patterns = ['^0', '^00', '^\\+', '(\\d)(\\d)', '^(\\d{3})', '9$', '.*', '\\d+', '^\\+?1', '[*#]'];
    const templates = ['', '+', '$1', '$2$1', '$&$&', '0049', '+49$1', '$9'];
    for (let i = 0; i < 1000; i++) {
      const steps: unknown[] = Array.from({ length: 1 + Math.floor(r() * 4) }, () => {
        const k = r();
        if (k < 0.3) return { strip: 1 + Math.floor(r() * 5) };
        if (k < 0.6) return { prepend: str(1 + Math.floor(r() * 4)) };
        return { match: pick(patterns), replace: pick(templates) };
      });
      const valid = steps.map((s) => rewriteStepSchema.parse(s)) as RewriteStep[];
      const out = rewriteNumber(str(Math.floor(r() * 14)), valid);
      if (!/^[0-9A-Za-z+*#$&]*$/.test(out)) expect.fail(`${JSON.stringify(valid)} gave ${out}`);
    }
  });
  it('the schema refuses steps that could put anything but dialable characters in the URI', () => {
    expect(rewriteStepSchema.safeParse({ prepend: 'a@b' }).success).toBe(false);
    expect(rewriteStepSchema.safeParse({ match: '^0', replace: ';x=y' }).success).toBe(false);
    expect(rewriteStepSchema.safeParse({ strip: 0 }).success).toBe(false);
    expect(rewriteStepSchema.safeParse({ match: '(', replace: '' }).success).toBe(false);
  });
});

describe('inbound DID normalisation (trunks[].inbound)', () => {
  const de = { country: '49', nationalPrefix: '0', internationalPrefix: '00', rewrite: [] };
  it('brings 0049…, 49…, +49… and 0… to the same E.164 number', () => {
    for (const n of ['004930123456', '4930123456', '+4930123456', '030123456']) expect(toE164(n, de)).toBe('+4930123456');
  });
  it('leaves extensions and non-digits alone; no country: no change', () => {
    expect(toE164('100', de)).toBe('100');
    expect(toE164('*43', de)).toBe('*43');
    expect(toE164('030123', { ...de, country: undefined })).toBe('030123');
  });
  it('applies the trunk\'s rewrite first', () => {
    expect(normalizeInbound('9030123456', { ...de, rewrite: [{ strip: 1 }] })).toBe('+4930123456');
  });
  it('a trunk sending 0049… rings the user whose DID is written +49…, 49… or 0…', () => {
    const users = [
      { name: 'u1', password: 'p', dids: ['+4930111'] },
      { name: 'u2', password: 'p', dids: ['4930222'] },
      { name: 'u3', password: 'p', dids: ['030333'] },
    ];
    const config = configSchema.parse({ users });
    expect(inboundUser('004930111', config, de)?.name).toBe('u1');
    expect(inboundUser('004930222', config, de)?.name).toBe('u2');
    expect(inboundUser('+4930333', config, de)?.name).toBe('u3');
    expect(inboundUser('030111', config, de)?.name).toBe('u1');
    // Without the trunk's rule the national form does not match.
    expect(inboundUser('030111', config)).toBeUndefined();
  });
});

describe('load sharing order', () => {
  it('groups consecutive weighted entries; unweighted ones stand alone', () => {
    expect(groupsOf(['a', { name: 'b', weight: 1 }, { name: 'c', weight: 2 }, 'd']).map((g) => g.map((e) => e.name))).toEqual([['a'], ['b', 'c'], ['d']]);
  });
  it('3:1 over 8 calls: a first 6 times, b first 2 times, spread (a a b a); the other follows for failover', () => {
    const share = new LoadShare();
    const route = {};
    const list = [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }, 'c'];
    const orders = Array.from({ length: 8 }, () => share.order(route, list));
    expect(orders.map((o) => o[0]).join('')).toBe('aabaaaba');
    expect(orders[2]).toEqual(['b', 'a', 'c']);
    expect(orders[0]).toEqual(['a', 'b', 'c']);
  });
  it('a plain list keeps its order every time', () => {
    const share = new LoadShare();
    expect(share.order({}, ['x', 'y'])).toEqual(['x', 'y']);
    expect(share.order({}, ['x', 'y'])).toEqual(['x', 'y']);
  });
});

describe('failover set', () => {
  it('codes and classes; transport errors, timeouts and challenges always fail over', () => {
    expect(inFailoverSet(503, [408, '5xx'])).toBe(true);
    expect(inFailoverSet(486, [408, '5xx'])).toBe(false);
    expect(inFailoverSet(603, [408, '5xx'])).toBe(false);
    expect(inFailoverSet(603, ['6xx'])).toBe(true);
    expect(failsOver({ kind: 'response', status: 500, reason: '' })).toBe(true);
    expect(failsOver({ kind: 'response', status: 404, reason: '' })).toBe(false);
    expect(failsOver({ kind: 'timeout' }, [])).toBe(true);
    expect(failsOver({ kind: 'transport-error' }, [])).toBe(true);
    expect(failsOver({ kind: 'challenge-after-credentials' }, [])).toBe(true);
  });
});

function invite(extra = ''): SipRequest {
  const text = `INVITE sip:1@gw SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\nFrom: <sip:alice@gw>;tag=1\r\nTo: <sip:1@gw>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n${extra}Content-Length: 0\r\n\r\n`;
  return parseMessage(Buffer.from(text)) as SipRequest;
}

describe('caller ID presentation', () => {
  const alice = { name: 'alice', password: 'p', dids: [], callerId: '+15550001' };
  it('untrusted trunk: From is the user\'s caller ID, no P-Asserted-Identity', () => {
    const id = presentIdentity({ user: alice, trunk: { trusted: false }, host: 'carrier', callerInvite: invite() });
    expect(id.from.uri.user).toBe('+15550001');
    expect(id.headers).toEqual([]);
  });
  it('the route\'s caller ID wins over the user\'s', () => {
    const id = presentIdentity({ user: alice, route: { callerId: '+4930999' }, trunk: { trusted: true }, host: 'carrier', callerInvite: invite() });
    expect(id.from.uri.user).toBe('+4930999');
    expect(id.headers).toEqual([{ name: 'P-Asserted-Identity', value: '<sip:+4930999@carrier>' }]);
  });
  it('privacy asked by the route, the user or the caller\'s own Privacy header: anonymous From; PAI + Privacy: id only when trusted', () => {
    for (const o of [{ route: { privacy: true } }, { user: { ...alice, privacy: true } }, { inv: invite('Privacy: id\r\n') }]) {
      const id = presentIdentity({ user: o.user ?? alice, route: o.route, trunk: { trusted: true }, host: 'carrier', callerInvite: o.inv ?? invite() });
      expect(id.from.displayName).toBe('Anonymous');
      expect(id.from.uri).toMatchObject({ user: 'anonymous', host: 'anonymous.invalid' });
      expect(id.headers).toEqual([{ name: 'P-Asserted-Identity', value: '<sip:+15550001@carrier>' }, { name: 'Privacy', value: 'id' }]);
    }
    const untrusted = presentIdentity({ user: alice, route: { privacy: true }, trunk: { trusted: false }, host: 'carrier', callerInvite: invite() });
    expect(untrusted.headers).toEqual([]);
  });
  it('Privacy: none or header does not withhold the number', () => {
    expect(callerAsksPrivacy(invite('Privacy: none\r\n'))).toBe(false);
    expect(callerAsksPrivacy(invite('Privacy: header;user\r\n'))).toBe(true);
  });
});

describe('trunk routes in the config', () => {
  const trunks = [{ name: 'a', uri: 'sip:a.invalid' }, { name: 'b', uri: 'sip:b.invalid' }];
  const errorOf = (routes: unknown[]): string => {
    try {
      parseConfig({ trunks, routes }, 'gw.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    return 'no error';
  };
  it('{ match, trunk } still works and routes to that trunk', () => {
    const config = configSchema.parse({ trunks, routes: [{ match: '^1', trunk: 'b' }] });
    const r = route('123', config);
    expect(r.kind === 'trunk' && [r.trunk.name, r.route.trunk]).toEqual(['b', 'b']);
  });
  it('{ match, trunks } routes with the first trunk as r.trunk', () => {
    const config = configSchema.parse({ trunks, routes: [{ match: '^1', trunks: [{ name: 'b', weight: 2 }, 'a'] }] });
    const r = route('123', config);
    expect(r.kind === 'trunk' && r.trunk.name).toBe('b');
  });
  it('errors name the key', () => {
    expect(errorOf([{ match: 'x', trunks: ['a', 'zz'] }])).toContain('routes[0].trunks[1]: no trunk named "zz"');
    expect(errorOf([{ match: 'x', trunk: 'a', trunks: ['a'] }])).toContain('routes[0].trunks');
    expect(errorOf([{ match: 'x', trunks: ['a'], failoverOn: ['7xx'] }])).toContain('routes[0].failoverOn[0]');
    expect(errorOf([{ match: 'x', trunks: [{ name: 'a', weight: 0 }] }])).toContain('routes[0].trunks[0]');
    expect(errorOf([{ match: 'x', trunks: ['a'], rewrite: [{ strip: 0 }] }])).toContain('routes[0].rewrite[0]');
  });
});

describe('a route that is none of the forms', () => {
  it('names the forms, trunks included', () => {
    try {
      parseConfig({ routes: [{ match: 'x' }] }, 'gw.yaml');
      expect.fail('accepted');
    } catch (e) {
      expect((e as Error).message).toMatch(/routes\[0\].*(trunks|trunk or trunks)/);
    }
  });
});
