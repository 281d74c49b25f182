// Issue 11 item 1: CDRs survive `kill -9`. The gateway runs as its own process (`node --import tsx
// gateway/main.ts --config FILE`, as `npm run dev` does: the same code `npm start` runs bundled) with
// cdr.path set. Twenty times: one call through
// it completes (SIPp phone → gateway → SIPp trunk, BYE from the phone), another is answered and held, and
// the gateway is killed with SIGKILL mid-call; on the next start the held call's row is there, closed as
// "gateway restarted" (ended by the gateway, end time unknown), and every other row is exactly as it
// was before the kill (nothing lost, nothing changed, PRAGMA integrity_check "ok").
// Addresses: gateway 127.0.100.11, trunk 127.0.100.12, phones 127.0.100.14 / .15.
// Run:
//   unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/cdr/cdr-crash.test.ts'
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startProcess, stopAllProcesses, type ProcessHandle } from '../../support/process.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const GW = '127.0.100.11';
const CARRIER = '127.0.100.12';
const PHONES = ['127.0.100.14', '127.0.100.15'] as const;
const USER = { name: 'alice', password: 'alice-secret' };
const ROUNDS = 20;
const dir = mkdtempSync(join(tmpdir(), 'cdr-crash-'));
const DB = join(dir, 'cdr.sqlite');

afterAll(stopAllProcesses);

type Row = Record<string, unknown>;

/** Every row, read through a connection of our own (the gateway may be writing: WAL readers don't block). */
function readRows(): { rows: Row[]; integrity: string } {
  const db = new Database(DB, { readonly: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    return { rows: db.prepare('SELECT * FROM cdr ORDER BY rowid').all() as Row[], integrity };
  } finally {
    db.close();
  }
}

function writeConfig(httpPort: number, sipPort: number): string {
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify({
    http: { listen: `${GW}:${httpPort}` },
    sip: { listen: [`udp:${GW}:${sipPort}`] },
    media: { rtpPorts: '20200-20399', address: GW },
    users: [USER],
    trunks: [{ name: 'carrier', uri: `sip:${CARRIER}:5060;transport=udp`, keepalive: false }],
    routes: [{ match: '^\\d{4,15}$', trunk: 'carrier' }],
    cdr: { path: 'cdr.sqlite' },
    log: { level: 'warn' },
  }));
  return file;
}

async function startGateway(config: string, httpPort: number): Promise<ProcessHandle> {
  const proc = startProcess(process.execPath, ['--import', 'tsx', 'gateway/main.ts', '--config', config], { cwd: ROOT, name: 'gateway' });
  const up = async (): Promise<boolean> => {
    if (!proc.running) throw new Error(`gateway exited: ${proc.stderr().slice(-2000)}${proc.stdout().slice(-2000)}`);
    return fetch(`http://${GW}:${httpPort}/api/status`).then((r) => r.ok, () => false);
  };
  await expect.poll(up, { timeout: 30_000, interval: 25 }).toBe(true);
  return proc;
}

/** alice's phone on PHONES[n] dials `number`; holdMs 0: keeps the call until a BYE comes. */
function phone(n: 0 | 1, sipPort: number, number: string, holdMs: number): SippHandle {
  return startSipp({
    scenario: 'uac-auth', localPort: 5062, remote: `${GW}:${sipPort}`, traceDir: join(dir, `phone${n}`), service: number,
    auth: USER.password ? { username: USER.name, password: USER.password } : undefined, set: { hangup_ms: holdMs },
    args: ['-i', PHONES[n], '-auth_uri', `${number}@${GW}:${sipPort}`], timeoutS: 30,
  });
}

/** The gateway's previous held call, closed by this start; the rest exactly as snapshotted. */
function checkRecovered(before: Row[], heldNumber: string): void {
  const { rows, integrity } = readRows();
  expect(integrity).toBe('ok');
  expect(rows).toHaveLength(before.length);
  for (const [i, old] of before.entries()) {
    if (old.callee_number !== heldNumber) {
      expect(rows[i]).toEqual(old);
      continue;
    }
    expect(old).toMatchObject({ closed: 0, end_time: null });
    expect(rows[i]).toEqual({ ...old, closed: 1, reason: 'gateway restarted', ended_by: 'gateway', status: 200, end_time: null, duration: null });
  }
}

describe('CDRs and kill -9', () => {
  it(`${ROUNDS} times: a call up when the gateway is killed is closed as "gateway restarted" at the next start, no other row lost or changed`, async () => {
    // Fixed ports below the ephemeral range: the gateway binds them again at every restart, and no
    // client socket of another test in this namespace can have taken one in between.
    const [httpPort, sipPort] = [8080, 5060];
    const config = writeConfig(httpPort, sipPort);
    // The trunk answers every call and keeps it until the gateway's BYE (never comes for the held ones).
    const trunk = startSipp({ scenario: 'uas-answer', localPort: 5060, traceDir: join(dir, 'trunk'), calls: 2 * ROUNDS, args: ['-i', CARRIER], timeoutS: 300 });
    await trunk.ready;
    const t0 = Date.now();
    let before: Row[] = [];
    let held = '';
    for (let round = 0; round <= ROUNDS; round++) {
      const gateway = await startGateway(config, httpPort);
      if (round > 0) checkRecovered(before, held);
      if (round === ROUNDS) {
        expect((await gateway.stop({ signal: 'SIGTERM', graceMs: 10_000 })).code).toBe(0);
        break;
      }
      const done = `555100${String(round).padStart(2, '0')}`;
      held = `555200${String(round).padStart(2, '0')}`;
      const [complete, keep] = [phone(0, sipPort, done, 100), phone(1, sipPort, held, 0)];
      expect((await complete.exited).code, complete.errors()).toBe(0);
      // The held call answered: its row has its answer time (written at answer), no end.
      await expect.poll(() => readRows().rows.find((r) => r.callee_number === held)?.answer_time ?? null, { timeout: 10_000, interval: 25 }).not.toBeNull();
      await expect.poll(() => readRows().rows.find((r) => r.callee_number === done)?.closed, { timeout: 5_000, interval: 25 }).toBe(1);
      before = readRows().rows;
      expect(await gateway.stop({ signal: 'SIGKILL' })).toMatchObject({ signal: 'SIGKILL' });
      await keep.stop({ signal: 'SIGKILL' });
    }
    const { rows } = readRows();
    expect(rows).toHaveLength(2 * ROUNDS);
    expect(rows.filter((r) => r.reason === 'gateway restarted').map((r) => r.callee_number)).toEqual(Array.from({ length: ROUNDS }, (_, i) => `555200${String(i).padStart(2, '0')}`));
    const completed = rows.filter((r) => r.reason === 'normal clearing');
    expect(completed).toHaveLength(ROUNDS);
    for (const r of completed) expect(r).toMatchObject({ status: 200, ended_by: 'caller', closed: 1, caller_user: 'alice', trunk: 'carrier' });
    console.log(`cdr-crash: ${ROUNDS} kill -9 rounds in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await trunk.stop();
  }, 300_000);
});
