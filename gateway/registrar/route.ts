// How to reach one binding (RFC 5626 flows, RFC 7118 §5 WebSocket contacts, RFC 3581 source addresses).
import type { Target, TransportKind } from '../sip/transport/types.js';
import { isWebSocket } from './bindings.js';
import type { Binding, ContactRoute } from './types.js';

/** RFC 3261 §19.1.2: default ports. */
function defaultPort(transport: TransportKind): number {
  return transport === 'tls' || transport === 'wss' ? 5061 : 5060;
}

/** Where a request goes when no alive flow exists:
 *  - UDP: the REGISTER's source address. RFC 3581 §4 makes the source (received/rport) the address
 *    responses reach through a NAT; Kamailio's fix_nated_register keeps it for requests too, so a phone
 *    behind NAT that registered from there is reached there, whatever private address its Contact names.
 *  - TCP/TLS: the connection's source port is ephemeral, so the phone's listening port (the Contact's) at
 *    the source IP. */
function targetOf(b: Binding): Target | undefined {
  if (isWebSocket(b.transport)) return undefined;
  const address = b.source.address;
  if (b.transport === 'udp') return { address, port: b.source.port, transport: 'udp' };
  return { address, port: b.contact.port ?? defaultPort(b.transport), transport: b.transport };
}

/** RFC 7118 §5: "the SIP WebSocket Client … is reachable only over the WebSocket connection" — a WS
 *  contact gets its flow and no target. A TCP/TLS contact gets its flow while the connection lives. */
export function routeOf(b: Binding): ContactRoute {
  const reusable = b.flow !== undefined && b.flow.alive && b.transport !== 'udp';
  const param = b.contact.params.transport?.toLowerCase();
  const route: ContactRoute = {
    user: b.user,
    contact: b.contact,
    contactText: b.contactText,
    webrtc: isWebSocket(b.transport) || param === 'ws' || param === 'wss',
    expiresAt: b.expiresAt,
  };
  if (reusable) route.flow = b.flow;
  const target = targetOf(b);
  if (target) route.target = target;
  if (b.instance !== undefined) route.instance = b.instance;
  return route;
}
