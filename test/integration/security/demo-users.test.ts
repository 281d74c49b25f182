// Item 7 of issue 8 as an operator meets it: `gateway/main.ts --config FILE` with the shipped demo users on a
// non-loopback listen stops at start (exit 1) naming the key and the user; with security.allowDemoUsers it
// starts. Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/security/demo-users.test.ts'
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startProcess, stopAllProcesses } from '../../support/process.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'demo-users-'));
afterEach(() => stopAllProcesses());

function config(name: string, extra: string): string {
  const file = join(dir, name);
  const text = [
    'http: { listen: "0.0.0.0:0", advertise: "127.0.0.1" }',
    'sip: { listen: ["udp:127.0.0.1:0"] }',
    'media: { rtpPorts: "45200-45299" }',
    'users: [{ name: alice, password: alice }, { name: bob, password: bob }]',
    'log: { level: warn }',
    extra,
    '',
  ].join('\n');
  writeFileSync(file, text);
  return file;
}

const run = (file: string) => startProcess(process.execPath, ['--import', 'tsx', 'gateway/main.ts', '--config', file], { cwd: ROOT, name: 'gateway' });

describe('demo users on a non-loopback listen', () => {
  it('stop the gateway at start, naming the key and each user', async () => {
    const refused = run(config('refused.yaml', ''));
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr()).toContain('users[0].password: demo user "alice" still has its demo password and http.listen "0.0.0.0:0" is not loopback: change the password, or set security.allowDemoUsers: true');
    expect(refused.stderr()).toContain('users[1].password: demo user "bob"');
  }, 30_000);

  it('start with security.allowDemoUsers: true', async () => {
    const allowed = run(config('allowed.yaml', 'security: { allowDemoUsers: true }'));
    await expect.poll(() => allowed.stdout(), { timeout: 20_000 }).toMatch(/^Gateway page: http:\/\/127\.0\.0\.1:\d+\//);
    expect(allowed.running).toBe(true);
  }, 30_000);
});
