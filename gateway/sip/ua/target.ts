// Resolving a SIP URI to the place a request is sent (RFC 3263, simplified for this gateway).
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { SipUri } from '../message/types.js';
import type { Target, TransportKind } from '../transport/types.js';

/** Raised when a URI cannot be turned into a Target; `reason` is fit for a log line or a reason phrase. */
export class TargetError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TargetError';
  }
}

export type HostLookup = (host: string) => Promise<string>;

const TRANSPORTS: readonly TransportKind[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

async function lookupA(host: string): Promise<string> {
  const { address } = await dnsLookup(host, { family: 4 });
  return address;
}

/** RFC 3263 §4.1: "If the URI specifies a transport protocol in the transport parameter, that transport
 *  protocol SHOULD be used." Otherwise UDP for sip:, TLS for sips: (no NAPTR/SRV here). */
export function transportOf(uri: SipUri): TransportKind {
  const param = uri.params.transport;
  if (param !== undefined && param !== null) {
    const t = param.toLowerCase() as TransportKind;
    if (!TRANSPORTS.includes(t)) throw new TargetError(`unsupported transport "${param}"`);
    return t;
  }
  return uri.scheme.toLowerCase() === 'sips' ? 'tls' : 'udp';
}

/** RFC 3263 §4.2: "If the TARGET was not a numeric IP address, but a port is present in the URI, the client
 *  performs an A or AAAA record lookup" — we always do an A lookup (dns.lookup), never SRV. Default port
 *  5060, 5061 for TLS (RFC 3261 §19.1.2). Names under `.invalid` (RFC 6761 §6.4) are never looked up. */
export async function resolveTarget(uri: SipUri, lookup: HostLookup = lookupA): Promise<Target> {
  const scheme = uri.scheme.toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') throw new TargetError(`cannot route a ${uri.scheme}: URI`);
  const transport = transportOf(uri);
  const port = uri.port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060);
  // RFC 3261 §19.1.1: maddr overrides the address derived from the host part.
  const host = (uri.params.maddr ?? uri.host).replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return { address: host, port, transport };
  if (host === '' || /\.invalid\.?$/i.test(host) || host.toLowerCase() === 'invalid') {
    throw new TargetError(`unresolvable host "${host}"`);
  }
  try {
    return { address: await lookup(host), port, transport };
  } catch (err) {
    throw new TargetError(`cannot resolve "${host}": ${(err as Error).message}`);
  }
}
