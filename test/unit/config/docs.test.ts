// Documentation completeness: every key of the config schema (gateway/config/schema.ts and the blocks it
// imports) is documented in sip-config/gateway.yaml (as a key, set or commented out) and in README.md (a
// `key` code span, or the key's name in a code span on a line naming its parent, e.g. a config table row
// `trunks[].keepalive` … `{ interval: 30, failures: 2 }`). An undocumented key fails here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../gateway/config/load.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { configKeys } from './docs-keys.js';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const yaml = readFileSync(path.join(repo, 'sip-config', 'gateway.yaml'), 'utf8');
const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
const keys = configKeys(configSchema);

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const leafOf = (key: string): string => key.slice(key.lastIndexOf('.') + 1).replace(/\[\]$/, '');
/** `a.b[].c` → [`a.b[]`, `a.b`, `a`]: the paths a README row may name instead, nearest first. */
const ancestors = (key: string): string[] => {
  const parts = key.split('.');
  const up = parts.slice(0, -1).map((_, i) => parts.slice(0, parts.length - 1 - i).join('.'));
  return up.flatMap((p) => (p.endsWith('[]') ? [p, p.slice(0, -2)] : [p]));
};

/** The code spans of each README line. */
const spansByLine = readme.split('\n').map((line) => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

/** `key` itself starts a code span (`sip.limits.maxConnections`, `users[].password: { … }`). */
function namedInReadme(key: string): boolean {
  const re = new RegExp(`^${escape(key)}(?![A-Za-z0-9_])`);
  return spansByLine.some((spans) => spans.some((s) => re.test(s)));
}

/** On a line that names one of the key's ancestors in a code span, a code span holds the key's name as a word. */
function underParentInReadme(key: string): boolean {
  const word = new RegExp(`(^|[^A-Za-z0-9_.])${escape(leafOf(key))}(?![A-Za-z0-9_])`);
  return ancestors(key).some((parent) => {
    const named = new RegExp(`^${escape(parent)}(?![A-Za-z0-9_])`);
    return spansByLine.some((spans) => spans.some((s) => named.test(s)) && spans.some((s) => word.test(s)));
  });
}

describe('every config key is documented', () => {
  it('walks the whole schema (the nested blocks too)', () => {
    for (const k of ['sip.limits.maxConnections', 'users[].password.ha1.realm', 'routes[].rewrite[].strip', 'dialRules.spendAlarm.totalPerHour', 'cdr.retentionDays']) {
      expect(keys).toContain(k);
    }
  });

  it('in sip-config/gateway.yaml: each key name appears as a key (set or commented out), each block at the top level', () => {
    const missing = keys.filter((key) => {
      const re = key.includes('.')
        ? new RegExp(`(^|[\\s#{,\\[-])${escape(leafOf(key))}:`, 'm')
        : new RegExp(`^(# ?)?${escape(key)}:`, 'm');
      return !re.test(yaml);
    });
    expect(missing).toEqual([]);
  });

  it('in README.md: each key as a `key` code span, or its name in a code span on a line naming its parent', () => {
    const missing = keys.filter((key) => !namedInReadme(key) && !underParentInReadme(key));
    expect(missing).toEqual([]);
  });

  it('sip-config/gateway.yaml loads as a valid config', () => {
    expect(() => loadConfigFile(path.join(repo, 'sip-config', 'gateway.yaml'))).not.toThrow();
  });
});
