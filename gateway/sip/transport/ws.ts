// SIP over WebSocket (RFC 7118): upgrades on one path of the given HTTP(S) server, subprotocol "sip"
// only; each WebSocket message carries exactly one SIP message (RFC 7118 §5.2).
import { isUtf8 } from 'node:buffer';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from '../../log.js';
import { advertisedAddress, normalizeHost } from './addressing.js';
import { ConnectionFlow, newFlowId } from './flow.js';
import type { WsListenSpec } from './options.js';
import { TransportError, type Address } from './types.js';

export const SIP_SUBPROTOCOL = 'sip';

export interface WsDeps {
  logger: Logger;
  maxMessageBytes: number;
  pingIntervalMs: number;
  /** One received SIP message. Must not throw. */
  onMessage(data: Buffer, flow: WsFlow): void;
  onListenerError(err: unknown): void;
}

export class WsFlow extends ConnectionFlow {
  /** Keep-alive bookkeeping: set by every pong, cleared by every ping. */
  pongSeen = true;

  constructor(
    readonly socket: WebSocket,
    kind: 'ws' | 'wss',
    local: Address,
    remote: Address,
    onListenerError: (err: unknown) => void,
    private readonly advertised: Address = local,
  ) {
    super(newFlowId(kind), kind, local, remote, 'open', onListenerError);
  }

  override get sentBy(): Address {
    return { ...this.advertised };
  }

  write(data: Buffer): Promise<void> {
    if (!this.alive || this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new TransportError(`${this.id} is closed`));
    }
    // RFC 7118 §5.2: a text frame when the message is valid UTF-8, else a binary frame.
    return new Promise((resolve, reject) => {
      this.socket.send(data, { binary: !isUtf8(data) }, (err) => {
        if (err) reject(new TransportError(`${this.id} write failed: ${err.message}`));
        else resolve();
      });
    });
  }
}

/** The tokens of a Sec-WebSocket-Protocol request header. */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function refuse(socket: Duplex, status: 400 | 404, text: string): void {
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class WsEndpoint {
  private readonly wss: WebSocketServer;
  private readonly flows = new Set<WsFlow>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly kind: 'ws' | 'wss';
  private readonly upgradeListener = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.onUpgrade(req, socket, head);

  constructor(
    private readonly spec: WsListenSpec,
    private readonly deps: WsDeps,
  ) {
    this.kind = spec.secure ? 'wss' : 'ws';
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.maxMessageBytes,
      handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
    });
    spec.server.on('upgrade', this.upgradeListener);
    this.pingTimer = setInterval(() => this.keepAlive(), deps.pingIntervalMs);
    this.pingTimer.unref();
  }

  /** The HTTP server's bound address (undefined until it listens). */
  boundAddress(): Address | undefined {
    const a = this.spec.server.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  /** The advertised address (WsListenSpec.advertise over the bound one; undefined until it listens). */
  localAddress(): Address | undefined {
    const bound = this.boundAddress();
    return bound && advertisedAddress(bound, this.spec.advertise);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      pathname = '';
    }
    if (pathname !== this.spec.path) {
      // Another 'upgrade' listener may own that path; when we are the only one, nobody else will answer.
      if (this.spec.server.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
      return;
    }
    // RFC 7118 §4.1: the client MUST offer the "sip" subprotocol; anything else is refused.
    if (!offeredSubprotocols(req.headers['sec-websocket-protocol']).includes(SIP_SUBPROTOCOL)) {
      this.deps.logger.debug({ url: req.url }, 'ws upgrade without subprotocol sip refused');
      refuse(socket, 400, 'Bad Request');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: http.IncomingMessage): void {
    const local = { address: normalizeHost(req.socket.localAddress ?? ''), port: req.socket.localPort ?? 0 };
    const remote = { address: normalizeHost(req.socket.remoteAddress ?? ''), port: req.socket.remotePort ?? 0 };
    const flow = new WsFlow(ws, this.kind, local, remote, this.deps.onListenerError, advertisedAddress(local, this.spec.advertise));
    this.flows.add(flow);
    this.deps.logger.debug({ flow: flow.id, remote }, 'ws connection accepted');
    ws.on('pong', () => {
      flow.pongSeen = true;
    });
    ws.on('message', (data) => this.deps.onMessage(toBuffer(data), flow));
    ws.on('error', (err) => this.deps.logger.debug({ flow: flow.id, err: err.message }, 'ws error'));
    ws.on('close', () => {
      this.flows.delete(flow);
      flow.markClosed();
      this.deps.logger.debug({ flow: flow.id }, 'ws connection closed');
    });
  }

  /** Ping every socket; one that has not answered the previous ping is dead (RFC 6455 §5.5.2). */
  private keepAlive(): void {
    for (const flow of this.flows) {
      if (!flow.pongSeen) {
        this.deps.logger.debug({ flow: flow.id }, 'ws keep-alive missed, terminating');
        flow.socket.terminate();
        continue;
      }
      flow.pongSeen = false;
      try {
        flow.socket.ping();
      } catch (err) {
        this.deps.logger.debug({ flow: flow.id, err: (err as Error).message }, 'ws ping failed');
      }
    }
  }

  close(): Promise<void> {
    clearInterval(this.pingTimer);
    this.spec.server.off('upgrade', this.upgradeListener);
    for (const flow of this.flows) flow.socket.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
