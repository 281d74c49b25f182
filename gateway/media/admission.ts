// Admission control of the embedded media engine (issue 12 item 3): while the thread the engine runs on is
// too busy — its event loop runs late, or is hardly ever idle — new calls are refused (the call layer answers
// 503 with Retry-After, RFC 3261 §21.5.4: "The server is temporarily unable to process the request due to a
// temporary overloading … The server MAY indicate when the client should retry the request in a Retry-After
// header field"), so the calls already up keep their media on time instead of every call degrading.
//
// Measured per thread (the engine may run in a worker thread: gateway/media/workers), once per window:
//  - the event-loop delay, p99 of perf_hooks' monitorEventLoopDelay over the window (what a packet waiting
//    in the socket's buffer waits, on top of the relay's own work);
//  - the event-loop utilization, performance.eventLoopUtilization() between two windows (the share of the
//    window the loop was running callbacks rather than waiting in epoll). Both are per thread; CPU time
//    (process.cpuUsage) is not, so it is not used.
// The decision (decideAdmitting) is pure: refuse once two consecutive windows are over either threshold (one
// isolated stall — a full garbage collection, a burst of DTLS handshakes — does not refuse calls), admit again
// after one whole window below RESUME_FRACTION of both (hysteresis: no flapping at the threshold).
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { BroadcastChannel } from 'node:worker_threads';
import type { Logger } from 'pino';
import { MediaError, type EngineLoad } from './types.js';

export interface AdmissionLimits {
  /** false: never refuse (the load is still measured, for the metrics). */
  enabled: boolean;
  /** Share of a window (0–1) the engine's event loop may be busy. */
  maxUtilization: number;
  /** Event-loop delay p99 (ms) over a window. */
  maxDelayMs: number;
}

/** config media.admission's defaults (gateway/config/schema.ts; the README says why these). */
export const DEFAULT_ADMISSION: AdmissionLimits = { enabled: true, maxUtilization: 0.9, maxDelayMs: 50 };

/** Calls are admitted again only when a whole window stayed below this share of both thresholds. */
export const RESUME_FRACTION = 0.9;

/** Consecutive windows over a threshold before new calls are refused. */
export const SUSTAIN_WINDOWS = 2;

/** One window's load of the engine's thread. */
export interface WindowLoad {
  utilization: number;
  delayP99Ms: number;
}

export function overThreshold(w: WindowLoad, limits: AdmissionLimits): boolean {
  return w.utilization > limits.maxUtilization || w.delayP99Ms > limits.maxDelayMs;
}

export function belowResume(w: WindowLoad, limits: AdmissionLimits): boolean {
  return w.utilization < limits.maxUtilization * RESUME_FRACTION && w.delayP99Ms < limits.maxDelayMs * RESUME_FRACTION;
}

/** Whether new calls are admitted after the latest window. `windows`: the recent ones, oldest first. */
export function decideAdmitting(admitting: boolean, windows: readonly WindowLoad[], limits: AdmissionLimits): boolean {
  if (!limits.enabled) return true;
  const latest = windows.at(-1);
  if (!latest) return admitting;
  if (!admitting) return belowResume(latest, limits);
  const recent = windows.slice(-SUSTAIN_WINDOWS);
  return !(recent.length === SUSTAIN_WINDOWS && recent.every((w) => overThreshold(w, limits)));
}

/** Where a window's load is read; each sample() covers the time since the previous one. */
export interface LoadProbe {
  sample(): WindowLoad;
  close(): void;
}

/** This thread's event loop, from perf_hooks. */
export function eventLoopProbe(resolutionMs = 10): LoadProbe {
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let lastAt = performance.now();
  return {
    sample() {
      const now = performance.eventLoopUtilization();
      const utilization = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      const at = performance.now();
      // The histogram holds the sampling timer's whole interval (ns): its lateness is what is above the
      // resolution. No sample in a whole window: that timer never got to run — the window is the delay.
      const delayP99Ms = Math.max(0, (delay.count > 0 ? delay.percentile(99) / 1e6 : at - lastAt) - resolutionMs);
      lastAt = at;
      delay.reset();
      return { utilization: Number.isFinite(utilization) ? utilization : 0, delayP99Ms };
    },
    close: () => delay.disable(),
  };
}

export interface AdmissionOptions extends Partial<AdmissionLimits> {
  /** Window length (default 500 ms). */
  windowMs?: number;
  /** Where the load is read (tests pass a fake); default eventLoopProbe(). */
  probe?: LoadProbe;
  /** The worker thread the engine runs in (EngineLoad.worker); 0, the default, for the gateway's own. */
  worker?: number;
  /** Tests only: a BroadcastChannel name on which a TestLoad message makes this engine's thread really
   *  overloaded (busy in slices, bounded in time), whichever thread it runs in (loadTestHook). */
  loadTestChannel?: string;
}

/** Tests only: keep the thread busy `busyMs` out of every `busyMs + idleMs` for `forMs` (at most 60 s);
 *  { stop: true } ends it. */
export type TestLoad = { busyMs: number; idleMs: number; forMs: number } | { stop: true };

/** Tests only (AdmissionOptions.loadTestChannel): burns this thread's CPU as TestLoad messages say, the
 *  way a flood of packets or a garbage-collection storm would. Returns its close(). */
export function loadTestHook(name: string): () => void {
  const channel = new BroadcastChannel(name);
  channel.unref();
  let timer: NodeJS.Timeout | undefined;
  let until = 0;
  const run = (busyMs: number, idleMs: number): void => {
    if (Date.now() >= until) return;
    const end = Date.now() + busyMs;
    while (Date.now() < end) {
      // busy: nothing else runs on this thread meanwhile
    }
    timer = setTimeout(() => run(busyMs, idleMs), idleMs);
  };
  channel.onmessage = (event) => {
    const load = (event as { data: TestLoad }).data;
    clearTimeout(timer);
    if ('stop' in load) return void (until = 0);
    until = Date.now() + Math.min(load.forMs, 60_000);
    run(load.busyMs, load.idleMs);
  };
  return () => {
    clearTimeout(timer);
    channel.close();
  };
}

/** The latest window's figures and the decision. */
export interface AdmissionLoad extends WindowLoad {
  admitting: boolean;
  /** New calls refused since start. */
  refused: number;
}

const KEPT_WINDOWS = 3;

/** One per engine (so one per thread): samples a window every windowMs, asked once per new call. */
export class Admission {
  readonly limits: AdmissionLimits;
  private readonly probe: LoadProbe;
  private readonly timer: NodeJS.Timeout;
  private readonly windows: WindowLoad[] = [];
  private admitting = true;
  private refused = 0;
  /** Refusals since this burst began (for the log line that ends it). */
  private burst = 0;
  private readonly worker: number;
  private readonly closeTestHook: (() => void) | undefined;

  constructor(
    options: AdmissionOptions,
    private readonly logger: Logger,
  ) {
    this.worker = options.worker ?? 0;
    this.limits = {
      enabled: options.enabled ?? DEFAULT_ADMISSION.enabled,
      maxUtilization: options.maxUtilization ?? DEFAULT_ADMISSION.maxUtilization,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_ADMISSION.maxDelayMs,
    };
    this.probe = options.probe ?? eventLoopProbe();
    this.timer = setInterval(() => this.tick(), options.windowMs ?? 500);
    this.timer.unref();
    this.closeTestHook = options.loadTestChannel ? loadTestHook(options.loadTestChannel) : undefined;
  }

  private tick(): void {
    this.windows.push(this.probe.sample());
    if (this.windows.length > KEPT_WINDOWS) this.windows.shift();
    const next = decideAdmitting(this.admitting, this.windows, this.limits);
    if (next === this.admitting) return;
    this.admitting = next;
    const w = this.windows.at(-1)!;
    const figures = { utilization: round(w.utilization), delayP99Ms: round(w.delayP99Ms), maxUtilization: this.limits.maxUtilization, maxDelayMs: this.limits.maxDelayMs };
    if (!next) this.logger.warn(figures, 'media admission: engine loop too busy, new calls get 503');
    else this.logger.info({ ...figures, refused: this.burst }, 'media admission: new calls admitted again');
    this.burst = 0;
  }

  /** Whether a new call may start now; a refusal is counted. */
  admits(): boolean {
    if (this.admitting) return true;
    this.refused += 1;
    this.burst += 1;
    return false;
  }

  /** A request for a call key the engine does not hold yet: MediaError('overloaded') while refusing.
   *  One for a call it holds (a re-offer, media restarted) always goes on. */
  check(callId: string, known: boolean): void {
    if (known || this.admits()) return;
    throw new MediaError('overloaded', `media engine overloaded: new call ${callId} refused for now`);
  }

  /** The engine's EngineLoad, with its live call count. */
  engineLoad(calls: number): EngineLoad {
    return { worker: this.worker, calls, ...this.load() };
  }

  load(): AdmissionLoad {
    const w = this.windows.at(-1) ?? { utilization: 0, delayP99Ms: 0 };
    return { utilization: w.utilization, delayP99Ms: w.delayP99Ms, admitting: this.admitting, refused: this.refused };
  }

  close(): void {
    clearInterval(this.timer);
    this.probe.close();
    this.closeTestHook?.();
  }
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
