// The `dialRules` block (README "Security", sip-config/gateway.yaml): destination classes defined by
// patterns (Asterisk contexts in spirit), which classes each user or group may dial, per-user and per-trunk
// call limits, emergency routing and the spend alarm. The call-level decisions are in gateway/policy/.
import { z } from 'zod';
import { regexString as regex } from './fields.js';

/** The class of a number no class pattern matches: refused unless a user's (group's) classes list it. */
export const OTHER_CLASS = 'other';
/** The class always allowed, whatever a user's classes say, and never refused by a limit. */
export const EMERGENCY_CLASS = 'emergency';

const className = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'class names are 1-32 of a-z 0-9 _ - (starting with a letter)');

/** { name, match }: `match` one regex or a list (any matching is enough), tested like routes[].match
 *  against the dialled number with visual separators removed (routing/index.ts normalizeDialled). */
export const dialClassSchema = z.object({ name: className, match: z.union([regex, z.array(regex).min(1)]) }).strict();

/** What a user may dial when neither they, their group nor dialRules.allow say: no international, no premium. */
export const DEFAULT_ALLOW: readonly string[] = ['local', 'national', 'mobile'];

/** A limit: a positive count, or 0 for none. */
const limit = z.number().int().min(0).max(1_000_000);

export const dialGroupSchema = z
  .object({
    name: z.string().min(1),
    classes: z.array(z.string().min(1)),
    maxCalls: limit.optional(),
    callsPerHour: limit.optional(),
  })
  .strict();

export const dialRulesSchema = z
  .object({
    /** Home country calling code (e.g. "49"): in the built-in classes "+49…", "0049…" are national. */
    countryCode: z.string().regex(/^[1-9][0-9]{0,2}$/, 'a country calling code: 1-3 digits, e.g. "49" or "1"').optional(),
    /** International call prefixes the built-in classes know besides "+". */
    internationalPrefixes: z.array(z.string().regex(/^[0-9]{2,4}$/, 'a prefix of 2-4 digits, e.g. "00"')).default(['00', '011']),
    /** Ordered classes, the first match wins; absent: the built-in ones (policy/classes.ts). */
    classes: z.array(dialClassSchema).min(1).optional(),
    /** Classes a user without users[].classes and without a group may dial (emergency always); absent:
     *  DEFAULT_ALLOW (those of them the classes in effect have). */
    allow: z.array(z.string().min(1)).optional(),
    /** Per-user defaults: concurrent calls and calls per hour (0: no limit). */
    maxCalls: limit.default(4),
    callsPerHour: limit.default(60),
    groups: z.array(dialGroupSchema).default([]),
    /** Emergency calls go out on this trunk whatever the routes say (absent: the routes, or the user's PBX). */
    emergency: z.object({ trunk: z.string().min(1).optional() }).strict().default({}),
    /** Cost per minute of answered calls per class, for the spend alarm (absent: 0). */
    costPerMinute: z.record(z.string(), z.number().min(0)).default({}),
    /** Spend over a sliding hour that raises the alarm (a warn log line and a counter); absent: none. */
    spendAlarm: z.object({ userPerHour: z.number().positive().optional(), totalPerHour: z.number().positive().optional() }).strict().default({}),
  })
  .strict()
  .default({});

/** users[].group / users[].classes / users[].maxCalls / users[].callsPerHour (spread into userSchema). */
export const userPolicyFields = {
  group: z.string().min(1).optional(),
  classes: z.array(z.string().min(1)).optional(),
  maxCalls: limit.optional(),
  callsPerHour: limit.optional(),
};

/** trunks[].maxCalls / trunks[].callsPerHour (spread into trunkSchema): absent = no limit. */
export const trunkPolicyFields = {
  maxCalls: z.number().int().min(1).max(1_000_000).optional(),
  callsPerHour: z.number().int().min(1).max(1_000_000).optional(),
};

/** calls.maxDuration: seconds an answered call may last (0: no limit); 4 h by default. */
export const maxDurationField = z.number().int().min(0).max(7 * 86400).default(14400);

export type DialRulesConfig = z.infer<typeof dialRulesSchema>;
export type DialClass = z.infer<typeof dialClassSchema>;
export type DialGroup = z.infer<typeof dialGroupSchema>;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The built-in classes (used when dialRules.classes is absent), in order, the first match wins. P is an
 *  international prefix ("+", or one of internationalPrefixes: 00 and 011 by default), CC countryCode.
 *  - emergency: exactly 112, 911, 999, 000, 110, 118, 119, 15, 17 or 18;
 *  - premium: P + satellite and international networks (870-879, 881-883), international premium (979,
 *    991), the NANP's 1-900/1-976, and well-known premium ranges (+44 9, +49 900/137, +33 89, +31 90[069],
 *    +41 90, +43 9/81/82, +61 190, +39 89, +34 80[36]/90[57]); nationally 1-900/976 (NANP) and 0900/0137;
 *  - national: P + CC (only with countryCode);
 *  - international: any other P;
 *  - mobile: 0 then 15-17 or 6-7 and 8-9 more digits (national mobile forms in much of Europe);
 *  - national: 0 then 1-9 and 3 or more digits, or a NANP 1+10-digit number;
 *  - local: 3-10 digits not starting with 0.
 *  These are a starting point: set dialRules.classes for your country's numbering plan. */
export function builtInClasses(countryCode: string | undefined, internationalPrefixes: readonly string[]): DialClass[] {
  const p = `(?:\\+|${internationalPrefixes.map(escape).join('|')})`;
  const premium = '(?:87\\d|88[1-3]|979|991|1(?:900|976)|449|49(?:900|137)|3389|3190[069]|4190|43(?:9|8[12])|61190|3989|34(?:80[36]|90[57]))';
  return [
    { name: EMERGENCY_CLASS, match: '^(?:112|911|999|000|110|118|119|15|17|18)$' },
    { name: 'premium', match: [`^${p}${premium}`, '^1?(?:900|976)\\d{7}$', '^0(?:900|137)'] },
    ...(countryCode ? [{ name: 'national', match: `^${p}${countryCode}` }] : []),
    { name: 'international', match: `^${p}` },
    { name: 'mobile', match: '^0(?:1[5-7]|[67])\\d{8,9}$' },
    { name: 'national', match: ['^0[1-9]\\d{3,}$', '^1[2-9]\\d{9}$'] },
    { name: 'local', match: '^[1-9]\\d{2,9}$' },
  ];
}

/** The classes in effect: dialRules.classes, else the built-in ones. */
export function effectiveClasses(rules: Pick<DialRulesConfig, 'classes' | 'countryCode' | 'internationalPrefixes'>): DialClass[] {
  return rules.classes ?? builtInClasses(rules.countryCode, rules.internationalPrefixes);
}

interface PolicyConfigView {
  dialRules: DialRulesConfig;
  users: ReadonlyArray<{ group?: string; classes?: string[] }>;
  trunks: ReadonlyArray<{ name: string }>;
}

type Issue = { path: Array<string | number>; message: string };

/** Cross-key checks naming the key: unknown group, unknown class names, emergency trunk, duplicates. */
export function dialRulesIssues(cfg: PolicyConfigView): Issue[] {
  const issues: Issue[] = [];
  const classes = new Set([...effectiveClasses(cfg.dialRules).map((c) => c.name), OTHER_CLASS]);
  const listed = `known: ${[...classes].join(', ')}`;
  const checkClasses = (list: readonly string[], path: Array<string | number>): void =>
    list.forEach((c, j) => {
      if (!classes.has(c)) issues.push({ path: [...path, j], message: `unknown dial class "${c}" (${listed})` });
    });
  const seen = new Set<string>();
  cfg.dialRules.classes?.forEach((c, i) => {
    if (c.name === OTHER_CLASS) issues.push({ path: ['dialRules', 'classes', i, 'name'], message: `"${OTHER_CLASS}" is the class of unmatched numbers: choose another name` });
    if (seen.has(c.name)) issues.push({ path: ['dialRules', 'classes', i, 'name'], message: `duplicate dial class "${c.name}"` });
    seen.add(c.name);
  });
  if (cfg.dialRules.allow) checkClasses(cfg.dialRules.allow, ['dialRules', 'allow']);
  const groups = new Set<string>();
  cfg.dialRules.groups.forEach((g, i) => {
    if (groups.has(g.name)) issues.push({ path: ['dialRules', 'groups', i, 'name'], message: `duplicate group "${g.name}"` });
    groups.add(g.name);
    checkClasses(g.classes, ['dialRules', 'groups', i, 'classes']);
  });
  cfg.users.forEach((u, i) => {
    if (u.group !== undefined && !groups.has(u.group)) issues.push({ path: ['users', i, 'group'], message: `no group named "${u.group}" in dialRules.groups` });
    if (u.classes) checkClasses(u.classes, ['users', i, 'classes']);
  });
  for (const name of Object.keys(cfg.dialRules.costPerMinute)) {
    if (!classes.has(name)) issues.push({ path: ['dialRules', 'costPerMinute', name], message: `unknown dial class "${name}" (${listed})` });
  }
  const trunk = cfg.dialRules.emergency.trunk;
  if (trunk !== undefined && !cfg.trunks.some((t) => t.name === trunk)) {
    issues.push({ path: ['dialRules', 'emergency', 'trunk'], message: `no trunk named "${trunk}" in trunks` });
  }
  return issues;
}
