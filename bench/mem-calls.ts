// Memory per browser⇄trunk call in the embedded engine, by what holds it: the engine in a child process
// (bench/mem-child.ts), the SRTP⇄RTP load generator of bench/loadgen setting calls up as a browser does
// (STUN, DTLS 1.2, SRTP) and sending media for a while; then, after a full GC, RSS / heap / external per
// call and a heap snapshot compared with one taken before the calls (self bytes per call by constructor,
// and the retained bytes per call of the media classes).
// Run: unshare -n sh -c 'ip link set lo up && npx tsx bench/mem-calls.ts'
// Knobs: BENCH_MEM_CALLS (100), BENCH_MEM_SECONDS (3, media sent before reading), BENCH_MEM_TOP (25 rows),
// BENCH_MEM_RETAINED (constructors whose retained size to report, comma-separated), BENCH_MEM_DETAIL (of
// those, which to break down by constructor), BENCH_MEM_DIR (where the
// snapshots stay; default a temporary folder removed after), BENCH_MEM_NODE_FLAGS (the engine process's Node flags).
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoadGenerator } from './loadgen/index.js';
import { summarise, type Summary } from './mem-snapshot.js';

const CALLS = Number(process.env.BENCH_MEM_CALLS ?? 100);
const MEDIA_MS = Number(process.env.BENCH_MEM_SECONDS ?? 3) * 1000;
const TOP = Number(process.env.BENCH_MEM_TOP ?? 25);
const RETAINED = (process.env.BENCH_MEM_RETAINED ?? 'WebrtcLeg,RtpLeg,DtlsLink,DtlsSession,DtlsServer,DtlsClient,SrtpContext,RtcpMonitor,Bridge,Socket').split(',');
/** Of these, what they retain by constructor (BENCH_MEM_DETAIL, comma-separated). */
const DETAIL = (process.env.BENCH_MEM_DETAIL ?? 'WebrtcLeg').split(',').filter(Boolean);
const CONCURRENCY = 16;

type Memory = NodeJS.MemoryUsage;

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]);
}

function startChild(): { pid: number; request: (cmd: Record<string, unknown>) => Promise<unknown>; stop: () => Promise<void> } {
  const child = fork(path.join(path.dirname(new URL(import.meta.url).pathname), 'mem-child.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_MEM_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, BENCH_PORT_MIN: '36000' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id?: number; data?: unknown; error?: string }) => {
    const p = pending.get(m.id ?? -1);
    pending.delete(m.id ?? -1);
    if (m.error) p?.reject(new Error(m.error));
    else p?.resolve(m.data);
  });
  // an engine process that exits fails what waits for it, rather than leaving the bench waiting
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`engine process exited (${signal ?? code})`));
    pending.clear();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', () => reject(new Error('engine process exited before it was ready')));
  });
  const request = async (cmd: Record<string, unknown>): Promise<unknown> => {
    await ready;
    return new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ ...cmd, id });
    });
  };
  const stop = async (): Promise<void> => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return { pid: child.pid!, request, stop };
}

async function setUp(request: (cmd: Record<string, unknown>) => Promise<unknown>, gen: LoadGenerator, prefix: string, calls: number): Promise<string[]> {
  const ids = Array.from({ length: calls }, (_, i) => `${prefix}-${i}`);
  let next = 0;
  const one = async (i: number): Promise<void> => {
    const toTrunk = (await request({ op: 'offer', callId: ids[i], fromTag: 'browser', sdp: await gen.offer(i) })) as string;
    const toBrowser = (await request({ op: 'answer', callId: ids[i], fromTag: 'browser', toTag: 'trunk', sdp: await gen.answer(i, toTrunk) })) as string;
    await gen.connect(i, toBrowser);
  };
  const lane = async (): Promise<void> => {
    while (next < calls) {
      const i = next++;
      // a handshake that failed under the set-up burst is made again, as bench/srtp-relay.ts does
      for (let attempt = 1; ; attempt++) {
        try {
          await one(i);
          break;
        } catch (err) {
          await request({ op: 'delete', callId: ids[i] });
          await gen.drop(i);
          if (attempt >= 3) throw err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, calls) }, lane));
  return ids;
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(1);

/** utime + stime of a process (ms; USER_HZ 100). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Reading {
  name: string;
  rss: number;
  mem: Memory & { spaces: Record<string, number> };
}

/** Memory at each stage, per call against the first reading (KiB). */
function stages(readings: Reading[]): string[] {
  const [base] = readings;
  const per = (get: (r: Reading) => number) => (r: Reading): string => kib((get(r) - get(base!)) / CALLS);
  const cols: Array<[string, (r: Reading) => string]> = [
    ['RSS', per((r) => r.rss)],
    ['heap total', per((r) => r.mem.heapTotal)],
    ['heap used', per((r) => r.mem.heapUsed)],
    ['new space', per((r) => r.mem.spaces.new_space ?? 0)],
    ['old space', per((r) => r.mem.spaces.old_space ?? 0)],
    ['code space', per((r) => r.mem.spaces.code_space ?? 0)],
    ['external', per((r) => r.mem.external)],
    ['RSS − heap total − external', per((r) => r.rss - r.mem.heapTotal - r.mem.external)],
  ];
  const lines = [`| KiB per call (${CALLS} calls, after GC) | ${cols.map((c) => c[0]).join(' | ')} |`, `| --- |${' --- |'.repeat(cols.length)}`];
  for (const r of readings.slice(1)) lines.push(`| ${r.name} | ${cols.map((c) => c[1](r)).join(' | ')} |`);
  lines.push(`RSS: ${readings.map((r) => `${r.name} ${(r.rss / 2 ** 20).toFixed(1)} MiB`).join(', ')}`);
  return lines;
}

/** Self bytes per call by constructor, and retained bytes per call of the media classes. */
function byConstructor(baseline: Summary, up: Summary): string[] {
  const lines = [`snapshot bytes per call: ${(up.totalBytes - baseline.totalBytes) / CALLS | 0}`, '', '| constructor | bytes per call | objects per call |', '| --- | --- | --- |'];
  const rows = [...up.groups].map(([name, a]) => {
    const b = baseline.groups.get(name) ?? { bytes: 0, count: 0 };
    return { name, bytes: (a.bytes - b.bytes) / CALLS, count: (a.count - b.count) / CALLS };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  for (const r of rows.slice(0, TOP)) lines.push(`| ${r.name} | ${r.bytes.toFixed(0)} | ${r.count.toFixed(2)} |`);
  lines.push('', '| retained by all instances of | bytes per call |', '| --- | --- |');
  for (const name of RETAINED) lines.push(`| ${name} | ${(((up.retained.get(name) ?? 0) - (baseline.retained.get(name) ?? 0)) / CALLS).toFixed(0)} |`);
  for (const name of DETAIL) {
    const groups = [...(up.retainedGroups.get(name) ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 12);
    lines.push('', `${name} retains, bytes per call: ${groups.map(([g, b]) => `${g} ${(b / CALLS).toFixed(0)}`).join(', ')}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const dir = process.env.BENCH_MEM_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'mem-calls-'));
  const gen = new LoadGenerator();
  await gen.ready();
  const child = startChild();
  try {
    const reading = async (name: string): Promise<Reading> => {
      const mem = (await child.request({ op: 'memory' })) as Reading['mem'];
      return { name, mem, rss: rssKiB(child.pid) * 1024 };
    };
    const snapshot = async (name: string): Promise<Summary> =>
      summarise((await child.request({ op: 'snapshot', file: path.join(dir, `${name}.heapsnapshot`) })) as string, RETAINED);
    // One call first: werift loads with it, so the library is in every reading.
    const [primed] = await setUp(child.request, gen, 'prime', 1);
    await child.request({ op: 'delete', callId: primed });
    await gen.closeCalls();
    const readings = [await reading('before')];
    const ids = await setUp(child.request, gen, 'call', CALLS);
    readings.push(await reading('set up'));
    await child.request({ op: 'gcstats' });
    const cpu0 = cpuMs(child.pid);
    const { browser, trunk } = await gen.run(500, MEDIA_MS);
    const cpu = cpuMs(child.pid) - cpu0;
    const gc = (await child.request({ op: 'gcstats' })) as { young: number; youngMs: number; other: number; otherMs: number };
    readings.push(await reading(`after ${MEDIA_MS / 1000} s of media`));
    const packets = browser.received + trunk.received;
    const seconds = MEDIA_MS / 1000 + 0.8; // warm-up and the generator's tail included
    process.stdout.write(
      `media phase: ${packets} packets measured, engine CPU ${((cpu * 1000) / Math.max(packets, 1)).toFixed(1)} µs per measured packet (its warm-up and tail counted too), ` +
        `GC per second: ${(gc.young / seconds).toFixed(1)} scavenges (${(gc.youngMs / seconds).toFixed(1)} ms), ` +
        `${(gc.other / seconds).toFixed(2)} other (${(gc.otherMs / seconds).toFixed(1)} ms)\n`,
    );
    // Snapshots only now: writing one grows the process's own memory.
    const up = await snapshot('up');
    for (const id of ids) await child.request({ op: 'delete', callId: id });
    await gen.closeCalls();
    readings.push(await reading('deleted'));
    const baseline = await snapshot('deleted');
    process.stdout.write(`${[...stages(readings), '', 'heap snapshot with the calls up against one after they were deleted:', ...byConstructor(baseline, up)].join('\n')}\n`);
  } finally {
    await child.stop();
    await gen.stop();
    if (!process.env.BENCH_MEM_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
