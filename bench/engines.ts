// The two media engines under test, behind one offer/answer/delete shape (rtpengine's ng protocol).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NgClient } from '../gateway/media/rtpengine/ng-client.js';

export interface BenchEngine {
  readonly name: string;
  readonly pid: number;
  offer(callId: string, fromTag: string, sdp: string): Promise<string>;
  answer(callId: string, fromTag: string, toTag: string, sdp: string): Promise<string>;
  delete(callId: string): Promise<void>;
  /** Settle the heap before a memory reading (a garbage-collected engine only). */
  settle(): Promise<void>;
  /** Event-loop delay since the previous call (ms), for an engine with an event loop (the embedded one). */
  lag?(): Promise<{ p50: number; p99: number; max: number }>;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited(child);
  clearTimeout(timer);
}

/** Extra ng keys merged into every offer / answer (e.g. the gateway's own flags, bench/srtp-relay.ts). */
export interface NgFlags {
  offer?: Record<string, unknown>;
  answer?: Record<string, unknown>;
}

/** rtpengine in userspace (--table=-1: no kernel forwarding), one ng port, loopback only. */
export async function startRtpengine(ngPort: number, portMin: number, flags: NgFlags = {}): Promise<BenchEngine> {
  const child = spawn(
    '/usr/bin/rtpengine',
    ['--table=-1', '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`, `--port-min=${portMin}`,
      `--port-max=${portMin + 4999}`, '--foreground', '--log-stderr', `--log-level=${process.env.BENCH_RTPENGINE_LOG ?? 3}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  if (process.env.BENCH_RTPENGINE_LOG) child.stderr!.pipe(process.stderr);
  const ng = new NgClient({ host: '127.0.0.1', port: ngPort });
  for (let i = 0; ; i++) {
    try {
      await ng.request({ command: 'ping' }, 200);
      break;
    } catch (err) {
      if (i > 50 || child.exitCode !== null) throw new Error(`rtpengine did not start: ${stderr || (err as Error).message}`);
    }
  }
  const sdpOf = (r: Record<string, unknown>): string => String(r.sdp);
  return {
    name: 'rtpengine (userspace)',
    pid: child.pid!,
    offer: async (callId, fromTag, sdp) => sdpOf(await ng.request({ ...flags.offer, command: 'offer', 'call-id': callId, 'from-tag': fromTag, sdp } as never)),
    answer: async (callId, fromTag, toTag, sdp) =>
      sdpOf(await ng.request({ ...flags.answer, command: 'answer', 'call-id': callId, 'from-tag': fromTag, 'to-tag': toTag, sdp } as never)),
    delete: async (callId) => {
      await ng.request({ command: 'delete', 'call-id': callId });
    },
    settle: async () => undefined,
    stop: async () => {
      ng.close();
      await stopChild(child);
    },
  };
}

/** Node flags of the embedded engine's process: BENCH_ENGINE_NODE_FLAGS, or for a baseline tree
 *  BENCH_SRTP_BASELINE_NODE_FLAGS (e.g. one young-generation size against another: --max-semi-space-size=1). */
function nodeFlags(benchDir: string | undefined): string[] {
  const flags = benchDir ? process.env.BENCH_SRTP_BASELINE_NODE_FLAGS : process.env.BENCH_ENGINE_NODE_FLAGS;
  return flags?.split(' ').filter(Boolean) ?? [];
}

/** The embedded engine, alone in a child process (bench/engine-child.ts). */
export async function startEmbedded(portMin: number, benchDir?: string): Promise<BenchEngine> {
  // benchDir: the bench/ folder of another copy of the tree (an A/B comparison against a baseline)
  const here = benchDir ?? path.dirname(new URL(import.meta.url).pathname);
  const child = fork(path.join(here, 'engine-child.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...nodeFlags(benchDir), ...(process.env.BENCH_ENGINE_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_ENGINE_PROF}`] : [])],
    env: { ...process.env, BENCH_PORT_MIN: String(portMin) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (reply: { sdp?: string; data?: unknown }) => void; reject: (e: Error) => void }>();
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: { ready?: boolean; id?: number; sdp?: string; data?: unknown; error?: string }) => {
      if (m.ready) return resolve();
      const p = pending.get(m.id!);
      pending.delete(m.id!);
      if (m.error) p?.reject(new Error(m.error));
      else p?.resolve(m);
    });
  });
  const request = (cmd: Record<string, unknown>): Promise<{ sdp?: string; data?: unknown }> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      child.send({ ...cmd, id });
    });
  const call = async (cmd: Record<string, unknown>): Promise<string> => (await request(cmd)).sdp ?? '';
  return {
    name: 'embedded (this gateway)',
    pid: child.pid!,
    offer: (callId, fromTag, sdp) => call({ op: 'offer', callId, fromTag, sdp }),
    answer: (callId, fromTag, toTag, sdp) => call({ op: 'answer', callId, fromTag, toTag, sdp }),
    delete: async (callId) => {
      await call({ op: 'delete', callId });
    },
    settle: async () => {
      await call({ op: 'gc' });
    },
    lag: async () => (await request({ op: 'lag' })).data as { p50: number; p99: number; max: number },
    stop: async () => {
      child.disconnect();
      await stopChild(child);
    },
  };
}
