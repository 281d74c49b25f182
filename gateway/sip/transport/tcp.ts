// Stream transports (TCP, and TLS through ./tls.ts): a listening server plus a pool of connections, inbound
// and outbound, reused per remote address (RFC 3261 §18.1.1 "a client SHOULD reuse an existing connection
// to the same destination"). Each connection is framed by Content-Length (RFC 3261 §18.3). TLS differs only
// in how a socket is dialled/accepted (a Dialer, a server factory); framing and state are shared.
import net from 'node:net';
import type { Logger } from '../../log.js';
import { FramingError, StreamFramer } from '../message/index.js';
import { SipParseError } from '../message/types.js';
import { addressKey, advertisedAddress, normalizeHost } from './addressing.js';
import type { ConnState } from './conn-state.js';
import { ConnectionDeadlines, type DeadlineLimits } from './deadlines.js';
import { ConnectionFlow, newFlowId } from './flow.js';
import type { ConnectionGuard } from './limits.js';
import { TransportError, type Address, type Target } from './types.js';

export type StreamKind = 'tcp' | 'tls';

export interface StreamDeps {
  logger: Logger;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** Caps on inbound connections (./limits.ts) and the deadlines of each (./deadlines.ts). */
  guard: ConnectionGuard;
  deadlines: DeadlineLimits;
  /** One framed message. Must not throw. */
  onMessage(data: Buffer, flow: StreamFlow): void;
  /** The byte stream cannot be framed any more: answer if possible; the connection is closed after. */
  onFramingError(err: SipParseError, flow: StreamFlow): Promise<void>;
  onListenerError(err: unknown): void;
  /** Our advertised address for a connection's local address (Flow.sentBy): the listening point's that
   *  accepted it, or (a connection we dialled, from an ephemeral port) our listening point's for the kind. */
  sentBy(kind: StreamKind, local: Address): Address;
}

/** A dialled socket and the event that says it is ready for SIP ('secureConnect' once TLS is up). */
export interface Dialled {
  socket: net.Socket;
  readyEvent: 'connect' | 'secureConnect';
}

/** Opens a socket toward a target; may reject (e.g. no usable TLS settings) with TransportError. */
export type Dialer = (remote: Address, target: Target) => Promise<Dialled>;

export const tcpDialer: Dialer = (remote) =>
  Promise.resolve({ socket: net.connect({ host: remote.address, port: remote.port }), readyEvent: 'connect' });

export class StreamFlow extends ConnectionFlow {
  constructor(
    readonly socket: net.Socket,
    kind: StreamKind,
    local: Address,
    remote: Address,
    initial: ConnState,
    onListenerError: (err: unknown) => void,
    private readonly advertise: (local: Address) => Address = (local) => ({ ...local }),
  ) {
    super(newFlowId(kind), kind, local, remote, initial, onListenerError);
  }

  /** A dialled connection learns its local address once connected: computed when asked. */
  override get sentBy(): Address {
    return this.advertise(this.local);
  }

  write(data: Buffer): Promise<void> {
    if (!this.alive) return Promise.reject(new TransportError(`${this.id} to ${addressKey(this.remote)} is closed`));
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => {
        if (err) reject(new TransportError(`${this.id} write failed: ${err.message}`));
        else resolve();
      });
    });
  }
}

function socketAddress(address: string | undefined, port: number | undefined): Address {
  return { address: normalizeHost(address ?? ''), port: port ?? 0 };
}

/** Cut a chunk into messages; a framing fault still yields the messages complete before it. */
function frame(framer: StreamFramer, chunk: Buffer, maxBytes: number): { messages: Buffer[]; error?: SipParseError } {
  let messages: Buffer[];
  try {
    messages = framer.push(chunk);
  } catch (err) {
    if (err instanceof FramingError) return { messages: err.frames, error: err };
    const error = err instanceof SipParseError ? err : new SipParseError(String(err));
    return { messages: [], error };
  }
  // RFC 3261 §21.5.11 513 Message Too Large: nothing to answer from yet, the connection is closed.
  if (framer.buffered > maxBytes) return { messages, error: new SipParseError(`Message larger than ${maxBytes} bytes`, undefined, 513) };
  return { messages };
}

/** An IP as compared for a ban: no brackets, lower case, no IPv4-mapped prefix (security/guard.ts sourceIp). */
export function ipKey(address: string): string {
  return normalizeHost(address).toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** Only CR and LF: a keep-alive. RFC 5626 §3.5.1: "The client periodically sends a double-CRLF (the "ping")
 *  then waits to receive a single CRLF (the "pong")." */
export function isCrlfOnly(chunk: Buffer): boolean {
  return chunk.length > 0 && chunk.every((b) => b === 0x0d || b === 0x0a);
}

/** Framing, idle timeout and close handling for one open connection; `deadlines` for inbound ones. */
function wireConnection(flow: StreamFlow, deps: StreamDeps, deadlines?: ConnectionDeadlines): void {
  const { socket } = flow;
  const framer = new StreamFramer();
  let broken = false;
  // RFC 3261 §18.1.1 leaves connection lifetime to the implementation: close after idleTimeoutMs quiet.
  socket.setTimeout(deps.idleTimeoutMs, () => {
    deps.logger.debug({ flow: flow.id }, `${flow.transport} connection idle, closing`);
    socket.destroy();
  });
  socket.on('data', (chunk: Buffer) => {
    if (broken) return;
    const keepAlive = framer.buffered === 0 && isCrlfOnly(chunk);
    const { messages, error } = frame(framer, chunk, deps.maxMessageBytes);
    if (keepAlive && chunk.length >= 4) socket.write('\r\n');
    deadlines?.progress(messages.length + (keepAlive ? 1 : 0), framer.buffered > 0);
    for (const message of messages) deps.onMessage(message, flow);
    if (!error) return;
    broken = true;
    // The byte stream cannot be resynchronised: answer if possible, then close (RFC 3261 §18.3).
    deps.onFramingError(error, flow)
      .catch((err: unknown) => deps.logger.debug({ flow: flow.id, err: String(err) }, 'framing error answer failed'))
      .finally(() => socket.end());
  });
}

export class StreamConnections {
  private readonly pool = new Map<string, StreamFlow>();
  private readonly pending = new Map<string, Promise<StreamFlow>>();
  private readonly all = new Set<StreamFlow>();
  private readonly sentBy = (local: Address): Address => this.deps.sentBy(this.kind, local);

  constructor(
    readonly kind: StreamKind,
    private readonly deps: StreamDeps,
    private readonly dialer: Dialer = tcpDialer,
  ) {}

  /** Admission of a just-accepted socket (for TLS: before the handshake) against the caps and the
   *  descriptor reserve: over them it is reset at once (false); admitted, its count is released on close. */
  admit(socket: net.Socket): boolean {
    const verdict = this.deps.guard.admit(socket.remoteAddress ?? '', this.kind);
    if (typeof verdict === 'string') {
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
      return false;
    }
    socket.once('close', verdict);
    return true;
  }

  /** An accepted inbound connection (for TLS: once the handshake completed). */
  adopt(socket: net.Socket): StreamFlow {
    const local = socketAddress(socket.localAddress, socket.localPort);
    const remote = socketAddress(socket.remoteAddress, socket.remotePort);
    const flow = new StreamFlow(socket, this.kind, local, remote, 'open', this.deps.onListenerError, this.sentBy);
    this.track(flow);
    const deadlines = new ConnectionDeadlines(this.deps.deadlines, () => flow.bound, (reason) => {
      this.deps.logger.debug({ flow: flow.id, remote, reason }, `${this.kind} connection deadline passed, closing`);
      socket.destroy();
    });
    socket.once('close', () => deadlines.stop());
    wireConnection(flow, this.deps, deadlines);
    this.deps.logger.debug({ flow: flow.id, remote }, `${this.kind} connection accepted`);
    return flow;
  }

  /** An open connection to the target: reused if one exists, else dialled. Rejects with TransportError. */
  connect(target: Target): Promise<StreamFlow> {
    const key = addressKey(target);
    const open = this.pool.get(key);
    if (open?.alive) return Promise.resolve(open);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const dialing = this.dial(target).finally(() => this.pending.delete(key));
    this.pending.set(key, dialing);
    return dialing;
  }

  private async dial(target: Target): Promise<StreamFlow> {
    const remote = { address: normalizeHost(target.address), port: target.port };
    const { socket, readyEvent } = await this.dialer(remote, target);
    // Only microtasks separate the socket's creation from here, so no event can have been missed; a socket
    // destroyed already (a synchronous failure) is reported rather than waited on.
    if (socket.destroyed) throw new TransportError(`${this.kind} connect to ${addressKey(remote)} failed: socket closed at once`);
    const flow = new StreamFlow(socket, this.kind, { address: '', port: 0 }, remote, 'connecting', this.deps.onListenerError, this.sentBy);
    this.track(flow);
    return new Promise((resolve, reject) => {
      // The timeout covers the TLS handshake too: a peer that accepts but never answers is given up.
      const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), this.deps.connectTimeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new TransportError(`${this.kind} connect to ${addressKey(remote)} failed: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        Object.assign(flow.local, socketAddress(socket.localAddress, socket.localPort));
        flow.markOpen();
        wireConnection(flow, this.deps);
        this.deps.logger.debug({ flow: flow.id, remote }, `${this.kind} connection opened`);
        resolve(flow);
      });
    });
  }

  private track(flow: StreamFlow): void {
    const key = addressKey(flow.remote);
    this.all.add(flow);
    this.pool.set(key, flow);
    flow.socket.on('error', (err) => this.deps.logger.debug({ flow: flow.id, err: err.message }, `${this.kind} socket error`));
    flow.socket.on('close', () => {
      this.all.delete(flow);
      if (this.pool.get(key) === flow) this.pool.delete(key);
      flow.markClosed();
      this.deps.logger.debug({ flow: flow.id }, `${this.kind} connection closed`);
    });
  }

  closeAll(): void {
    for (const flow of this.all) flow.socket.destroy();
  }

  /** Closes every connection with this remote IP (a banned source); returns how many. */
  closeFrom(ip: string): number {
    const from = [...this.all].filter((flow) => ipKey(flow.remote.address) === ipKey(ip));
    for (const flow of from) flow.socket.destroy();
    return from.length;
  }
}

/** A TCP or TLS server whose accepted sockets join a StreamConnections pool. */
export class StreamListener {
  private constructor(
    private readonly server: net.Server,
    readonly kind: StreamKind,
    readonly local: Address,
    /** What Via sent-by and Contact name for this point (ListenSpec.advertise over `local`). */
    readonly sentBy: Address,
  ) {}

  /** Listen with a plain TCP server (the default) or the given one (a tls.Server, see ./tls.ts). */
  static listen(
    address: string,
    port: number,
    connections: StreamConnections,
    logger: Logger,
    given?: net.Server,
    advertise?: Partial<Address>,
  ): Promise<StreamListener> {
    const kind = connections.kind;
    const server =
      given ??
      net.createServer((socket) => {
        if (connections.admit(socket)) connections.adopt(socket);
      });
    server.on('error', (err) => logger.warn({ err }, `${kind} server error`));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new TransportError(`cannot listen ${kind} ${address}:${port}: ${err.message}`));
      server.once('error', onError);
      server.listen(port, normalizeHost(address), () => {
        server.off('error', onError);
        const { address: host, port: boundPort } = server.address() as net.AddressInfo;
        const bound = { address: host, port: boundPort };
        resolve(new StreamListener(server, kind, bound, advertisedAddress(bound, advertise)));
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
