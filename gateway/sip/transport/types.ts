// Transport layer contract (RFC 3261 §18, RFC 7118 for WebSocket, RFC 3581 for rport).
import type { SipMessage, SipResponse } from '../message/types.js';

export type TransportKind = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export interface Address {
  address: string;
  port: number;
}

/** Client settings for a TLS target (RFC 3261 §26.2.1, RFC 5922 §7.2). All optional: by default the server
 *  certificate is verified against the system CAs and must match the target address. */
export interface TlsTargetOptions {
  /** The URI's host name: sent as SNI and the name the server certificate must match. */
  servername?: string;
  /** PEM CA certificate(s) trusted instead of the system CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** false: accept any server certificate (test setups only). Default true. */
  verify?: boolean;
}

/** Where to send a new request when no flow exists yet (resolved from a URI by the caller). */
export interface Target extends Address {
  transport: TransportKind;
  /** Only for transport 'tls'. Without it, the transport's configured TLS peers (matched by host and port)
   *  or the defaults apply. */
  tls?: TlsTargetOptions;
}

/** A path to one peer: a TCP/TLS/WS connection, or (UDP) the local socket plus the remote address.
 *  Requests toward a browser go back over the very flow its REGISTER/INVITE came on (RFC 7118 §5, RFC 5626). */
export interface Flow {
  readonly id: string;
  readonly transport: TransportKind;
  readonly local: Address;
  readonly remote: Address;
  /** Our address as peers reach it on this flow: what Via sent-by and Contact carry for messages sent on
   *  it (the listening point's advertised address; `local` may be a private or wildcard address). */
  readonly sentBy: Address;
  /** Stream transports are reliable: no retransmission timers A/E/G (RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
  /** false once the connection closed (always true for UDP). */
  readonly alive: boolean;
  /** Subscribe to the flow closing (never fires for UDP). Returns an unsubscribe function. */
  onClose(listener: () => void): () => void;
}

/** Raised for send failures; the transaction layer maps it to 503 (RFC 3261 §8.1.3.1). */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Bytes a send()/sendResponse() wrote, and the flow it wrote them on: what a transaction keeps to
 *  retransmit (RFC 3261 §17: a retransmission is the same message) instead of the parsed message. */
export interface WireCopy {
  readonly data: Buffer;
  readonly flow: Flow;
}

/** Told the bytes and flow of a message as it is written (before the write completes). */
export type OnWritten = (copy: WireCopy) => void;

export interface SipTransport {
  /** Send a request (or an ACK/CANCEL) on an existing flow, or to a target (UDP socket, or a reused/new
   *  TCP/TLS connection). Resolves with the flow used; rejects with TransportError (a failed TLS handshake,
   *  e.g. an untrusted server certificate, included). `onWritten` hears the bytes written (for resend()). */
  send(message: SipMessage, dest: Flow | Target, onWritten?: OnWritten): Promise<Flow>;
  /** RFC 3261 §18.2.2: on the flow the request came in on when reliable and alive; over UDP to the top
   *  Via's received/rport (RFC 3581) or sent-by. With TransportOptions.responseRouting 'strict' (default)
   *  a closed TCP/TLS connection's response is dropped (resolves, logged at debug) and a Via maddr other
   *  than the source is ignored (addressing.ts selectResponseDestination). */
  sendResponse(response: SipResponse, flow: Flow, onWritten?: OnWritten): Promise<void>;
  /** Write bytes an onWritten reported once more, as they are, on the same flow (a transaction's
   *  retransmission). Optional: a transport without it gets the message again through send()/sendResponse()
   *  (the transaction then keeps the message). Rejects with TransportError (transport or flow closed). */
  resend?(copy: WireCopy): Promise<void>;
  /** Every well-formed inbound message. Requests already carry received/rport on the top Via. Malformed
   *  requests never reach here: the transport answers them 400 with a reason naming the fault (or drops
   *  them when no response can be built). */
  onMessage(handler: (message: SipMessage, flow: Flow) => void): void;
  /** The address to put in Via sent-by / Contact for a given transport kind: the advertised address
   *  (ListenSpec.advertise over the bound one) of the point send() uses toward `toward` (for UDP the first
   *  socket of that address family), else of the first point of the kind; undefined if not listening. */
  localAddress(kind: TransportKind, toward?: string): Address | undefined;
  /** Closes every inbound or outbound TCP/TLS/WS connection whose remote IP is `ip` (a source just banned:
   *  its open connections must not outlive the ban's first packet); returns how many. */
  closeConnectionsFrom?(ip: string): number;
  /** A new certificate and key (PEM) for the TLS listening points' next handshakes (a reload). */
  setTlsCredentials?(credentials: { cert: string | Buffer; key: string | Buffer }): void;
  close(): Promise<void>;
}
