// Overload control on event-loop lag: while the loop runs late, new out-of-dialog INVITEs and REGISTERs
// are answered 503 with Retry-After (RFC 3261 §21.5.4: "The server is temporarily unable to process the
// request due to a temporary overloading or maintenance of the server. The server MAY indicate when the
// client should retry the request in a Retry-After header field."), so that the calls already up keep
// their signalling (BYE, ACK, re-INVITE, CANCEL still pass) instead of every call degrading together.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '../../log.js';

/** How late the event loop ran recently, in ms. */
export interface LagSource {
  lagMs(): number;
  close(): void;
}

/** Event-loop lag from perf_hooks, sustained: each `windowMs` window's longest delay (a 10 ms timer that
 *  should fire every 10 ms; what it ran late by), and the lag is the lower of the last two windows — one
 *  isolated stall (a full garbage collection, a library loading on first use) does not shed load; lag
 *  that persists for two windows (≈ 1 s) does. */
export function eventLoopLag(windowMs = 500, resolutionMs = 10): LagSource {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let previous = 0;
  let lag = 0;
  const timer = setInterval(() => {
    // The histogram holds nanoseconds between the timer's runs; its own period is not lag.
    const worst = histogram.count > 0 ? Math.max(0, histogram.max / 1e6 - resolutionMs) : 0;
    histogram.reset();
    lag = Math.min(previous, worst);
    previous = worst;
  }, windowMs);
  timer.unref();
  return {
    lagMs: () => lag,
    close: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

export interface OverloadOptions {
  /** Lag (ms) above which new INVITEs and REGISTERs get 503; 0 turns overload control off. */
  lagMs: number;
  /** Seconds in the 503's Retry-After. */
  retryAfter: number;
  logger: Logger;
  /** Where the lag is read (tests pass a fake); default eventLoopLag(). */
  source?: LagSource;
}

/** The layer asks it per new INVITE / REGISTER; it logs entering (warn) and leaving (info) overload. */
export class OverloadGate {
  readonly retryAfter: number;
  private readonly source: LagSource | undefined;
  private overloaded = false;
  /** Requests refused since start (metrics may read it). */
  rejected = 0;

  constructor(private readonly options: OverloadOptions) {
    this.retryAfter = options.retryAfter;
    this.source = options.lagMs > 0 ? (options.source ?? eventLoopLag()) : undefined;
  }

  /** True when a new request should be refused now (counted). */
  refuse(): boolean {
    if (!this.source) return false;
    const lag = this.source.lagMs();
    const over = lag > this.options.lagMs;
    if (over !== this.overloaded) {
      this.overloaded = over;
      const log = { lagMs: Math.round(lag), thresholdMs: this.options.lagMs, rejected: this.rejected };
      if (over) this.options.logger.warn(log, 'overload: event loop lagging, new INVITE/REGISTER get 503');
      else this.options.logger.info(log, 'overload over: new requests accepted again');
    }
    if (over) this.rejected += 1;
    return over;
  }

  close(): void {
    this.source?.close();
  }
}
