// The WebSocket registrar bench (bench/ws-register.ts) end to end on a few clients: both systems it compares —
// the built gateway (npm start's bundle) and Kamailio with its websocket/xhttp modules and htable passwords —
// accept the load process's clients (each from its own loopback address), challenge each REGISTER and answer
// the credentials with 200, at connect and at a re-REGISTER step. Kamailio comes from .ci/install-peers.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Load, start } from '../../../bench/ws-register.js';
import { DOMAIN, type System } from '../../../bench/ws-register-targets.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const CLIENTS = 6;

describe('bench ws-register: the load process registers over WebSocket with digest', { timeout: 90_000 }, () => {
  let load: Load;
  beforeAll(() => {
    execFileSync('npm', ['run', '--silent', 'build:gateway'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    load = new Load();
  });
  afterAll(() => load.stop());

  it.each<System>(['gateway', 'kamailio'])('%s: every client registers (401 → 200), then re-registers at a rate step', async (system) => {
    const target = await start(system, CLIENTS);
    try {
      const connect = await load.run({ type: 'connect', url: target.url, domain: DOMAIN, from: 0, to: CLIENTS, concurrency: 3 });
      expect(connect).toMatchObject({ attempted: CLIENTS, ok: CLIENTS, failed: 0, why: {} });
      const step = await load.run({ type: 'step', from: 0, to: CLIENTS, rate: 12, seconds: 1 });
      expect(step).toMatchObject({ attempted: 12, ok: 12, failed: 0 });
      expect(step.p99).toBeGreaterThan(0);
      await load.run({ type: 'close', from: 0, to: CLIENTS });
    } finally {
      await target.stop();
    }
  });
});
