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
 * The top Via of an inbound request, with received/rport filled in from the packet's real source:
 * RFC 3261 §18.2.1: "If the host portion of the sent-by parameter contains a domain name, or if it
 *   contains an IP address that differs from the packet source address, the server MUST add a
 *   "received" parameter to that Via header field value."
 * RFC 3581 §4: when the request has an "rport" parameter with no value, the server "MUST set the value
 *   of the parameter to the source port of the request" and "MUST insert a received parameter ...
 *   even if it is identical to the value of the sent-by component".
 * Never trusted from the message (issue 8, no reflection): a received or an rport value the sender wrote
 * itself is overwritten with the real source (or removed), so it cannot steer our responses to a victim.
 * Returns undefined when nothing needs to change.
 */
export function stampInboundVia(via: Via, source: Address): Via | undefined {
  const params = { ...via.params };
  const sourceIp = normalizeHost(source.address);
  const sentByHost = normalizeHost(via.host);
  const hasRport = 'rport' in params;
  const differs = isIP(sentByHost) === 0 || sentByHost !== sourceIp;
  const forged = 'received' in params || (hasRport && params.rport !== null && params.rport !== '');
  if (!differs && !hasRport && !forged) return undefined;
  if (differs || hasRport) params.received = sourceIp;
  else delete params.received;
  if (hasRport) params.rport = String(source.port);
  return { ...via, params };
}

/** How responses are routed (config sip.responseRouting):
 *  - 'strict' (default): Via maddr is ignored unless it equals the request's source address, and a
 *    response to a request that came over TCP/TLS/WS goes only on that connection (dropped if it closed);
 *  - 'rfc3261': RFC 3261 §18.2.2 to the letter (maddr honoured, a new connection to the Via address). */
export type ResponseRouting = 'strict' | 'rfc3261';

export type ResponseDestination =
  /** Write on the flow the request came on. */
  | { kind: 'flow' }
  /** Send to this address: over UDP, or over a new/reused TCP connection. */
  | { kind: 'address'; transport: TransportKind; address: string; port: number }
  /** Nowhere to send (e.g. a dead WebSocket): the reason says why. */
  | { kind: 'none'; reason: string }
  /** Not sent by policy ('strict'): the reason says why; logged at debug, not an error. */
  | { kind: 'drop'; reason: string };

function parsePort(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port > 0 && port < 65536 ? port : undefined;
}

/** The flow a request arrived on, as response routing sees it. */
export interface ResponseFlow {
  transport: TransportKind;
  reliable: boolean;
  alive: boolean;
  remote: Address;
}

/**
 * RFC 3261 §18.2.2 (with RFC 3581 §4) where a response goes, given the response's top Via (stamped by
 * stampInboundVia on the way in) and the flow its request arrived on.
 */
export function selectResponseDestination(via: Via, flow: ResponseFlow, routing: ResponseRouting = 'strict'): ResponseDestination {
  // §18.2.2: "the response MUST be sent using the existing connection to the source of the original request".
  if (flow.reliable && flow.alive) return { kind: 'flow' };
  const sentByPort = via.port ?? defaultPort(flow.transport);
  const received = via.params.received ?? undefined;
  if (flow.reliable) return closedFlowDestination(flow, routing, received ?? via.host, sentByPort);
  // §18.2.2: "if the Via header field value contains a "maddr" parameter, the response MUST be forwarded to
  // the address listed there, using the port indicated in "sent-by", or port 5060 if none is present."
  // We deviate ('strict'): a maddr someone else's address reflects our answers (and their retransmissions)
  // onto a victim. A maddr equal to the packet's source changes nothing, so only that one is honoured.
  const maddr = via.params.maddr;
  if (maddr && (routing === 'rfc3261' || normalizeHost(maddr) === normalizeHost(flow.remote.address))) {
    return { kind: 'address', transport: flow.transport, address: maddr, port: sentByPort };
  }
  // RFC 3581 §4: "there is both a "received" parameter and an "rport" parameter, the response MUST be sent
  // to the IP address listed in the "received" parameter, and the port in the "rport" parameter."
  if (received) {
    const port = parsePort(via.params.rport) ?? sentByPort;
    return { kind: 'address', transport: flow.transport, address: received, port };
  }
  // §18.2.2: "Otherwise ... the response MUST be sent to the address indicated by the "sent-by" value"
  // (stampInboundVia added received unless sent-by is the source IP: the address is the source's).
  return { kind: 'address', transport: flow.transport, address: via.host, port: sentByPort };
}

/** §18.2.2: "If that connection is no longer open, the server SHOULD open a connection to the IP address
 *  in the "received" parameter, if present, using the port in the "sent-by" value". We deviate ('strict',
 *  like Kamailio's tcp_no_connect for replies): the port is whatever the request wrote, so a connection
 *  there would push our response into any service on the sender's host; the response is dropped. A browser
 *  cannot be connected to at all: a closed WebSocket flow is final in both modes. */
function closedFlowDestination(flow: ResponseFlow, routing: ResponseRouting, host: string, port: number): ResponseDestination {
  if (flow.transport === 'ws' || flow.transport === 'wss') return { kind: 'none', reason: `${flow.transport} flow closed` };
  if (routing === 'strict') return { kind: 'drop', reason: `${flow.transport} connection of the request closed` };
  return { kind: 'address', transport: flow.transport, address: host, port };
}
