// ICE-TCP passive side of one browser leg (RFC 6544): the leg's TCP listener and the connections
// browsers open to it (their active candidates toward our passive one). Each connection carries
// RFC 4571 frames; every frame goes to the leg's receive path like a UDP datagram. An open TCP port
// must not become a way to tie the gateway up, so:
//  - at most `maxConnections` per leg; a new one beyond that evicts the oldest connection that has
//    not yet sent a valid check, or is refused when all are checked;
//  - a connection must send a STUN check that authenticates within `checkTimeoutMs`, and may send
//    nothing but STUN until then (anything else is garbage: closed);
//  - frames larger than `maxFrame` close the connection (RFC 4571 LENGTH is read before any data);
//  - sending never queues more than `maxQueuedBytes`: media beyond that is dropped, as a full UDP
//    socket buffer would drop it.
import type net from 'node:net';
import { classify } from '../rtp/index.js';
import { Deframer, FramingError, frame } from '../tcp/framing.js';
import { closeTcpServer } from '../tcp/server.js';
import type { LegLog } from './leg-log.js';

export interface IceTcpLimits {
  maxConnections: number;
  /** Largest frame accepted from a browser: a DTLS flight fragment or an SRTP packet fits. */
  maxFrame: number;
  checkTimeoutMs: number;
  maxQueuedBytes: number;
}

export const DEFAULT_ICE_TCP_LIMITS: IceTcpLimits = Object.freeze({
  maxConnections: 4,
  maxFrame: 4096,
  checkTimeoutMs: 10_000,
  maxQueuedBytes: 256 * 1024,
});

/** One browser connection to the leg's passive candidate. */
export class IceTcpConnection {
  readonly address: string;
  readonly port: number;
  /** A STUN check on it authenticated (RFC 8445 §7.3): it may carry DTLS and media. */
  checked = false;
  /** Resolves once the socket has emitted 'close' (the descriptor is gone). */
  readonly closed: Promise<void>;
  private readonly deframer: Deframer;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly limits: IceTcpLimits,
    onFrame: (packet: Buffer, conn: IceTcpConnection) => void,
    onClose: (conn: IceTcpConnection) => void,
    private readonly logger: LegLog,
  ) {
    this.address = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    this.deframer = new Deframer(limits.maxFrame);
    this.timer = setTimeout(() => this.close('no valid STUN check in time'), limits.checkTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.receive(chunk, onFrame));
    socket.on('error', (err) => logger.debug({ err, from: this.describe() }, 'ICE-TCP connection error'));
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        clearTimeout(this.timer);
        onClose(this);
        resolve();
      });
    });
  }

  private describe(): string {
    return `${this.address}:${this.port}`;
  }

  private receive(chunk: Buffer, onFrame: (packet: Buffer, conn: IceTcpConnection) => void): void {
    let packets: Buffer[];
    try {
      packets = this.deframer.push(chunk);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      return this.close(err.message);
    }
    for (const packet of packets) {
      if (this.socket.destroyed) return;
      // Before a check authenticated, only STUN has any business here.
      if (!this.checked && classify(packet) !== 'stun') return this.close('not STUN before a valid check');
      onFrame(packet, this);
    }
  }

  /** A valid check arrived on this connection: it stays open for as long as the leg. */
  markChecked(): void {
    if (this.checked) return;
    this.checked = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Send one packet, framed; dropped (false) when the connection is gone or too far behind. */
  send(packet: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    if (this.socket.writableLength > this.limits.maxQueuedBytes) return false;
    this.socket.write(frame(packet));
    return true;
  }

  close(reason?: string): void {
    if (this.socket.destroyed) return;
    if (reason) this.logger.info({ from: this.describe(), reason }, 'ICE-TCP connection closed');
    clearTimeout(this.timer);
    this.socket.destroy();
  }
}

/** The listener of one leg and its connections; close() ends them all (idempotent). */
export class IceTcpListener {
  private readonly conns = new Set<IceTcpConnection>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: net.Server,
    private readonly limits: IceTcpLimits,
    private readonly onFrame: (packet: Buffer, conn: IceTcpConnection) => void,
    private readonly onClosed: (conn: IceTcpConnection) => void,
    private readonly logger: LegLog,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (err) => logger.warn({ err }, 'ICE-TCP listener error'));
  }

  get connections(): number {
    return this.conns.size;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) return void socket.destroy();
    if (this.conns.size >= this.limits.maxConnections) {
      const unchecked = [...this.conns].find((c) => !c.checked); // Set order: the oldest first
      if (!unchecked) return void socket.destroy();
      this.conns.delete(unchecked); // counted out now, not when its close event comes
      unchecked.close('evicted by a newer connection (limit reached)');
    }
    const conn = new IceTcpConnection(socket, this.limits, this.onFrame, (c) => this.forget(c), this.logger);
    this.conns.add(conn);
  }

  private forget(conn: IceTcpConnection): void {
    if (this.conns.delete(conn)) this.onClosed(conn);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const done = closeTcpServer(this.server);
      const conns = [...this.conns];
      for (const conn of conns) conn.close();
      // every connection's socket closed, not only the listener: delete() frees each descriptor
      await Promise.all([done, ...conns.map((c) => c.closed)]);
    })();
    return this.closing;
  }
}
