// createTransport(): UDP sockets, TCP/TLS listeners + connection pools and the WebSocket endpoint behind one
// SipTransport (RFC 3261 §18, RFC 3261 §26.2 for TLS, RFC 7118, RFC 3581).
import { isIP } from 'node:net';
import type tls from 'node:tls';
import type { Logger } from '../../log.js';
import { getTopVia, serializeMessage } from '../message/index.js';
import type { SipMessage, SipResponse } from '../message/types.js';
import { isOwnSentBy, normalizeHost, selectResponseDestination } from './addressing.js';
import { encodeWithin, responseBudget } from './budget.js';
import { BaseFlow } from './flow.js';
import { receive, rejectMalformed, type InboundDeps } from './inbound.js';
import { ConnectionGuard, FdBudget, LIMIT_DEFAULTS } from './limits.js';
import { DEFAULTS, type ListenSpec, type TransportOptions } from './options.js';
import { summarize } from './summary.js';
import { StreamConnections, StreamListener, type StreamDeps } from './tcp.js';
import { createTlsServer, tlsDialer, type TlsServerCredentials } from './tls.js';
import {
  TransportError,
  type Address,
  type Flow,
  type OnWritten,
  type SipTransport,
  type Target,
  type TransportKind,
  type WireCopy,
} from './types.js';
import { UdpFlow, UdpListener } from './udp.js';
import { WsEndpoint } from './ws.js';

type Handler = (message: SipMessage, flow: Flow) => void;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class GatewayTransport implements SipTransport {
  private readonly handlers: Handler[] = [];
  private readonly udp: UdpListener[] = [];
  private readonly tcp: StreamListener[] = [];
  private readonly tls: StreamListener[] = [];
  /** The TLS listening points' servers, for setTlsCredentials (a renewed certificate). */
  private readonly tlsServers: tls.Server[] = [];
  private readonly connections: StreamConnections;
  private readonly tlsConnections: StreamConnections;
  private ws: WsEndpoint | undefined;
  private readonly guard: ConnectionGuard;
  private readonly inbound: InboundDeps;
  private readonly logger: Logger;
  private closed = false;
  /** UDP responses not sent because even compact they were bigger than their request (./budget.ts). */
  private oversizeDropped = 0;

  constructor(private readonly options: TransportOptions) {
    this.logger = options.logger;
    this.inbound = {
      logger: this.logger,
      deliver: (message, flow) => this.deliver(message, flow),
      respond: (response, flow) => this.sendResponse(response, flow),
      isOwnSentBy: (via) => isOwnSentBy(via, this.points()),
      admit: options.admit,
      screenRaw: options.screenRaw,
      screen: options.screen,
    };
    const limits = { ...LIMIT_DEFAULTS, ...options.limits };
    this.guard = new ConnectionGuard(limits, options.exempt ?? (() => false), FdBudget.fromSystem(limits.fdReserve), this.logger);
    this.connections = new StreamConnections('tcp', this.streamDeps());
    this.tlsConnections = new StreamConnections('tls', this.streamDeps(), tlsDialer(options.tlsClient ?? {}));
  }

  /** Every listening point's bound and advertised address. */
  private points(): Array<{ bound: Address; sentBy: Address }> {
    const points = [...this.udp, ...this.tcp, ...this.tls].map((l) => ({ bound: l.local, sentBy: l.sentBy }));
    const wsBound = this.ws?.boundAddress();
    const wsSentBy = this.ws?.localAddress();
    return wsBound && wsSentBy ? [...points, { bound: wsBound, sentBy: wsSentBy }] : points;
  }

  /** Flow.sentBy of a TCP/TLS connection: the advertised address of the listening point that accepted it
   *  (same address and port, else same port: a wildcard bind), else (a connection we dialled, from an
   *  ephemeral port) of our first point for that kind. */
  private streamSentBy(kind: 'tcp' | 'tls', local: Address): Address {
    const listeners = kind === 'tcp' ? this.tcp : this.tls;
    const samePort = listeners.filter((l) => l.local.port === local.port);
    const accepting = samePort.find((l) => normalizeHost(l.local.address) === normalizeHost(local.address)) ?? samePort[0];
    return { ...(accepting?.sentBy ?? this.localAddress(kind) ?? local) };
  }

  private streamDeps(): StreamDeps {
    const o = this.options;
    return {
      logger: this.logger,
      maxMessageBytes: o.maxMessageBytes ?? DEFAULTS.maxMessageBytes,
      idleTimeoutMs: o.tcpIdleTimeoutMs ?? DEFAULTS.tcpIdleTimeoutMs,
      connectTimeoutMs: o.tcpConnectTimeoutMs ?? DEFAULTS.tcpConnectTimeoutMs,
      guard: this.guard,
      deadlines: this.guard.limits,
      onMessage: (data, flow) => receive(data, flow, this.inbound),
      // A banned source gets nothing, not even the 400 for a stream it broke (like receive()).
      onFramingError: (err, flow) => (this.inbound.admit?.(flow) === false ? Promise.resolve() : rejectMalformed(err, flow, this.inbound)),
      onListenerError: (err) => this.logger.warn({ err }, 'flow close listener threw'),
      sentBy: (kind, local) => this.streamSentBy(kind, local),
    };
  }

  async start(): Promise<void> {
    const maxMessageBytes = this.options.maxMessageBytes ?? DEFAULTS.maxMessageBytes;
    for (const spec of this.options.listen) {
      if (spec.transport === 'udp') {
        const onDatagram = (data: Buffer, flow: UdpFlow): void => receive(data, flow, this.inbound);
        this.udp.push(await UdpListener.bind(spec.address, spec.port, { logger: this.logger, maxMessageBytes, receiveBufferBytes: this.options.udpReceiveBuffer, onDatagram }, spec.advertise));
      } else if (spec.transport === 'tcp') {
        this.tcp.push(await StreamListener.listen(spec.address, spec.port, this.connections, this.logger, undefined, spec.advertise));
      } else {
        this.tls.push(await this.listenTls(spec.address, spec.port, spec.advertise));
      }
    }
    if (this.options.ws) {
      this.ws = new WsEndpoint(this.options.ws, {
        logger: this.logger,
        maxMessageBytes,
        pingIntervalMs: this.options.wsPingIntervalMs ?? DEFAULTS.wsPingIntervalMs,
        guard: this.guard,
        onMessage: (data, flow) => receive(data, flow, this.inbound),
        onListenerError: (err) => this.logger.warn({ err }, 'flow close listener threw'),
      });
    }
  }

  /** RFC 3261 §26.3.1: a TLS listening point presents its certificate (TransportOptions.tlsServer). */
  private listenTls(address: string, port: number, advertise: ListenSpec['advertise']): Promise<StreamListener> {
    const credentials = this.options.tlsServer;
    if (!credentials) throw new TransportError(`cannot listen tls ${address}:${port}: no certificate (tlsServer) given`);
    let server;
    try {
      server = createTlsServer(credentials, this.tlsConnections, this.logger, this.guard.limits.tlsHandshakeMs);
      this.tlsServers.push(server);
    } catch (err) {
      throw new TransportError(`cannot listen tls ${address}:${port}: ${errorText(err)}`);
    }
    return StreamListener.listen(address, port, this.tlsConnections, this.logger, server, advertise);
  }

  onMessage(handler: Handler): void {
    this.handlers.push(handler);
  }

  private deliver(message: SipMessage, flow: Flow): void {
    for (const handler of this.handlers) {
      try {
        handler(message, flow);
      } catch (err) {
        this.logger.error({ err, flow: flow.id }, 'transport message handler threw');
      }
    }
  }

  async send(message: SipMessage, dest: Flow | Target, onWritten?: OnWritten): Promise<Flow> {
    if (this.closed) throw new TransportError('transport closed');
    const data = encode(() => serializeMessage(message));
    const flow = 'id' in dest ? this.ownFlow(dest) : await this.flowFor(dest);
    return this.write(data, flow, message, onWritten);
  }

  private async write(data: Buffer, flow: BaseFlow, message: SipMessage, onWritten?: OnWritten): Promise<Flow> {
    onWritten?.({ data, flow });
    await flow.write(data);
    // The summary only when the line is written: at info it would cost two header scans per message.
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ flow: flow.id, remote: flow.remote, ...summarize(message) }, 'sip out');
    return flow;
  }

  /** SipTransport.resend: the bytes as they went, on the flow they went on (no new serialization). */
  async resend(copy: WireCopy): Promise<void> {
    if (this.closed) throw new TransportError('transport closed');
    const flow = this.ownFlow(copy.flow);
    await flow.write(copy.data);
    this.logger.debug({ flow: flow.id, remote: flow.remote, bytes: copy.data.length }, 'sip out again');
  }

  private ownFlow(flow: Flow): BaseFlow {
    if (flow instanceof BaseFlow) return flow;
    throw new TransportError(`flow ${flow.id} does not belong to this transport`);
  }

  /** RFC 3261 §18.1.1: a UDP socket of ours, or a reused/new TCP or TLS connection. */
  private async flowFor(target: Target): Promise<BaseFlow> {
    switch (target.transport) {
      case 'udp':
        return this.udpListenerFor(target.address).flowTo(target);
      case 'tcp':
        return this.connections.connect(target);
      case 'tls':
        if (!this.options.tlsClient && this.tls.length === 0) throw new TransportError('TLS not configured');
        return this.tlsConnections.connect(target);
      case 'ws':
      case 'wss':
        throw new TransportError('cannot open a WebSocket toward a target: send on the flow the peer opened');
    }
  }

  /** The first UDP listener of the target's address family (any if none matches). */
  private udpListenerFor(address: string): UdpListener {
    const listener = this.udpOf(address);
    if (!listener) throw new TransportError('not listening on udp');
    return listener;
  }

  private udpOf(address: string | undefined): UdpListener | undefined {
    if (address === undefined) return this.udp[0];
    const family = isIP(normalizeHost(address)) === 6 ? 6 : 4;
    return this.udp.find((l) => l.family === family) ?? this.udp[0];
  }

  async sendResponse(response: SipResponse, flow: Flow, onWritten?: OnWritten): Promise<void> {
    let via;
    try {
      via = getTopVia(response);
    } catch (err) {
      throw new TransportError(`response has no usable Via: ${errorText(err)}`);
    }
    if (!via) throw new TransportError('response has no Via');
    const dest = selectResponseDestination(via, flow, this.options.responseRouting ?? 'strict');
    if (dest.kind === 'flow') {
      await (flow instanceof UdpFlow ? this.sendUdpResponse(response, flow, onWritten) : this.send(response, flow, onWritten));
    } else if (dest.kind === 'drop') {
      this.logger.debug({ flow: flow.id, remote: flow.remote, ...summarize(response), reason: dest.reason }, 'response dropped');
    } else if (dest.kind === 'none') {
      throw new TransportError(dest.reason);
    } else if (flow instanceof UdpFlow) {
      // Answer from the very socket the request reached (its address is our Via sent-by).
      await this.sendUdpResponse(response, flow.listener.flowTo(dest), onWritten);
    } else {
      await this.send(response, { transport: dest.transport, address: dest.address, port: dest.port }, onWritten);
    }
  }

  /** Over UDP an answer is bounded by its request's size (./budget.ts; trunk addresses exempt). */
  private async sendUdpResponse(response: SipResponse, flow: UdpFlow, onWritten?: OnWritten): Promise<void> {
    if (this.closed) throw new TransportError('transport closed');
    const budget = this.options.exempt?.(flow.remote.address) ? undefined : responseBudget(response);
    const data = encode(() => encodeWithin(response, budget));
    if (data) {
      await this.write(data, flow, response, onWritten);
      return;
    }
    this.oversizeDropped += 1;
    const log = { flow: flow.id, remote: flow.remote, ...summarize(response), budget, dropped: this.oversizeDropped };
    this.logger.debug(log, 'response dropped: bigger than its request');
  }

  localAddress(kind: TransportKind, toward?: string): Address | undefined {
    const pick = (l: { sentBy: Address } | undefined): Address | undefined => (l ? { ...l.sentBy } : undefined);
    switch (kind) {
      case 'udp':
        return pick(this.udpOf(toward));
      case 'tcp':
        return pick(this.tcp[0]);
      case 'ws':
      case 'wss':
        return this.ws && (this.options.ws?.secure ? 'wss' : 'ws') === kind ? this.ws.localAddress() : undefined;
      case 'tls':
        return pick(this.tls[0]) ?? this.tlsClientSentBy();
    }
  }

  /** Outbound-only TLS (no 'tls' listening point): Via/Contact name our TCP address. Responses and requests
   *  the peer sends on the connection we opened arrive fine (RFC 3261 §18.2.2); a peer that opens a new
   *  connection to that Contact cannot reach us — a 'tls' listening point fixes that. */
  private tlsClientSentBy(): Address | undefined {
    if (!this.options.tlsClient) return undefined;
    const fallback = this.tcp[0] ?? this.udp[0];
    return fallback ? { ...fallback.sentBy } : undefined;
  }

  setTlsCredentials(credentials: TlsServerCredentials): void {
    // Node: setSecureContext replaces the context of every later handshake; open connections keep theirs.
    for (const server of this.tlsServers) server.setSecureContext({ cert: credentials.cert, key: credentials.key, minVersion: 'TLSv1.2' });
  }

  closeConnectionsFrom(ip: string): number {
    return this.connections.closeFrom(ip) + this.tlsConnections.closeFrom(ip) + (this.ws?.closeFrom(ip) ?? 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connections.closeAll();
    this.tlsConnections.closeAll();
    await Promise.all([
      ...this.udp.map((l) => l.close()),
      ...this.tcp.map((l) => l.close()),
      ...this.tls.map((l) => l.close()),
      this.ws?.close(),
    ]);
  }
}

function encode<T>(serialize: () => T): T {
  try {
    return serialize();
  } catch (err) {
    throw new TransportError(`cannot serialize message: ${errorText(err)}`);
  }
}

/** Bind every listening point (and attach to the HTTP server for WS). On failure nothing stays open. */
export async function createTransport(options: TransportOptions): Promise<SipTransport> {
  const transport = new GatewayTransport(options);
  try {
    await transport.start();
  } catch (err) {
    await transport.close();
    throw err;
  }
  return transport;
}
