// Pure address rules of RFC 3261 §18 and RFC 3581. No sockets here, so all of it is unit-tested.
import { isIP } from 'node:net';
import type { Via } from '../message/types.js';
import type { Address, TransportKind } from './types.js';

/** RFC 3261 §19.1.2 / RFC 3261 §18.2.2: 5060 for UDP/TCP/WS-less defaults, 5061 for TLS. */
export function defaultPort(kind: TransportKind): number {
  return kind === 'tls' || kind === 'wss' ? 5061 : 5060;
}

/** "[::1]" → "::1", "::ffff:10.0.0.1" → "10.0.0.1", lower-cased, so addresses compare by value. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped ? mapped[1]! : h;
}

/** A stable map key for a remote address: "10.0.0.1:5060", "[::1]:5060". */
export function addressKey(a: Address): string {
  const host = normalizeHost(a.address);
  return isIP(host) === 6 ? `[${host}]:${a.port}` : `${host}:${a.port}`;
}

/** A listening point's advertised address: the configured parts over the bound ones. */
export function advertisedAddress(bound: Address, advertise?: Partial<Address>): Address {
  return { address: advertise?.address ?? bound.address, port: advertise?.port ?? bound.port };
}

/** RFC 3261 §18.1.2: is a response's top Via sent-by ours? It is when it names one of our points' bound
 *  port (a sent-by we built from a bound address) or one of their advertised addresses. */
export function isOwnSentBy(via: { host: string; port?: number }, points: ReadonlyArray<{ bound: Address; sentBy: Address }>): boolean {
  if (via.port === undefined) return true; // default port: too little to tell, stay lenient
  const host = normalizeHost(via.host);
  return points.some((p) => p.bound.port === via.port || (p.sentBy.port === via.port && normalizeHost(p.sentBy.address) === host));
}

/** The transport kind a Via's sent-protocol names ('UDP' → 'udp'); undefined if unknown. */
export function viaKind(via: Via): TransportKind | undefined {
  const t = via.transport.toLowerCase();
  return t === 'udp' || t === 'tcp' || t === 'tls' || t === 'ws' || t === 'wss' ? t : undefined;
}

/**
 * The top Via of an inbound request, with received/rport filled in:
 * RFC 3261 §18.2.1: "If the host portion of the sent-by parameter contains a domain name, or if it
 *   contains an IP address that differs from the packet source address, the server MUST add a
 *   "received" parameter to that Via header field value."
 * RFC 3581 §4: when the request has an "rport" parameter with no value, the server "MUST set the value
 *   of the parameter to the source port of the request" and "MUST insert a received parameter ...
 *   even if it is identical to the value of the sent-by component".
 * Returns undefined when nothing needs to change.
 */
export function stampInboundVia(via: Via, source: Address): Via | undefined {
  const params = { ...via.params };
  const sourceIp = normalizeHost(source.address);
  const sentByHost = normalizeHost(via.host);
  const emptyRport = 'rport' in params && (params.rport === null || params.rport === '');
  const differs = isIP(sentByHost) === 0 || sentByHost !== sourceIp;
  if (!differs && !emptyRport) return undefined;
  params.received = sourceIp;
  if (emptyRport) params.rport = String(source.port);
  return { ...via, params };
}

export type ResponseDestination =
  /** Write on the flow the request came on. */
  | { kind: 'flow' }
  /** Send to this address: over UDP, or over a new/reused TCP connection. */
  | { kind: 'address'; transport: TransportKind; address: string; port: number }
  /** Nowhere to send (e.g. a dead WebSocket): the reason says why. */
  | { kind: 'none'; reason: string };

function parsePort(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port > 0 && port < 65536 ? port : undefined;
}

/**
 * RFC 3261 §18.2.2 (with RFC 3581 §4) where a response goes, given the response's top Via and the flow
 * its request arrived on.
 */
export function selectResponseDestination(
  via: Via,
  flow: { transport: TransportKind; reliable: boolean; alive: boolean },
): ResponseDestination {
  // §18.2.2: "the response MUST be sent using the existing connection to the source of the original request".
  if (flow.reliable && flow.alive) return { kind: 'flow' };
  const sentByPort = via.port ?? defaultPort(flow.transport);
  const received = via.params.received ?? undefined;
  if (flow.reliable) {
    // §18.2.2: "If that connection is no longer open, the server SHOULD open a connection to the IP address
    // in the "received" parameter, if present, using the port in the "sent-by" value". A browser cannot be
    // connected to: a closed WebSocket flow is final.
    if (flow.transport === 'ws' || flow.transport === 'wss') {
      return { kind: 'none', reason: `${flow.transport} flow closed` };
    }
    return { kind: 'address', transport: flow.transport, address: received ?? via.host, port: sentByPort };
  }
  // §18.2.2: "if the Via header field value contains a "maddr" parameter, the response MUST be forwarded to
  // the address listed there, using the port indicated in "sent-by", or port 5060 if none is present."
  const maddr = via.params.maddr;
  if (maddr) return { kind: 'address', transport: flow.transport, address: maddr, port: sentByPort };
  // RFC 3581 §4: "there is both a "received" parameter and an "rport" parameter, the response MUST be sent
  // to the IP address listed in the "received" parameter, and the port in the "rport" parameter."
  if (received) {
    const port = parsePort(via.params.rport) ?? sentByPort;
    return { kind: 'address', transport: flow.transport, address: received, port };
  }
  // §18.2.2: "Otherwise ... the response MUST be sent to the address indicated by the "sent-by" value".
  return { kind: 'address', transport: flow.transport, address: via.host, port: sentByPort };
}
