// Log format (issue 11 item 5): JSON lines with an ISO 8601 UTC time and the level's name, no pid or
// hostname; the fail2ban filter's datepattern reads that time (test/integration/security/brute-force.test.ts
// runs fail2ban-regex on a real log).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

describe('log lines', () => {
  it('JSON with "level" as a name and "time" as ISO 8601 UTC', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => void lines.push(l) });
    log.warn({ user: 'alice', source: '192.0.2.7' }, 'auth failed: user=alice source=192.0.2.7 method=REGISTER reason=wrong-password');
    log.child({ component: 'cdr' }).info('x');
    log.debug('not at info');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(['level', 'time', 'user', 'source', 'msg']);
    expect(first.level).toBe('warn');
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(first.time as string) - Date.now())).toBeLessThan(60_000);
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'info', component: 'cdr', msg: 'x' });
  });

  it('the fail2ban filter dates lines by that ISO time', () => {
    const filter = readFileSync(join(ROOT, 'docs', 'fail2ban', 'filter.d', 'webphone-gateway.conf'), 'utf8');
    expect(filter).toMatch(/^datepattern = "time":"%%Y-%%m-%%dT%%H:%%M:%%S/m);
  });
});
