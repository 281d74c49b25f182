// How many media workers, and each one's share of media.rtpPorts (pure). Each worker binds only its own
// contiguous sub-range, so two workers never race for a port. Sub-ranges start on an even port (a trunk
// leg takes an even RTP port and RTCP on port+1, ports.ts) and are as equal as that allows.
import type { PortRange } from '../ports.js';

/** Fewest ports a worker may get: a browser ⇄ trunk call takes three (one rtcp-mux port, one RTP/RTCP
 *  pair), so ≈ 16 calls. The config schema refuses an explicit media.workers below it (same figure). */
export const MIN_PORTS_PER_WORKER = 50;

export type WorkersSetting = 'auto' | number;

/** media.workers → a count: 0 = the engine runs in the main thread; 'auto' = one per core, fewer when the
 *  port range cannot give each MIN_PORTS_PER_WORKER (at least one). */
export function resolveWorkerCount(setting: WorkersSetting, range: PortRange, cores: number): number {
  if (setting !== 'auto') return setting;
  const span = range.to - range.from + 1;
  return Math.max(1, Math.min(Math.max(1, cores), Math.floor(span / MIN_PORTS_PER_WORKER)));
}

/** `range` split into `workers` contiguous sub-ranges; throws (naming media.workers) when one would get
 *  fewer than `min` ports. */
export function splitPortRange(range: PortRange, workers: number, min = MIN_PORTS_PER_WORKER): PortRange[] {
  const span = range.to - range.from + 1;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`media.workers: need at least one worker to split ports, got ${workers}`);
  if (workers > 1 && Math.floor(span / workers) < min) {
    throw new Error(`media.workers: ${workers} workers would get ${Math.floor(span / workers)} ports each of media.rtpPorts ${range.from}-${range.to}; each needs at least ${min}`);
  }
  if (workers === 1) return [{ ...range }];
  const parts: PortRange[] = [];
  let from = range.from;
  for (let w = 0; w < workers; w++) {
    const left = workers - w;
    let size = Math.floor((range.to - from + 1) / left);
    if (w < workers - 1 && (from + size) % 2 !== 0) size--; // the next sub-range starts on an even port
    const to = w === workers - 1 ? range.to : from + size - 1;
    parts.push({ from, to });
    from = to + 1;
  }
  return parts;
}
