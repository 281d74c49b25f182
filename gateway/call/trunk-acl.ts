// Which trunk (if any) an inbound INVITE comes from: only trunks may send calls in. The decision uses
// the packet's source IP (the flow's remote address), never a header a sender can write. A trunk's
// addresses are its URI host — a numeric IP as it is, a name resolved with dns.lookup at start and
// refreshed periodically — plus trunks[].addresses (IPs, or names resolved the same way).
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TrunkConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { parseUri } from '../sip/message/index.js';
import type { Flow } from '../sip/transport/types.js';

/** All addresses of a host name. */
export type AddressLookup = (host: string) => Promise<string[]>;

export interface TrunkAclOptions {
  trunks: readonly TrunkConfig[];
  logger: Logger;
  lookup?: AddressLookup;
  /** How often names are resolved again (ms). Default 5 minutes. */
  refreshMs?: number;
}

export interface TrunkAcl {
  /** The trunk a request on this flow comes from, or undefined. WebSocket flows are browsers, never trunks. */
  trunkFor(flow: Flow): TrunkConfig | undefined;
  /** Resolves every name again (also run at start and every refreshMs). Never rejects. */
  refresh(): Promise<void>;
  /** Another trunk list (a config reload, gateway/config/reload.ts): names resolved anew, at once. */
  update(trunks: readonly TrunkConfig[]): void;
  close(): void;
}

export const DEFAULT_ACL_REFRESH_MS = 5 * 60_000;

async function lookupAll(host: string): Promise<string[]> {
  const found = await dnsLookup(host, { all: true });
  return found.map((a) => a.address);
}

/** Comparable form of an IP: no brackets, no IPv4-mapped prefix, lower case. */
export function normalizeIp(ip: string): string {
  return ip.replace(/^\[(.*)\]$/, '$1').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();
}

/** The hosts that identify a trunk: its URI host (or maddr) and its configured addresses. */
export function trunkHosts(trunk: TrunkConfig): string[] {
  const hosts = [...trunk.addresses];
  try {
    const uri = parseUri(trunk.uri);
    hosts.unshift(uri.params.maddr ?? uri.host);
  } catch {
    // The schema checked the scheme only; an unparsable URI contributes no address.
  }
  return hosts.map(normalizeIp).filter((h) => h !== '');
}

/** The host names among the trunks' hosts (resolved with DNS; numeric IPs are fixed). */
const namesOf = (list: readonly TrunkConfig[]): string[] => [...new Set(list.flatMap(trunkHosts).filter((h) => isIP(h) === 0))];

/** Source IP → the first trunk with that address (names as last resolved). */
function sourceIndex(trunks: readonly TrunkConfig[], resolved: ReadonlyMap<string, string[]>): Map<string, TrunkConfig> {
  const addressesOf = (trunk: TrunkConfig): string[] => trunkHosts(trunk).flatMap((h) => (isIP(h) !== 0 ? [h] : (resolved.get(h) ?? [])));
  const built = new Map<string, TrunkConfig>();
  for (const t of trunks) for (const ip of addressesOf(t)) if (!built.has(ip)) built.set(ip, t);
  return built;
}

export function createTrunkAcl(o: TrunkAclOptions): TrunkAcl {
  const lookup = o.lookup ?? lookupAll;
  // Numeric hosts are fixed; names map to their last successful resolution.
  const resolved = new Map<string, string[]>();
  let closed = false;
  let trunks = o.trunks;
  /** Source IP → the first trunk with that address: built on first use after any change (a new trunk
   *  list, a name resolved anew), so a request costs one Map lookup, not a URI parse per trunk. */
  let bySource: Map<string, TrunkConfig> | undefined;

  async function resolveName(name: string): Promise<void> {
    try {
      const ips = (await lookup(name)).map(normalizeIp);
      if (!closed) {
        resolved.set(name, ips);
        bySource = undefined;
      }
    } catch (err) {
      // A failed refresh keeps the previous addresses (a DNS hiccup must not cut a trunk off).
      o.logger.warn({ host: name, err: (err as Error).message }, 'trunk address lookup failed');
    }
  }

  let names = namesOf(trunks);
  const refresh = async (): Promise<void> => {
    await Promise.all(names.map(resolveName));
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearInterval(timer);
    timer = names.length > 0 ? setInterval(() => void refresh(), o.refreshMs ?? DEFAULT_ACL_REFRESH_MS) : undefined;
    timer?.unref();
  };
  schedule();
  void refresh();

  return {
    trunkFor(flow) {
      if (flow.transport === 'ws' || flow.transport === 'wss') return undefined;
      bySource ??= sourceIndex(trunks, resolved);
      return bySource.get(normalizeIp(flow.remote.address));
    },
    refresh,
    update(next) {
      if (closed) return;
      trunks = next;
      bySource = undefined;
      names = namesOf(next);
      schedule();
      void refresh();
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
