// The operations keys (config/ops.ts): defaults, errors naming the key, cdr.path relative to the file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../../gateway/config/load.js';

describe('cdr, api and log keys', () => {
  it('defaults: CDRs in memory kept 90 days, no token, log format auto', () => {
    const c = parseConfig({}, 'test');
    expect(c.cdr).toEqual({ retentionDays: 90 });
    expect(c.api.token).toBeUndefined();
    expect(c.log).toEqual({ level: 'info', format: 'auto' });
  });

  it('a bad value names its key', () => {
    expect(() => parseConfig({ cdr: { retentionDays: -1 } }, 'f.yaml')).toThrow(/cdr\.retentionDays/);
    expect(() => parseConfig({ cdr: { file: 'x' } }, 'f.yaml')).toThrow(/cdr/);
    expect(() => parseConfig({ api: { token: 'short' } }, 'f.yaml')).toThrow(/api\.token.*16/);
    expect(() => parseConfig({ log: { format: 'xml' } }, 'f.yaml')).toThrow(/log\.format/);
  });

  it('cdr.path is relative to the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdr-config-'));
    writeFileSync(join(dir, 'gw.yaml'), 'cdr: { path: ../var/cdr.sqlite }\n');
    expect(loadConfigFile(join(dir, 'gw.yaml')).cdr.path).toBe(join(dir, '..', 'var', 'cdr.sqlite'));
  });
});
