// Destination classes: the built-in patterns on the toll-fraud numbers and everyday ones, the
// home country code, configured classes (first match wins), and which classes a user may dial.
import { describe, expect, it } from 'vitest';
import { builtInClasses } from '../../../gateway/config/dial-rules.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createClassifier, userRules } from '../../../gateway/policy/classes.js';
import { configProblems } from '../config/problems.js';

const rules = (dialRules: Record<string, unknown> = {}, more: Record<string, unknown> = {}) => parseConfig({ dialRules, ...more }, 'test.yaml');

describe('built-in classes', () => {
  const c = createClassifier(rules().dialRules);
  it.each([
    ['+882123456789', 'premium'],
    ['+1 900 555 0199', 'premium'],
    ['0044 900 123 4567', 'premium'],
    ['011882123456', 'premium'],
    ['+870773111222', 'premium'],
    ['+4990012345678', 'premium'],
    ['19005550199', 'premium'],
    ['09001234567', 'premium'],
    ['+442071234567', 'international'],
    ['00492211234567', 'international'],
    ['0114420712345', 'international'],
    ['+15550100199', 'international'],
    ['112', 'emergency'],
    ['911', 'emergency'],
    ['999', 'emergency'],
    ['07700900123', 'mobile'],
    ['015112345678', 'mobile'],
    ['0612345678', 'mobile'],
    ['02211234567', 'national'],
    ['0800123456', 'national'],
    ['12125550199', 'national'],
    ['5551234', 'local'],
    ['123', 'local'],
    ['*21#', 'other'],
    ['', 'other'],
    ['12', 'other'],
  ])('%s → %s', (number, cls) => expect(c.classify(number)).toBe(cls));

  it('with countryCode the home country in international form is national, its premium ranges still premium', () => {
    const cc = createClassifier(rules({ countryCode: '1' }).dialRules);
    expect(cc.classify('+15550100199')).toBe('national');
    expect(cc.classify('01115550100199')).toBe('national');
    expect(cc.classify('+19005550199')).toBe('premium');
    expect(cc.classify('+442071234567')).toBe('international');
  });

  it('internationalPrefixes: without 011 a UK number 0118… is national', () => {
    const uk = createClassifier(rules({ internationalPrefixes: ['00'], countryCode: '44' }).dialRules);
    expect(uk.classify('01189123456')).toBe('national');
    expect(uk.classify('0044900123456')).toBe('premium');
    expect(uk.classify('00331234567')).toBe('international');
  });

  it('every built-in pattern compiles and names a known class', () => {
    for (const k of builtInClasses('49', ['00'])) for (const m of [k.match].flat()) expect(() => new RegExp(m)).not.toThrow();
  });
});

describe('configured classes', () => {
  it('are tried in order, the first match wins; unmatched is "other"', () => {
    const c = createClassifier(rules({ classes: [{ name: 'premium', match: '^0900' }, { name: 'national', match: ['^0', '^\\+49'] }] }).dialRules);
    expect(c.classify('09001')).toBe('premium');
    expect(c.classify('0221')).toBe('national');
    expect(c.classify('+49221')).toBe('national');
    expect(c.classify('5551234')).toBe('other');
    expect(c.names).toEqual(['premium', 'national', 'other']);
  });
});

describe('a user\'s rules', () => {
  const cfg = rules(
    { groups: [{ name: 'sales', classes: ['local', 'international'], maxCalls: 2 }], maxCalls: 3, callsPerHour: 10 },
    { users: [{ name: 'a', password: 'x', group: 'sales', callsPerHour: 5 }, { name: 'b', password: 'x' }, { name: 'c', password: 'x', group: 'sales', classes: [] }] },
  );
  it('own keys, then the group, then the dialRules defaults; emergency always', () => {
    const [a, b, c] = cfg.users.map((u) => userRules(u, cfg.dialRules));
    expect([...a!.classes].sort()).toEqual(['emergency', 'international', 'local']);
    expect(a!.maxCalls).toBe(2);
    expect(a!.callsPerHour).toBe(5);
    expect([...b!.classes].sort()).toEqual(['emergency', 'local', 'mobile', 'national']);
    expect(b!.maxCalls).toBe(3);
    expect([...c!.classes]).toEqual(['emergency']);
  });
});

describe('config errors name the key', () => {
  it.each([
    [{ users: [{ name: 'a', password: 'x', group: 'nope' }] }, 'users[0].group: no group named "nope" in dialRules.groups'],
    [{ users: [{ name: 'a', password: 'x', classes: ['local', 'premum'] }] }, 'users[0].classes[1]: unknown dial class "premum"'],
    [{ dialRules: { groups: [{ name: 'g', classes: ['intl'] }] } }, 'dialRules.groups[0].classes[0]: unknown dial class "intl"'],
    [{ dialRules: { emergency: { trunk: 'none' } } }, 'dialRules.emergency.trunk: no trunk named "none" in trunks'],
    [{ dialRules: { allow: ['locl'] } }, 'dialRules.allow[0]: unknown dial class "locl"'],
    [{ dialRules: { costPerMinute: { premum: 1 } } }, 'dialRules.costPerMinute.premum: unknown dial class "premum"'],
    [{ dialRules: { classes: [{ name: 'x', match: '(' }] } }, 'dialRules.classes[0].match'],
    [{ dialRules: { classes: [{ name: 'other', match: '^1' }] } }, 'dialRules.classes[0].name: "other" is the class of unmatched numbers'],
    [{ dialRules: { countryCode: '+49' } }, 'dialRules.countryCode: a country calling code'],
    [{ trunks: [{ name: 't', uri: 'sip:t', maxCalls: 0 }] }, 'trunks[0].maxCalls'],
    [{ calls: { maxDuration: -1 } }, 'calls.maxDuration'],
    [{ users: [{ name: 'a', password: 'x', maxCalls: 1.5 }] }, 'users[0].maxCalls'],
  ])('%j', (raw, problem) => {
    expect(configProblems(raw).join('\n')).toContain(problem);
  });

  it('the defaults: 4 concurrent calls, 60 per hour, 4 h maximum duration, international and premium off', () => {
    const cfg = rules();
    expect(cfg.dialRules).toMatchObject({ maxCalls: 4, callsPerHour: 60, internationalPrefixes: ['00', '011'] });
    expect([...userRules({}, cfg.dialRules).classes].sort()).toEqual(['emergency', 'local', 'mobile', 'national']);
    expect(cfg.calls.maxDuration).toBe(14400);
  });
});
