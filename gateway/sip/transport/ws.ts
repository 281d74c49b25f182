// SIP over WebSocket (RFC 7118): upgrades on one path of the given HTTP(S) server, subprotocol "sip"
// only; each WebSocket message carries exactly one SIP message (RFC 7118 §5.2).
import { isUtf8 } from 'node:buffer';
import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from '../../log.js';
import { TokenBucket } from '../../lib/token-bucket.js';
import { advertisedAddress, normalizeHost } from './addressing.js';
import { ConnectionDeadlines } from './deadlines.js';
import { ConnectionFlow, newFlowId } from './flow.js';
import type { ConnectionGuard } from './limits.js';
import { ipKey, isCrlfOnly } from './tcp.js';
import type { WsListenSpec } from './options.js';
import { TransportError, type Address } from './types.js';

export const SIP_SUBPROTOCOL = 'sip';

export interface WsDeps {
  logger: Logger;
  maxMessageBytes: number;
  pingIntervalMs: number;
  /** Caps on connections, their deadlines and the per-address message rate (./limits.ts). */
  guard: ConnectionGuard;
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

function refuse(socket: Duplex, status: 400 | 403 | 404 | 503, text: string, extra = ''): void {
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Is an upgrade's Origin allowed? RFC 6455 §10.2: "If the origin indicated is unacceptable to the server,
 *  then it SHOULD respond to the WebSocket handshake with a reply containing HTTP 403 Forbidden status code."
 *  Absent: allowed (§4.1: the request MUST include Origin "if the request is coming from a browser client"),
 *  else it must equal one of `allowed` (compared as serialised origins) or `allowed` holds "*". */
export function originAllowed(origin: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (origin === undefined || allowed === undefined || allowed.includes('*')) return true;
  const wanted = new Set(allowed.map(serialisedOrigin));
  return wanted.has(serialisedOrigin(origin));
}

function serialisedOrigin(text: string): string {
  try {
    return new URL(text).origin.toLowerCase();
  } catch {
    return text.toLowerCase();
  }
}

/** One token bucket per source address, shared by its sockets and dropped with the last of them. */
class AddressRates {
  private readonly buckets = new Map<string, { bucket: TokenBucket; sockets: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Returns the address's bucket and the function to call when the socket closes. */
  join(ip: string): { bucket: TokenBucket; leave: () => void } {
    const entry = this.buckets.get(ip) ?? { bucket: new TokenBucket(this.perSecond, this.burst), sockets: 0 };
    entry.sockets++;
    this.buckets.set(ip, entry);
    const leave = (): void => {
      if (--entry.sockets === 0) this.buckets.delete(ip);
    };
    return { bucket: entry.bucket, leave };
  }
}

export class WsEndpoint {
  private readonly wss: WebSocketServer;
  private readonly flows = new Set<WsFlow>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly kind: 'ws' | 'wss';
  private readonly rates: AddressRates;
  private readonly upgradeListener = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.onUpgrade(req, socket, head);
  /** The descriptor reserve holds for the web server's connections too (before any HTTP or TLS work). */
  private readonly connectionListener = (socket: net.Socket): void => {
    if (this.deps.guard.descriptorsAvailable()) return;
    socket.on('error', () => undefined);
    socket.resetAndDestroy();
  };

  constructor(
    private readonly spec: WsListenSpec,
    private readonly deps: WsDeps,
  ) {
    this.kind = spec.secure ? 'wss' : 'ws';
    this.rates = new AddressRates(deps.guard.limits.wsMessagesPerSecond, deps.guard.limits.wsBurst);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.maxMessageBytes,
      handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
    });
    spec.server.on('upgrade', this.upgradeListener);
    spec.server.prependListener('connection', this.connectionListener);
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
    if (!originAllowed(req.headers.origin, this.spec.allowedOrigins)) {
      this.deps.logger.warn({ origin: req.headers.origin, source: req.socket.remoteAddress }, `ws upgrade refused: origin=${req.headers.origin} not allowed`);
      refuse(socket, 403, 'Forbidden');
      return;
    }
    const verdict = this.deps.guard.admit(req.socket.remoteAddress ?? '', this.kind);
    if (typeof verdict === 'string') {
      refuse(socket, 503, 'Service Unavailable', 'Retry-After: 60\r\n');
      return;
    }
    socket.once('close', verdict);
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
    const onMessage = this.guarded(flow, req.socket);
    ws.on('message', (data) => onMessage(toBuffer(data)));
    ws.on('error', (err) => this.deps.logger.debug({ flow: flow.id, err: err.message }, 'ws error'));
    ws.on('close', () => {
      this.flows.delete(flow);
      flow.markClosed();
      this.deps.logger.debug({ flow: flow.id }, 'ws connection closed');
    });
  }

  /** The message handler of one socket: the per-address rate (over it: close 1008, RFC 6455 §7.4.1: "an
   *  endpoint is terminating the connection because it has received a message that violates its policy"), the deadlines (first message, idle when nothing is bound; ./deadlines.ts) and CRLF
   *  keep-alives (sip.js sends "\r\n\r\n"; answered "\r\n" as RFC 5626 §3.5.1 does on TCP). */
  private guarded(flow: WsFlow, raw: Duplex): (data: Buffer) => void {
    const { limits } = this.deps.guard;
    const ws = flow.socket;
    const rate = limits.wsMessagesPerSecond > 0 ? this.rates.join(flow.remote.address) : undefined;
    const deadlines = new ConnectionDeadlines(limits, () => flow.bound, (reason) => {
      this.deps.logger.debug({ flow: flow.id, remote: flow.remote, reason }, 'ws deadline passed, closing');
      ws.terminate();
    });
    this.watchFrames(ws, raw, deadlines);
    ws.once('close', () => {
      deadlines.stop();
      rate?.leave();
    });
    return (data) => {
      if (rate && !rate.bucket.take()) {
        if (ws.readyState !== WebSocket.OPEN) return;
        const source = flow.remote.address;
        this.deps.logger.warn({ flow: flow.id, source }, `ws message rate exceeded: source=${source} limit=${limits.wsMessagesPerSecond}/s, closing`);
        ws.close(1008, 'message rate exceeded');
        return;
      }
      deadlines.progress(1, false);
      if (!isCrlfOnly(data)) this.deps.onMessage(data, flow);
      else if (data.length >= 4 && ws.readyState === WebSocket.OPEN) ws.send('\r\n');
    };
  }

  /** Slow-loris over WebSocket: ws parses each chunk synchronously in its own 'data' listener, registered
   *  before ours, so a chunk after which no frame (message, ping, pong) completed leaves one in progress. */
  private watchFrames(ws: WebSocket, raw: Duplex, deadlines: ConnectionDeadlines): void {
    let framed = false;
    const onFrame = (): void => {
      framed = true;
      deadlines.progress(0, false);
    };
    ws.on('message', onFrame);
    ws.on('ping', onFrame);
    ws.on('pong', onFrame);
    raw.on('data', () => {
      if (!framed) deadlines.progress(0, true);
      framed = false;
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

  /** Closes every WebSocket with this remote IP (a banned source; 1008 policy violation); returns how many. */
  closeFrom(ip: string): number {
    const from = [...this.flows].filter((flow) => ipKey(flow.remote.address) === ipKey(ip));
    for (const flow of from) {
      flow.socket.close(1008, 'banned');
      // A source that never answers the close frame is cut off anyway.
      setTimeout(() => flow.socket.terminate(), 1000).unref();
    }
    return from.length;
  }

  close(): Promise<void> {
    clearInterval(this.pingTimer);
    this.spec.server.off('upgrade', this.upgradeListener);
    this.spec.server.off('connection', this.connectionListener);
    for (const flow of this.flows) flow.socket.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
