// Packet capture inside a namespace: tcpdump writes every packet at once (-U, --immediate-mode) to
// a pcap file that can be read back while it runs (packets()) or after stop().
import { existsSync, readFileSync } from 'node:fs';
import { startProcess, type ProcessHandle } from '../process.js';
import { readPcap, summarize, type Packet } from './pcap.js';
import { waitForProcessOutput } from './wait.js';

export interface Capture {
  readonly file: string;
  /** Every IPv4 packet captured so far. */
  packets(): Packet[];
  /** Stops tcpdump and returns every packet it captured. */
  stop(): Promise<Packet[]>;
  /** One line per packet captured so far (for failure messages). */
  summary(max?: number): string;
}

/** Starts tcpdump on every interface of `ns` with a BPF `filter` (e.g. "udp port 5060"). */
export async function startCapture(ns: string, file: string, filter: string): Promise<Capture> {
  const args = ['-i', 'any', '-U', '--immediate-mode', '-n', '-s', '0', '-Z', 'root', '-w', file, ...filter.split(/\s+/).filter(Boolean)];
  const proc: ProcessHandle = startProcess('ip', ['netns', 'exec', ns, 'tcpdump', ...args], { name: `tcpdump ${ns} ${filter}` });
  await waitForProcessOutput(proc, /listening on/, 10_000);
  const packets = (): Packet[] => (existsSync(file) ? readPcap(readFileSync(file)) : []);
  return {
    file,
    packets,
    async stop() {
      await proc.stop({ signal: 'SIGINT' });
      return packets();
    },
    summary: (max) => summarize(packets(), max),
  };
}
