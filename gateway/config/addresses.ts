// Which address goes on the wire. A listening point may bind a wildcard (0.0.0.0 / ::), but Via sent-by,
// Contact, SDP c=/o=, ICE candidates and the printed page URL need an address a peer can reach: the
// configured advertise, else the bound address, else (wildcard bind) the host's one address of that
// family. Pure: the interface list is passed in (main/app pass os.networkInterfaces()).
import { isIP } from 'node:net';
import type { networkInterfaces } from 'node:os';

/** What os.networkInterfaces() returns. */
export type InterfaceList = ReturnType<typeof networkInterfaces>;

/** An advertised host, with the port to advertise when it differs from the bound one. */
export interface Advertised {
  host: string;
  port?: number;
}

/** Start-up cannot choose an address; the message names the config key. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** "0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0": an address that means "every interface". */
export function isWildcard(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(h) === 4) return h === '0.0.0.0';
  if (isIP(h) !== 6) return false;
  return new URL(`http://[${h}]/`).hostname === '[::]';
}

/** "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address → parts; undefined when malformed.
 *  A host is an IP address or a DNS name (RFC 3261 §25.1 host). */
export function parseAdvertise(value: string): Advertised | undefined {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? withPort(bracketed[1]!, bracketed[2]) : undefined;
  if (isIP(value) !== 0) return { host: value };
  const named = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(value);
  if (!named || !(isIP(named[1]!) === 4 || HOSTNAME.test(named[1]!))) return undefined;
  return withPort(named[1]!, named[2]);
}

function withPort(host: string, port: string | undefined): Advertised | undefined {
  if (port === undefined) return { host };
  const n = Number(port);
  return n >= 1 && n <= 65535 ? { host, port: n } : undefined;
}

/** IPv6 link-local (fe80::/10) needs a zone: useless to a peer on another link. */
function linkLocal(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/** The host's non-internal addresses of one family, in interface order. */
export function candidateAddresses(interfaces: InterfaceList, family: 4 | 6): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) {
      // Node 18.0-18.3 reported the family as a number.
      const fam = i.family === 'IPv6' || (i.family as unknown) === 6 ? 6 : 4;
      if (i.internal || fam !== family || (family === 6 && linkLocal(i.address))) continue;
      if (!out.includes(i.address)) out.push(i.address);
    }
  }
  return out;
}

export interface AddressPoint {
  /** The config key of the bind address, named in errors: "sip.listen[0]", "media.address". */
  key: string;
  /** The key(s) that would settle an ambiguity, for the error: "sip.listen[0].advertise or sip.advertise". */
  hint: string;
  /** The bind address (may be a wildcard). */
  bind: string;
  /** The configured advertise value, already validated ("host" or "host:port"). */
  advertise?: string;
}

/**
 * The address to put on the wire for one bind address:
 *  - a configured advertise wins (its port too, when it names one);
 *  - a specific bind address is itself;
 *  - a wildcard takes the host's only non-internal address of that family; with none, loopback (127.0.0.1
 *    or ::1, a host that only talks to itself); with several, start-up stops naming the key and the
 *    candidates, because any guess would be wrong for some peer.
 * Never returns a wildcard.
 */
export function selectAddress(point: AddressPoint, interfaces: InterfaceList): Advertised {
  if (point.advertise !== undefined) {
    const parsed = parseAdvertise(point.advertise);
    if (!parsed || isWildcard(parsed.host)) throw new AddressError(`${point.key}: cannot advertise "${point.advertise}"`);
    return parsed;
  }
  const bind = point.bind.replace(/^\[(.*)\]$/, '$1');
  if (!isWildcard(bind)) return { host: bind };
  const family = isIP(bind) === 6 ? 6 : 4;
  const candidates = candidateAddresses(interfaces, family);
  if (candidates.length === 1) return { host: candidates[0]! };
  if (candidates.length === 0) return { host: family === 6 ? '::1' : '127.0.0.1' };
  throw new AddressError(
    `${point.key}: ${bind} binds every interface and this host has several IPv${family} addresses ` +
      `(${candidates.join(', ')}): set ${point.hint} to the address peers should reach`,
  );
}

/** "::1" → "[::1]" for URLs and host:port text. */
export function formatHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
