// The addresses the gateway puts on the wire, decided once at start from the config and the host's
// interfaces (see addresses.ts for the rule). Pure: buildGateway and main pass os.networkInterfaces().
import { formatHost, selectAddress, type Advertised, type InterfaceList } from './addresses.js';
import { parseSipListen, splitHostPort, type SipListenPoint } from './load.js';
import type { GatewayConfig } from './schema.js';

/** A listening point with the address it advertises always set (never a wildcard). */
export type ResolvedListenPoint = SipListenPoint & { advertise: { address: string; port?: number } };

/** Every sip.listen entry: its own advertise, else sip.advertise, else the bound/interface address. */
export function sipListenPoints(config: GatewayConfig, interfaces: InterfaceList): ResolvedListenPoint[] {
  return config.sip.listen.map((entry, i) => {
    const point = parseSipListen(entry);
    const own = typeof entry === 'string' ? undefined : entry.advertise;
    const a = selectAddress(
      { key: `sip.listen[${i}]`, hint: `sip.listen[${i}].advertise or sip.advertise`, bind: point.address, advertise: own ?? config.sip.advertise },
      interfaces,
    );
    return { ...point, advertise: { address: a.host, ...(a.port ? { port: a.port } : {}) } };
  });
}

/** The web server (page URL, and the WebSocket listening point): http.advertise, else sip.advertise, else
 *  the bound/interface address. The port is the advertise's, else the bound one. */
export function httpAdvertised(config: GatewayConfig, interfaces: InterfaceList): Advertised {
  return selectAddress(
    { key: 'http.listen', hint: 'http.advertise', bind: splitHostPort(config.http.listen).host, advertise: config.http.advertise ?? config.sip.advertise },
    interfaces,
  );
}

/** The page URL for a bound HTTP port: "https://203.0.113.10:8443/". */
export function pageUrl(config: GatewayConfig, advertised: Advertised, boundPort: number): string {
  return `${config.http.tls ? 'https' : 'http'}://${formatHost(advertised.host)}:${advertised.port ?? boundPort}/`;
}

/** The address SDP c=/o= and ICE candidates carry: media.advertiseAddress, else the bind address, else the
 *  interface address (sip.advertise does not apply: media may leave by another path than signalling). */
export function mediaAdvertised(config: GatewayConfig, interfaces: InterfaceList): string {
  return selectAddress(
    { key: 'media.address', hint: 'media.advertiseAddress', bind: config.media.address, advertise: config.media.advertiseAddress },
    interfaces,
  ).host;
}
