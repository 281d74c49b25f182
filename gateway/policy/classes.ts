// Destination classes (Asterisk contexts in spirit): the class of a dialled number is the first class in
// dialRules.classes (else the built-in ones, config/dial-rules.ts) with a pattern that matches it, tested
// like routes[].match against the normalised number (routing/index.ts normalizeDialled). A number no
// class matches is "other". Which classes a user may dial: users[].classes, else their group's, else
// dialRules.allow; emergency always.
import type { UserConfig } from '../config/schema.js';
import { DEFAULT_ALLOW, effectiveClasses, EMERGENCY_CLASS, OTHER_CLASS, type DialRulesConfig } from '../config/dial-rules.js';
import { normalizeDialled } from '../routing/index.js';

export interface Classifier {
  /** The class of `dialled` (normalised here; normalising twice changes nothing). */
  classify(dialled: string): string;
  /** Every class name a number may get (the configured or built-in ones, and "other"). */
  readonly names: readonly string[];
}

export function createClassifier(rules: Pick<DialRulesConfig, 'classes' | 'countryCode' | 'internationalPrefixes'>): Classifier {
  const compiled = effectiveClasses(rules).map((c) => ({
    name: c.name,
    patterns: (Array.isArray(c.match) ? c.match : [c.match]).map((m) => new RegExp(m)),
  }));
  return {
    classify(dialled) {
      const number = normalizeDialled(dialled);
      if (number === '') return OTHER_CLASS;
      return compiled.find((c) => c.patterns.some((p) => p.test(number)))?.name ?? OTHER_CLASS;
    },
    names: [...new Set([...compiled.map((c) => c.name), OTHER_CLASS])],
  };
}

export interface UserRules {
  /** The classes the user may dial (emergency is always allowed, listed or not). */
  classes: ReadonlySet<string>;
  /** Concurrent calls / calls per hour; 0: no limit. */
  maxCalls: number;
  callsPerHour: number;
}

/** A user's rules: their own keys first, then their group's, then the dialRules defaults. */
export function userRules(user: Pick<UserConfig, 'group' | 'classes' | 'maxCalls' | 'callsPerHour'>, rules: DialRulesConfig): UserRules {
  const group = user.group === undefined ? undefined : rules.groups.find((g) => g.name === user.group);
  const classes = new Set(user.classes ?? group?.classes ?? rules.allow ?? DEFAULT_ALLOW);
  classes.add(EMERGENCY_CLASS);
  return {
    classes,
    maxCalls: user.maxCalls ?? group?.maxCalls ?? rules.maxCalls,
    callsPerHour: user.callsPerHour ?? group?.callsPerHour ?? rules.callsPerHour,
  };
}
