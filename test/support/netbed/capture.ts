// Packet capture inside a namespace: tcpdump writes every packet at once (-U, --immediate-mode) to
// a pcap file that can be read back while it runs (packets()) or after stop().
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { startProcess, type ProcessHandle } from '../process.js';
import { pcapHeader, readRecords, summarize, type Packet, type PcapHeader } from './pcap.js';
import { waitForProcessOutput } from './wait.js';

export interface Capture {
  readonly file: string;
  /** Every IPv4 packet captured so far (the same array, growing). */
  packets(): Packet[];
  /** Stops tcpdump and returns every packet it captured. */
  stop(): Promise<Packet[]>;
  /** After stop(): packets the kernel dropped before tcpdump read them (tcpdump's own count). A capture
   *  that proves something did NOT arrive must show 0 here. */
  dropped(): number | undefined;
  /** One line per packet captured so far (for failure messages). */
  summary(max?: number): string;
}

/** Starts tcpdump on every interface of `ns` with a BPF `filter` (e.g. "udp port 5060"). A 16 MiB
 *  kernel buffer (-B): with the default, bursts of a few hundred packets were partly dropped. */
export async function startCapture(ns: string, file: string, filter: string): Promise<Capture> {
  const args = ['-i', 'any', '-B', '16384', '-U', '--immediate-mode', '-n', '-s', '0', '-Z', 'root', '-w', file, ...filter.split(/\s+/).filter(Boolean)];
  const proc: ProcessHandle = startProcess('tcpdump', args, { name: `tcpdump ${ns} ${filter}`, netns: ns });
  await waitForProcessOutput(proc, /listening on/, 10_000);
  // Read incrementally: only the bytes written since the last call are parsed.
  const seen: Packet[] = [];
  let offset = 0;
  let hdr: PcapHeader | null = null;
  const packets = (): Packet[] => {
    if (!existsSync(file)) return seen;
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (!hdr) {
        const head = Buffer.alloc(Math.min(24, size));
        readSync(fd, head, 0, head.length, 0);
        hdr = pcapHeader(head);
        if (!hdr) return seen;
        offset = 24;
      }
      if (size > offset) {
        const chunk = Buffer.alloc(size - offset);
        readSync(fd, chunk, 0, chunk.length, offset);
        const { packets: fresh, used } = readRecords(chunk, hdr);
        for (const p of fresh) seen.push(p);
        offset += used;
      }
    } finally {
      closeSync(fd);
    }
    return seen;
  };
  return {
    file,
    packets,
    async stop() {
      await proc.stop({ signal: 'SIGINT' });
      return packets();
    },
    dropped() {
      const m = /(\d+) packets? dropped by kernel/.exec(proc.stderr());
      return m ? Number(m[1]) : undefined;
    },
    summary: (max) => summarize(packets(), max),
  };
}
