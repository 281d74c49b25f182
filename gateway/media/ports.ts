// Port allocation for media sockets from the configured range "from-to".
// Trunk legs take an even RTP port and RTCP on port+1 (RFC 3550 §11: "RTP SHOULD use an even
// destination port number and the corresponding RTCP stream SHOULD use the next higher (odd)
// destination port number"); browser legs take any single port (rtcp-mux, RFC 5761).
import { MediaError } from './types.js';

export interface PortRange {
  from: number;
  to: number;
}

/** Binds the ports starting at `port` (one or two, per the request); rejects with an error whose
 *  `code` is 'EADDRINUSE' when another process holds one of them. */
export type PortBinder<T> = (port: number) => Promise<T>;

export interface Allocation<T> {
  port: number;
  value: T;
}

export type PortShape = 'single' | 'even-pair';

export function parsePortRange(spec: string): PortRange {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(spec);
  if (!match) throw new Error(`bad port range "${spec}": expected "from-to"`);
  const range = { from: Number(match[1]), to: Number(match[2]) };
  validateRange(range);
  return range;
}

function validateRange(range: PortRange): void {
  const ok =
    Number.isInteger(range.from) &&
    Number.isInteger(range.to) &&
    range.from >= 1 &&
    range.to <= 65535 &&
    range.from <= range.to;
  if (!ok) throw new Error(`bad port range ${range.from}-${range.to}`);
}

function isAddrInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}

/** Tracks which ports of the range this process holds. Allocation walks the range from a rotating
 *  cursor (so a freed port is not reused at once: late packets of the old call don't hit the new one),
 *  skipping ports we hold and ports the OS reports in use. */
export class PortAllocator {
  private readonly used = new Set<number>();
  private cursor: number;

  /** `first`: where the cursor starts (default the range's start; out of range → the start). */
  constructor(
    private readonly range: PortRange,
    first = range.from,
  ) {
    validateRange(range);
    this.cursor = Number.isInteger(first) && first >= range.from && first <= range.to ? first : range.from;
  }

  get inUse(): number {
    return this.used.size;
  }

  async allocate<T>(shape: PortShape, bind: PortBinder<T>): Promise<Allocation<T>> {
    const width = shape === 'even-pair' ? 2 : 1;
    const span = this.range.to - this.range.from + 1;
    for (let step = 0; step < span; step++) {
      const port = this.range.from + ((this.cursor - this.range.from + step) % span);
      if (!this.fits(port, shape, width)) continue;
      this.mark(port, width);
      try {
        const value = await bind(port);
        this.cursor = port + width > this.range.to ? this.range.from : port + width;
        return { port, value };
      } catch (err) {
        this.release(port, width);
        if (!isAddrInUse(err)) throw err;
      }
    }
    throw new MediaError('no-ports', `no free ${shape} port in ${this.range.from}-${this.range.to}`);
  }

  /** Give the ports back (idempotent). */
  free(port: number, shape: PortShape): void {
    this.release(port, shape === 'even-pair' ? 2 : 1);
  }

  private fits(port: number, shape: PortShape, width: number): boolean {
    if (shape === 'even-pair' && port % 2 !== 0) return false;
    if (port + width - 1 > this.range.to) return false;
    for (let p = port; p < port + width; p++) if (this.used.has(p)) return false;
    return true;
  }

  private mark(port: number, width: number): void {
    for (let p = port; p < port + width; p++) this.used.add(p);
  }

  private release(port: number, width: number): void {
    for (let p = port; p < port + width; p++) this.used.delete(p);
  }
}
