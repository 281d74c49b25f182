// Peers for the scanner-flood test (test/integration/security/scanner-flood.test.ts): the gateway as its
// own process (so RSS and the event loop measured are the gateway's, not the test runner's), its RSS
// sampled from /proc, the kernel's per-socket drop count, a SIPp flood without message traces (100,000
// lines of trace would cost more than the flood), and call setup times read from a SIPp phone's trace.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { extendHandle, startProcess, type ProcessHandle } from '../process.js';
import { SIPP_BIN, SCENARIO_DIR } from '../sipp.js';
import { traceHeader, type SippTraceEntry } from '../sipp-trace.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

export interface GatewayProcess extends ProcessHandle {
  /** RSS samples so far (bytes), one per sampleMs. */
  readonly rss: number[];
  /** Peak RSS the kernel recorded for the process (VmHWM), bytes. */
  peakRss(): number;
  /** CPU time the process has used so far (user + system), seconds. */
  cpuSeconds(): number;
}

/** utime + stime of /proc/<pid>/stat in seconds (clock ticks of 1/100 s on Linux). */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** /proc/<pid>/status field in bytes (VmRSS, VmHWM), 0 once the process is gone. */
export function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `node --import tsx gateway/main.ts --config <yaml>` with the config written to dir; RSS sampled. */
export function startGatewayProcess(config: Record<string, unknown>, dir: string, name: string, nodeArgs: string[] = []): GatewayProcess {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  const proc = startProcess(process.execPath, [...nodeArgs, '--import', 'tsx', 'gateway/main.ts', '--config', file], { cwd: ROOT, name, tailBytes: 1 << 20 });
  const rss: number[] = [];
  let peak = 0;
  const sample = (): void => {
    const v = procKb(proc.pid, 'VmRSS');
    if (v > 0) rss.push(v);
    peak = Math.max(peak, procKb(proc.pid, 'VmHWM'));
  };
  const timer = setInterval(sample, 100);
  void proc.exited.then(() => clearInterval(timer));
  return extendHandle<Omit<GatewayProcess, keyof ProcessHandle>>(proc, {
    rss,
    peakRss() {
      sample();
      return peak;
    },
    cpuSeconds: () => procCpuSeconds(proc.pid),
  });
}

/** Waits (bounded) until the gateway's web server answers GET /api/status. */
export async function waitHttp(url: string, timeoutMs: number, gateway: ProcessHandle): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (!gateway.running) throw new Error(`gateway exited: ${gateway.stderr().slice(-2000)}${gateway.stdout().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${url} not answering within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The kernel's count of datagrams dropped on the UDP socket bound to address:port (its receive buffer
 *  was full): the last column of /proc/net/udp, which is per network namespace. */
export function udpSocketDrops(address: string, port: number): number {
  const hex = address.split('.').map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0')).reverse().join('');
  const local = `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return Number(cols[cols.length - 1]);
  }
  throw new Error(`no UDP socket on ${address}:${port}`);
}

export interface FloodOptions {
  /** Source address and port of the flood. */
  address: string;
  port: number;
  target: string;
  ratePerSecond: number;
  messages: number;
  userAgent: string;
  traceDir: string;
}

export interface Flood extends ProcessHandle {
  readonly errorFile: string;
  /** SIPp's final screens (-trace_screen), written when it exits. */
  readonly screenFile: string;
}

/** SIPp sending test/support/sipp/flood-scanner.xml at a fixed rate: one request per "call", no waiting.
 *  No message trace; its final screens give the counts (floodStats). A scanner call that gets an answer
 *  is aborted without a BYE (-default_behaviors abortunexp), as a scanner sends nothing more. */
export function startFlood(o: FloodOptions): Flood {
  const base = join(o.traceDir, `flood-${o.address}-${o.port}`);
  const [errorFile, screenFile] = [`${base}-errors.log`, `${base}-screen.log`];
  const args = [
    '-sf', join(SCENARIO_DIR, 'flood-scanner.xml'), '-i', o.address, '-p', String(o.port), '-t', 'u1',
    '-set', 'ua', o.userAgent, '-r', String(o.ratePerSecond), '-rp', '1000', '-m', String(o.messages),
    '-l', String(o.ratePerSecond), '-default_behaviors', 'abortunexp', '-nostdin',
    '-timeout', `${Math.ceil(o.messages / o.ratePerSecond) + 15}s`,
    '-trace_err', '-error_file', errorFile, '-trace_screen', '-screen_file', screenFile, o.target,
  ];
  const proc = startProcess(SIPP_BIN, args, { cwd: o.traceDir, name: `sipp flood ${o.address}` });
  return Object.assign(proc, { errorFile, screenFile });
}

export interface FloodStats {
  /** Requests sent, per method (the scenario screen's Messages column). */
  sent: Record<'INVITE' | 'REGISTER' | 'OPTIONS', number>;
  /** Calls that ended unanswered, and calls an answer arrived for while still open. */
  successful: number;
  failed: number;
  /** Answers that arrived for calls already over (SIPp: dead call / out-of-call messages). */
  late: number;
}

/** The counts in a finished flood's screen file. */
export function floodStats(flood: Flood): FloodStats {
  const text = readFileSync(flood.screenFile, 'utf8');
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const sentOf = (method: string): number => num(new RegExp(`^\\s*${method} -+>\\s+(\\d+)`, 'm'));
  return {
    sent: { INVITE: sentOf('INVITE'), REGISTER: sentOf('REGISTER'), OPTIONS: sentOf('OPTIONS') },
    successful: num(/Successful call\s+\|[^|]*\|\s*(\d+)/),
    failed: num(/Failed call\s+\|[^|]*\|\s*(\d+)/),
    late: num(/(\d+) dead call msg/) + num(/(\d+) out-of-call msg/),
  };
}

/** SIPp's -trace_msg time ("2024-05-01 12:00:00.123456" or seconds since the epoch) in ms. */
function traceMs(time: string): number {
  if (/^\d+(\.\d+)?$/.test(time)) return Number(time) * 1000;
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?$/.exec(time);
  if (!m) throw new Error(`unreadable SIPp trace time "${time}"`);
  return Date.parse(`${m[1]}T${m[2]}`) + Number(m[3] ?? 0) * 1000;
}

/** Per call (Call-ID) of a SIPp UAC's trace: ms from its first INVITE sent to its INVITE's 200 received
 *  (the 407 round trip included, as a phone's user waits through it); undefined for calls without a 200. */
export function setupTimes(trace: SippTraceEntry[]): Map<string, number | undefined> {
  const started = new Map<string, number>();
  const setup = new Map<string, number | undefined>();
  for (const e of trace) {
    const id = traceHeader(e.message, 'Call-ID') ?? '';
    const cseq = traceHeader(e.message, 'CSeq') ?? '';
    if (e.direction === 'sent' && e.message.kind === 'request' && e.message.method === 'INVITE' && !started.has(id)) {
      started.set(id, traceMs(e.time));
      setup.set(id, undefined);
    }
    if (e.direction === 'received' && e.message.kind === 'response' && e.message.status === 200 && /INVITE$/.test(cseq) && setup.get(id) === undefined && started.has(id)) {
      setup.set(id, traceMs(e.time) - started.get(id)!);
    }
  }
  return setup;
}

/** The p-th percentile (nearest rank) of values. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
