// Resident memory at rest: the gateway as `npm start` runs it (the built bundle on plain Node) and as the
// old start ran it (tsx compiling the TypeScript in the process), against Kamailio at rest in the same
// run (the registrar/proxy config the tests use, test/support/kamailio.ts: 2 UDP workers + its helpers).
// RSS is read from /proc once the process has been idle REST_SECONDS (default 30 s; BENCH_REST_SECONDS):
// V8 returns start-up garbage (its young generation grown while loading, old-space fragments) only when its
// memory reducer runs after some seconds of low allocation — 77 → 70 MiB between 5 and 30 s here — and
// then three samples 500 ms apart must agree within 1 %. Kamailio is measured the same way. Kamailio is several
// processes sharing memory: its RSS is summed over all of them (what the issue compares against) and
// its PSS too (shared pages split between the processes: the fairer total).
// `npm run bench` prints this section; alone: `npx tsx bench/rest.ts`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startKamailio } from '../test/support/kamailio.js';
import { freePort, freeSipPort } from '../test/support/ports.js';
import { startProcess, type ProcessHandle } from '../test/support/process.js';
import { procKiB } from './proc.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export interface RestResult {
  builtMiB: number;
  tsxMiB: number;
  kamailioRssMiB: number;
  kamailioPssMiB: number;
  kamailioProcesses: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const REST_SECONDS = Number(process.env.BENCH_REST_SECONDS ?? 30);

function tree(pid: number): number[] {
  const kids = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
    readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
  return [pid, ...kids.flatMap(tree)];
}

/** Total KiB over `pids()` once three samples 500 ms apart agree within 1 % (at most 20 s). */
async function settled(sample: () => number): Promise<number> {
  await sleep(REST_SECONDS * 1000);
  const seen: number[] = [];
  for (let i = 0; i < 40; i++) {
    seen.push(sample());
    const last = seen.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) <= 0.01 * Math.max(...last)) return last[2]!;
    await sleep(500);
  }
  return seen.at(-1)!;
}

async function gatewayAtRest(args: string[], name: string): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-rest-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, stringify({
    http: { listen: `127.0.0.1:${await freePort('tcp')}` },
    sip: { listen: [`udp:127.0.0.1:${await freeSipPort()}`, `tcp:127.0.0.1:${await freeSipPort()}`] },
    media: { rtpPorts: '46000-46999', address: '127.0.0.1' },
    users: [{ name: 'alice', password: 'alice-secret' }],
    log: { level: 'warn' },
  }));
  const proc: ProcessHandle = startProcess(process.execPath, [...args, '--config', file], { cwd: root, name });
  try {
    // Ready: the status API answers.
    const url = await waitForPage(proc);
    for (let i = 0; i < 100 && !(await fetch(`${url}api/status`).then((r) => r.ok, () => false)); i++) await sleep(100);
    return await settled(() => procKiB(proc.pid, 'status', 'VmRSS'));
  } finally {
    await proc.stop();
  }
}

async function waitForPage(proc: ProcessHandle): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const m = /Gateway page: (\S+)/.exec(proc.stdout());
    if (m) return m[1]!;
    if (!proc.running) throw new Error(`gateway exited: ${proc.stderr().slice(-2000)}`);
    await sleep(100);
  }
  throw new Error('gateway did not start');
}

export async function measureRest(): Promise<RestResult> {
  execFileSync('npm', ['run', '--silent', 'build:gateway'], { cwd: root, stdio: 'ignore' });
  const builtKiB = await gatewayAtRest(['build/gateway/main.js'], 'gateway-built');
  const tsxKiB = await gatewayAtRest(['--import', 'tsx', 'gateway/main.ts'], 'gateway-tsx');
  const kamailio = await startKamailio({ accounts: { alice: 'alice-secret' } });
  try {
    const pids = (): number[] => tree(kamailio.process.pid);
    const rss = await settled(() => pids().reduce((n, p) => n + procKiB(p, 'status', 'VmRSS'), 0));
    const pss = pids().reduce((n, p) => n + procKiB(p, 'smaps_rollup', 'Pss'), 0);
    return { builtMiB: builtKiB / 1024, tsxMiB: tsxKiB / 1024, kamailioRssMiB: rss / 1024, kamailioPssMiB: pss / 1024, kamailioProcesses: pids().length };
  } finally {
    await kamailio.stop();
  }
}

export function restReport(r: RestResult): string {
  const mib = (v: number): string => `${v.toFixed(1).padStart(6)} MiB`;
  return (
    `Resident memory at rest (RSS after ${REST_SECONDS} s idle, settled)\n` +
    `  gateway, npm start (node build/gateway/main.js)  ${mib(r.builtMiB)}\n` +
    `  gateway, old start (node --import tsx)           ${mib(r.tsxMiB)}\n` +
    `  kamailio, ${r.kamailioProcesses} processes, RSS summed            ${mib(r.kamailioRssMiB)}  (PSS ${r.kamailioPssMiB.toFixed(1)} MiB)\n` +
    `  ratio gateway / kamailio: ${(r.builtMiB / r.kamailioRssMiB).toFixed(2)}× (RSS sum), ${(r.builtMiB / r.kamailioPssMiB).toFixed(2)}× (PSS);  built / tsx: ${(r.builtMiB / r.tsxMiB).toFixed(2)}×\n`
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(root, 'bench', 'rest.ts')) {
  process.stdout.write(restReport(await measureRest()));
}
