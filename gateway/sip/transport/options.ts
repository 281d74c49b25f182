// Options for createTransport() (the SipTransport contract itself lives in ./types.ts).
import type http from 'node:http';
import type https from 'node:https';
import type { Logger } from '../../log.js';
import type { ConnectionLimits } from './limits.js';
import type { TlsClientOptions, TlsServerCredentials } from './tls.js';
import type { ResponseRouting } from './addressing.js';
import type { SipMessage } from '../message/types.js';
import type { Address, Flow } from './types.js';

export interface ListenSpec {
  /** 'tls' needs TransportOptions.tlsServer (the certificate the listener presents). */
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  /** 0 picks a free port. */
  port: number;
  /** What Via sent-by and Contact name for this point (localAddress(), Flow.sentBy): the host peers reach
   *  it at, and the port when a NAT maps another one. Absent parts are the bound ones, so a wildcard bind
   *  needs at least the address (the caller resolves it; the transport knows no interfaces). */
  advertise?: Partial<Address>;
}

export interface WsListenSpec {
  /** The HTTP(S) server to attach to; the transport never closes it. */
  server: http.Server | https.Server;
  /** Upgrade path, e.g. '/sip'. */
  path: string;
  /** Flows are 'wss' instead of 'ws' (the HTTPS server terminates TLS). */
  secure?: boolean;
  /** As ListenSpec.advertise, for the HTTP(S) server's address. */
  advertise?: Partial<Address>;
  /** Origins (e.g. "https://phone.example.com") whose pages may open the WebSocket; another Origin gets
   *  403 (Cross-Site WebSocket Hijacking). An upgrade without Origin (not a browser) is allowed; "*"
   *  allows any. Absent: any origin (buildGateway always passes the page's own). */
  allowedOrigins?: readonly string[];
}

export interface TransportOptions {
  listen: ListenSpec[];
  ws?: WsListenSpec;
  /** Certificate and key (PEM) for 'tls' listening points. */
  tlsServer?: TlsServerCredentials;
  /** Enables outbound SIP over TLS (targets with transport 'tls'). Absent: such sends fail. */
  tlsClient?: TlsClientOptions;
  logger: Logger;
  /** Largest accepted message (datagram, framed stream message, WS message). Default 65535. */
  maxMessageBytes?: number;
  /** SO_RCVBUF asked for each UDP socket, bytes: what queues while the event loop is busy before the kernel
   *  drops datagrams. 0: the OS default. Default none (the OS default); buildGateway passes
   *  sip.udpReceiveBuffer. */
  udpReceiveBuffer?: number;
  /** Close a TCP/TLS connection after this long without traffic. Default 10 min. */
  tcpIdleTimeoutMs?: number;
  /** Give up an outbound TCP connect (TLS: connect and handshake) after this long. Default 10 s. */
  tcpConnectTimeoutMs?: number;
  /** WebSocket ping period; a socket that has not answered the previous ping is terminated. Default 30 s. */
  wsPingIntervalMs?: number;
  /** The per-source gate (gateway/security), asked for every inbound message before it is parsed: false
   *  drops it silently (a banned source, or one over its rate). Default: every message is admitted. */
  admit?: (flow: Flow) => boolean;
  /** Asked for every admitted inbound message before it is parsed: false drops it silently, unanswered
   *  (a scanner's request, told by its raw User-Agent line). */
  screenRaw?: (data: Buffer, flow: Flow) => boolean;
  /** Asked for every parsed inbound message: false drops it silently, unanswered (a scanner's request). */
  screen?: (message: SipMessage, flow: Flow) => boolean;
  /** Caps, deadlines and the WS message rate for inbound connections (limits.ts LIMIT_DEFAULTS). */
  limits?: Partial<ConnectionLimits>;
  /** Source IPs exempt from the connection caps (trunks). Default: none. */
  exempt?: (ip: string) => boolean;
  /** How responses are routed (addressing.ts ResponseRouting): 'strict' (default) never reflects a
   *  response to a Via maddr other than the source nor connects back for one; 'rfc3261' does both. */
  responseRouting?: ResponseRouting;
}

export const DEFAULTS = {
  maxMessageBytes: 65535,
  tcpIdleTimeoutMs: 10 * 60_000,
  tcpConnectTimeoutMs: 10_000,
  wsPingIntervalMs: 30_000,
} as const;
