// Child processes for integration tests (SIPp, baresip, kamailio …): each runs in its own process group so
// stop() can kill the whole group; output tails are kept for failure messages. Call stopAllProcesses() in
// afterAll — it also runs on process exit as a last resort, so nothing outlives the test run.
import { spawn } from 'node:child_process';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started (e.g. ENOENT). */
  error?: Error;
}

export interface StartProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Label used in messages; defaults to the command. */
  name?: string;
  /** Bytes of stdout / stderr kept (the tail). Default 64 KiB each. */
  tailBytes?: number;
  /** Run inside this network namespace (`ip netns exec <netns> cmd …`; ip execs cmd, so the pid is cmd's). */
  netns?: string;
}

export interface ProcessHandle {
  readonly pid: number;
  readonly name: string;
  /** Resolves (never rejects) once the process has exited or failed to start. */
  readonly exited: Promise<ProcessExit>;
  readonly running: boolean;
  stdout(): string;
  stderr(): string;
  /** SIGTERM to the process group, SIGKILL after graceMs (default 3000); resolves with the exit. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<ProcessExit>;
}

/** `proc`'s handle with `extra` added (running read live): for handles built on a process (SIPp, a
 *  gateway process). */
export function extendHandle<T extends object>(proc: ProcessHandle, extra: T): ProcessHandle & T {
  return {
    pid: proc.pid,
    name: proc.name,
    exited: proc.exited,
    get running() {
      return proc.running;
    },
    stdout: () => proc.stdout(),
    stderr: () => proc.stderr(),
    stop: (o) => proc.stop(o),
    ...extra,
  };
}

const live = new Set<ProcessHandle>();

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0]!.length >= this.max) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function startProcess(cmd: string, args: readonly string[], opts: StartProcessOptions = {}): ProcessHandle {
  const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true, // own process group: stop() kills it and everything it forked
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = new Tail(opts.tailBytes ?? 65536);
  const err = new Tail(opts.tailBytes ?? 65536);
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  let running = child.pid !== undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('error', (error) => {
      running = false;
      resolve({ code: null, signal: null, error });
    });
    child.once('close', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? -1;
  const handle: ProcessHandle = {
    pid,
    name: opts.name ?? cmd,
    exited,
    get running() {
      return running;
    },
    stdout: () => out.text(),
    stderr: () => err.text(),
    async stop(o = {}) {
      if (running && pid > 0) {
        killGroup(pid, o.signal ?? 'SIGTERM');
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), o.graceMs ?? 3000);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}

/** Stops every process started here that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((h) => h.stop()));
}

process.once('exit', () => {
  for (const h of live) if (h.running && h.pid > 0) killGroup(h.pid, 'SIGKILL');
});
