// The per-source gate (README "Security"): a rate limit per source IP with a ban list (Kamailio pike +
// a ban htable), scanner User-Agents dropped unanswered, and the authentication-failure lockout per source
// and per user. Trunk addresses are exempt from the rate limit and the ban. Every decision that fail2ban
// may act on is logged in a fixed format in pino's msg (docs/fail2ban/).
import type { SecurityConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { getHeader } from '../sip/message/index.js';
import type { SipMessage } from '../sip/message/types.js';
import type { Flow } from '../sip/transport/types.js';
import { ExpirySet } from './expiry-set.js';
import { FailureCounter } from './failures.js';
import { rawScannerUserAgent } from './scanner-ua.js';
import { SourceBuckets } from './rate-limit.js';

export interface GuardOptions {
  security: SecurityConfig;
  logger: Logger;
  /** Flows from a trunk's address: never rate limited nor banned. */
  exempt: (flow: Flow) => boolean;
  now?: () => number;
  /** How often expired bans and lockouts are lifted (and logged), ms. Default 1000. */
  sweepMs?: number;
}

export interface AuthFailure {
  user: string;
  source: string;
  method: string;
  reason: 'wrong-password' | 'unknown-user' | 'bad-nonce' | 'locked';
}

export interface SecurityGuard {
  /** Transport entry, before parsing: false for a banned source, or one this message puts over the rate. */
  admit(flow: Flow): boolean;
  /** Before parsing: false for a request whose raw header section names a scanner User-Agent (dropped,
   *  no answer; a flood of them costs no parse). */
  screenRaw(data: Buffer, flow: Flow): boolean;
  /** After parsing: false for a request from a scanner User-Agent (dropped, no answer). */
  screen(message: SipMessage, flow: Flow): boolean;
  /** Is authentication from this source IP, or as this user, locked out? */
  authLocked(source: string, user: string | undefined): boolean;
  /** Logs a failed authentication and counts it against the source and (a configured) user. */
  authFailed(failure: AuthFailure, knownUser: boolean): void;
  /** Called with the source IP each time a source is banned (the transport closes its open connections). */
  onBan(listener: (ip: string) => void): void;
  /** Called with each failed authentication, after it is logged (metrics). */
  onAuthFailure?(listener: (failure: AuthFailure) => void): void;
  close(): void;
}

/** The IP as a key and as logged: no brackets, no IPv4-mapped prefix. */
export function sourceIp(address: string): string {
  return address.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();
}

/** A user name as logged: percent-encoded outside [A-Za-z0-9._~+@-] (it is attacker-chosen text), so the
 *  line has no spaces, quotes or backslashes, and JSON leaves it as is. */
export function logSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._~+@-]/g, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')) || '-';
}

/** SecurityGuard.screenRaw: a scanner User-Agent (lower-case `scanners`) in the raw header section. */
function screenRaw(logger: Logger, scanners: readonly string[], data: Buffer, flow: Flow): boolean {
  if (!rawScannerUserAgent(data, scanners)) return true;
  if (logger.isLevelEnabled('debug')) logger.debug({ source: sourceIp(flow.remote.address), bytes: data.length }, 'scanner dropped');
  return false;
}

/** SecurityGuard.screen: a request whose User-Agent contains one of the lower-case `scanners`. */
function screen(logger: Logger, scanners: readonly string[], message: SipMessage, flow: Flow): boolean {
  if (message.kind !== 'request' || scanners.length === 0) return true;
  const ua = getHeader(message, 'User-Agent')?.toLowerCase();
  if (ua === undefined || !scanners.some((x) => ua.includes(x))) return true;
  logger.debug({ source: sourceIp(flow.remote.address), userAgent: ua, method: message.method }, 'scanner dropped');
  return false;
}

export function createSecurityGuard(o: GuardOptions): SecurityGuard {
  const now = o.now ?? Date.now;
  const s = o.security;
  const buckets = s.rateLimit === false ? undefined : new SourceBuckets({ perSecond: s.rateLimit.requestsPerSecond, burst: s.rateLimit.burst });
  const bans = new ExpirySet();
  const lockout = { max: s.authFailures.max, windowMs: s.authFailures.windowSeconds * 1000, lockoutMs: s.authFailures.lockoutSeconds * 1000 };
  const sources = new FailureCounter(lockout);
  const users = new FailureCounter(lockout);
  const scanners = s.dropUserAgents.map((ua) => ua.toLowerCase());
  const banListeners: Array<(ip: string) => void> = [];
  const failureListeners: Array<(failure: AuthFailure) => void> = [];

  function sweep(): void {
    const t = now();
    buckets?.sweep(t);
    for (const ip of bans.expire(t)) o.logger.info({ source: ip }, `source unbanned: source=${ip}`);
    for (const ip of sources.sweep(t)) o.logger.info({ source: ip }, `auth unlocked: source=${ip}`);
    for (const user of users.sweep(t)) o.logger.info({ user }, `auth unlocked: user=${logSafe(user)}`);
  }
  const timer = setInterval(sweep, o.sweepMs ?? 1000);
  timer.unref();

  function admit(flow: Flow): boolean {
    if (!buckets) return true;
    const ip = sourceIp(flow.remote.address);
    const t = now();
    if (bans.has(ip, t)) return false;
    if (buckets.take(ip, t) || o.exempt(flow)) return true;
    bans.add(ip, t + s.ban.seconds * 1000);
    o.logger.warn({ source: ip, transport: flow.transport }, `source banned: source=${ip} reason=rate seconds=${s.ban.seconds}`);
    for (const listener of banListeners) listener(ip);
    return false;
  }

  function authFailed(f: AuthFailure, knownUser: boolean): void {
    const t = now();
    const user = logSafe(f.user);
    o.logger.warn({ user: f.user, source: f.source, method: f.method, reason: f.reason }, `auth failed: user=${user} source=${f.source} method=${f.method} reason=${f.reason}`);
    for (const listener of failureListeners) listener(f);
    if (f.reason === 'locked') return;
    const seconds = s.authFailures.lockoutSeconds;
    if (sources.record(f.source, t)) o.logger.warn({ source: f.source }, `auth locked: source=${f.source} failures=${s.authFailures.max} seconds=${seconds}`);
    if (knownUser && users.record(f.user, t)) o.logger.warn({ user: f.user }, `auth locked: user=${user} failures=${s.authFailures.max} seconds=${seconds}`);
  }

  return {
    admit,
    screenRaw: (data, flow) => screenRaw(o.logger, scanners, data, flow),
    screen: (message, flow) => screen(o.logger, scanners, message, flow),
    authLocked: (source, user) => sources.isLocked(source, now()) || (user !== undefined && users.isLocked(user, now())),
    authFailed,
    onBan: (listener) => void banListeners.push(listener),
    onAuthFailure: (listener) => void failureListeners.push(listener),
    close: () => clearInterval(timer),
  };
}
