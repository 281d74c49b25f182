// The connection-hygiene settings the transport takes (sip.limits, http.allowedOrigins), from the config.
import type { ConnectionLimits } from '../sip/transport/limits.js';
import { formatHost, isWildcard } from './addresses.js';
import type { GatewayConfig } from './schema.js';

/** sip.limits (seconds) as the transport's ConnectionLimits (milliseconds). */
export function connectionLimits(config: GatewayConfig): ConnectionLimits {
  const l = config.sip.limits;
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    maxConnections: l.maxConnections,
    maxPerAddress: l.maxPerAddress,
    fdReserve: l.fdReserve,
    firstMessageMs: ms(l.firstMessageTimeout),
    messageMs: ms(l.messageTimeout),
    idleMs: ms(l.idleTimeout),
    tlsHandshakeMs: ms(l.tlsHandshakeTimeout),
    wsMessagesPerSecond: l.wsMessagesPerSecond,
    wsBurst: l.wsBurst,
  };
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** http.allowedOrigins, else the page's own: the advertised page URL's origin and the listen host's (on a
 *  loopback listen also localhost, 127.0.0.1 and [::1] on that port). */
export function allowedOrigins(config: GatewayConfig, pageUrl: string, listenHost: string, port: number): string[] {
  if (config.http.allowedOrigins) return [...config.http.allowedOrigins];
  const scheme = config.http.tls ? 'https' : 'http';
  const origins = new Set([new URL(pageUrl).origin]);
  if (!isWildcard(listenHost)) origins.add(`${scheme}://${formatHost(listenHost)}:${port}`);
  if (isLoopback(listenHost)) for (const name of LOOPBACK_NAMES) origins.add(`${scheme}://${name}:${port}`);
  return [...origins].map((o) => new URL(o).origin);
}
