// Connection hygiene for inbound TCP/TLS/WS (issue 8 item 5): global and per-source-address caps, and file
// descriptors kept in reserve for media sockets, so a flood of idle signalling connections can neither take
// every descriptor nor crowd out legitimate peers. Deadlines are in ./deadlines.ts.
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '../../log.js';
import { normalizeHost } from './addressing.js';

export interface ConnectionLimits {
  /** Inbound TCP + TLS + WS connections at once (trunk addresses not counted). */
  maxConnections: number;
  /** Inbound connections at once from one source IP (trunk addresses exempt). */
  maxPerAddress: number;
  /** File descriptors kept free for media: an inbound connection is refused once the process has
   *  (soft RLIMIT_NOFILE − fdReserve) descriptors open (never reserving more than half the limit). */
  fdReserve: number;
  /** An accepted connection must complete its first SIP message within this (0: off). */
  firstMessageMs: number;
  /** A message, once its first byte arrived, must be complete within this (slow-loris; 0: off). */
  messageMs: number;
  /** A connection with no registration or call bound to it is closed after this long without a
   *  complete message (CRLF keep-alives count; WebSocket pongs do not; 0: off). */
  idleMs: number;
  /** An inbound TLS handshake must finish within this. */
  tlsHandshakeMs: number;
  /** SIP messages per second per source IP over WebSocket (token bucket; 0: off). */
  wsMessagesPerSecond: number;
  /** The bucket's capacity (a burst allowed at once). */
  wsBurst: number;
}

export const LIMIT_DEFAULTS: ConnectionLimits = {
  maxConnections: 4096,
  maxPerAddress: 64,
  fdReserve: 2048,
  firstMessageMs: 10_000,
  messageMs: 20_000,
  idleMs: 120_000,
  tlsHandshakeMs: 10_000,
  wsMessagesPerSecond: 50,
  wsBurst: 100,
};

export type Refusal = 'connections' | 'address' | 'descriptors';

/** Open descriptors against the soft limit, read from /proc (Linux); elsewhere the check is off. */
export class FdBudget {
  private counted = 0;
  private countedAt = -Infinity;
  private admittedSince = 0;

  constructor(
    /** Descriptors signalling may bring the process to; undefined: unknown (no check). */
    readonly ceiling: number | undefined,
    private readonly count: () => number = countOpenFds,
    private readonly now: () => number = Date.now,
    private readonly refreshMs = 250,
  ) {}

  /** From /proc/self/limits: max(limit − reserve, limit / 2). */
  static fromSystem(reserve: number): FdBudget {
    const limit = softFdLimit();
    return new FdBudget(limit === undefined ? undefined : Math.max(limit - reserve, Math.floor(limit / 2)));
  }

  /** Room for one more descriptor? Recounts at most every refreshMs; in between, admissions are added. */
  available(): boolean {
    if (this.ceiling === undefined) return true;
    const t = this.now();
    if (t - this.countedAt >= this.refreshMs) {
      this.counted = this.count();
      this.countedAt = t;
      this.admittedSince = 0;
    }
    return this.counted + this.admittedSince < this.ceiling;
  }

  admitted(): void {
    this.admittedSince++;
  }
}

function softFdLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

function countOpenFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/** Counts inbound connections per source address; admit() or refuse. */
export class ConnectionGuard {
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly lastWarned = new Map<string, number>();

  constructor(
    readonly limits: ConnectionLimits,
    private readonly exempt: (ip: string) => boolean,
    private readonly fds: FdBudget,
    private readonly logger: Logger,
  ) {}

  /** The connections open from an address (tests, status). */
  count(ip?: string): number {
    return ip === undefined ? this.total : (this.perAddress.get(normalizeHost(ip)) ?? 0);
  }

  /** A release function for an admitted connection, or why it is refused (logged, at most once a minute
   *  per address and reason). Trunk addresses skip both caps; the descriptor reserve applies to all. */
  admit(rawIp: string, transport: string): (() => void) | Refusal {
    const ip = normalizeHost(rawIp);
    const refusal = this.check(ip);
    if (refusal) {
      this.warn(ip, transport, refusal);
      return refusal;
    }
    this.fds.admitted();
    if (this.exempt(ip)) return () => undefined;
    this.total++;
    this.perAddress.set(ip, (this.perAddress.get(ip) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAddress.get(ip) ?? 1) - 1;
      if (left > 0) this.perAddress.set(ip, left);
      else this.perAddress.delete(ip);
    };
  }

  /** Room for a descriptor (HTTP connections that are not SIP yet). */
  descriptorsAvailable(): boolean {
    return this.fds.available();
  }

  private check(ip: string): Refusal | undefined {
    if (!this.fds.available()) return 'descriptors';
    if (this.exempt(ip)) return undefined;
    if (this.total >= this.limits.maxConnections) return 'connections';
    if ((this.perAddress.get(ip) ?? 0) >= this.limits.maxPerAddress) return 'address';
    return undefined;
  }

  private warn(ip: string, transport: string, refusal: Refusal): void {
    const key = `${ip} ${refusal}`;
    const now = Date.now();
    if (now - (this.lastWarned.get(key) ?? -Infinity) < 60_000) return;
    if (this.lastWarned.size > 10_000) this.lastWarned.clear();
    this.lastWarned.set(key, now);
    const limit = { connections: this.limits.maxConnections, address: this.limits.maxPerAddress, descriptors: this.fds.ceiling }[refusal];
    this.logger.warn({ source: ip, transport, reason: refusal, limit }, `connection refused: source=${ip} reason=${refusal} limit=${limit}`);
  }
}
