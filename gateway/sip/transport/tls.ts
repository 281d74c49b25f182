// SIP over TLS (RFC 3261 §26.2.1, RFC 5630 §3.1.1): TLS is a stream transport like TCP — the same
// framing, pool and connection state (./tcp.ts) — plus a handshake. This file only dials and accepts.
import { lookup as dnsLookup } from 'node:dns/promises';
import type net from 'node:net';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../log.js';
import { normalizeHost } from './addressing.js';
import type { Dialer, StreamConnections } from './tcp.js';
import { TransportError, type Address, type Target, type TlsTargetOptions } from './types.js';

/** Outbound TLS settings for one configured peer (a trunk): matched against a Target by host and port. */
export interface TlsPeer extends TlsTargetOptions {
  /** The host of the peer's URI: a DNS name (also the SNI and the name its certificate must carry) or an IP. */
  host: string;
  port: number;
}

export interface TlsClientOptions {
  /** Per-peer CA/verification; a target matching none is verified against the system CAs. */
  peers?: TlsPeer[];
  /** Resolves a peer's DNS name to addresses, to recognise it in a Target (default: dns.lookup, all). */
  lookup?: (host: string) => Promise<string[]>;
}

export interface TlsServerCredentials {
  cert: string | Buffer;
  key: string | Buffer;
}

async function lookupAll(host: string): Promise<string[]> {
  const found = await dnsLookup(host, { all: true });
  return found.map((a) => a.address);
}

/** The settings for a target: its own `tls` if given, else the first peer on the same port whose host is
 *  the target's servername or address, or resolves to that address. Pure apart from `lookup`. */
export async function tlsSettingsFor(
  target: Target,
  peers: readonly TlsPeer[],
  lookup: (host: string) => Promise<string[]>,
): Promise<TlsTargetOptions> {
  if (target.tls) return target.tls;
  const address = normalizeHost(target.address);
  const candidates = peers.filter((p) => p.port === target.port);
  const named = (peer: TlsPeer): TlsTargetOptions => ({ ca: peer.ca, verify: peer.verify, servername: peer.servername ?? peer.host });
  const exact = candidates.find((p) => normalizeHost(p.host) === address);
  if (exact) return named(exact);
  for (const peer of candidates) {
    if (isIP(normalizeHost(peer.host)) !== 0) continue;
    const addresses = await lookup(peer.host).catch(() => [] as string[]);
    if (addresses.map(normalizeHost).includes(address)) return named(peer);
  }
  return {};
}

/** node:tls connect options. RFC 5922 §7.2 / RFC 6125: the certificate must match the URI's host, which is
 *  also the SNI (RFC 6066 §3 forbids an IP literal there; an IP is then checked against the IP SANs). */
export function connectOptions(remote: Address, settings: TlsTargetOptions): tls.ConnectionOptions {
  const name = settings.servername !== undefined ? normalizeHost(settings.servername) : undefined;
  const options: tls.ConnectionOptions = {
    host: remote.address,
    port: remote.port,
    // Verification is on unless a peer is explicitly configured with verify: false.
    rejectUnauthorized: settings.verify !== false,
    minVersion: 'TLSv1.2',
  };
  if (name !== undefined && isIP(name) === 0) options.servername = name;
  else if (name !== undefined) options.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(name, cert);
  if (settings.ca !== undefined) options.ca = settings.ca;
  return options;
}

/** The Dialer the TLS pool uses. */
export function tlsDialer(client: TlsClientOptions): Dialer {
  const peers = client.peers ?? [];
  const lookup = client.lookup ?? lookupAll;
  return async (remote, target) => {
    const options = connectOptions(remote, await tlsSettingsFor(target, peers, lookup));
    try {
      return { socket: tls.connect(options), readyEvent: 'secureConnect' };
    } catch (err) {
      // e.g. an unparseable CA: createSecureContext throws synchronously.
      throw new TransportError(`tls connect to ${remote.address}:${remote.port} failed: ${(err as Error).message}`);
    }
  };
}

/** A TLS server (RFC 3261 §26.3.1: the server presents its certificate; clients are not asked for one)
 *  whose handshaken sockets join the pool. */
export function createTlsServer(
  credentials: TlsServerCredentials,
  connections: StreamConnections,
  logger: Logger,
  handshakeTimeoutMs: number,
): tls.Server {
  const options = { cert: credentials.cert, key: credentials.key, minVersion: 'TLSv1.2' as const, handshakeTimeout: handshakeTimeoutMs };
  const server = tls.createServer(options, (socket) => {
    connections.adopt(socket);
  });
  // Caps and the descriptor reserve are checked on the raw TCP socket, before any handshake work.
  server.prependListener('connection', (raw: net.Socket) => connections.admit(raw));
  // A failed or timed-out handshake (handshakeTimeout) only concerns that socket: it is closed.
  server.on('tlsClientError', (err, socket) => {
    logger.debug({ err: err.message, remote: socket.remoteAddress }, 'tls handshake failed');
    socket.destroy();
  });
  return server;
}
