// UDP: one dgram socket per listening point; every datagram is one message (RFC 3261 §18.3).
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../../log.js';
import { addressKey, advertisedAddress, normalizeHost } from './addressing.js';
import { BaseFlow, newFlowId } from './flow.js';
import { TransportError, type Address } from './types.js';

/** Cached UDP flows per socket; beyond this the oldest are forgotten (they hold no resources). */
const MAX_CACHED_FLOWS = 4096;

export interface UdpDeps {
  logger: Logger;
  maxMessageBytes: number;
  /** SO_RCVBUF asked for each socket, bytes (TransportOptions.udpReceiveBuffer); 0 or absent: the OS default. */
  receiveBufferBytes?: number;
  /** One received datagram, already checked for size. Must not throw. */
  onDatagram(data: Buffer, flow: UdpFlow): void;
}

export class UdpFlow extends BaseFlow {
  constructor(
    readonly listener: UdpListener,
    remote: Address,
  ) {
    super(newFlowId('udp'), 'udp', listener.local, remote, false);
  }

  /** The socket may be bound to a wildcard: the listening point's advertised address. */
  override get sentBy(): Address {
    return { ...this.listener.sentBy };
  }

  /** RFC 3261 §18: UDP has no connection; a flow never dies. */
  get alive(): boolean {
    return true;
  }

  write(data: Buffer): Promise<void> {
    return this.listener.sendTo(data, this.remote);
  }
}

/** A datagram that arrives while the receive buffer is full is dropped by the kernel, unseen (a flood's
 *  burst, or a garbage collection pause, fills the default ~200 KB in a few tens of ms). Linux caps the
 *  size at net.core.rmem_max (and reports twice what was set): say so when the socket got less. */
function checkReceiveBuffer(socket: dgram.Socket, asked: number, local: Address, logger: Logger): void {
  try {
    const got = socket.getRecvBufferSize();
    if (got < asked) logger.warn({ local, asked, got }, `udp receive buffer smaller than sip.udpReceiveBuffer: asked=${asked} got=${got} (raise net.core.rmem_max)`);
  } catch (err) {
    logger.warn({ local, asked, err: (err as Error).message }, 'udp receive buffer size unknown');
  }
}

export class UdpListener {
  private readonly flows = new Map<string, UdpFlow>();
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: Address,
    /** What Via sent-by and Contact name for this socket (ListenSpec.advertise over `local`). */
    readonly sentBy: Address,
    private readonly deps: UdpDeps,
  ) {
    socket.on('message', (data, rinfo) => this.onMessage(data, rinfo));
    socket.on('error', (err) => deps.logger.warn({ err, local: local }, 'udp socket error'));
  }

  static bind(address: string, port: number, deps: UdpDeps, advertise?: Partial<Address>): Promise<UdpListener> {
    const type = isIP(normalizeHost(address)) === 6 ? 'udp6' : 'udp4';
    const asked = deps.receiveBufferBytes ?? 0;
    const socket = dgram.createSocket(asked > 0 ? { type, recvBufferSize: asked } : { type });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(new TransportError(`cannot bind udp ${address}:${port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.bind(port, normalizeHost(address), () => {
        socket.off('error', onError);
        const bound = { address: socket.address().address, port: socket.address().port };
        if (asked > 0) checkReceiveBuffer(socket, asked, bound, deps.logger);
        resolve(new UdpListener(socket, bound, advertisedAddress(bound, advertise), deps));
      });
    });
  }

  get family(): 4 | 6 {
    return isIP(this.local.address) === 6 ? 6 : 4;
  }

  /** The (cached) flow toward one remote address: keyed by address:port. */
  flowTo(remote: Address): UdpFlow {
    const key = addressKey(remote);
    const existing = this.flows.get(key);
    if (existing) return existing;
    const flow = new UdpFlow(this, { address: normalizeHost(remote.address), port: remote.port });
    if (this.flows.size >= MAX_CACHED_FLOWS) {
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) this.flows.delete(oldest);
    }
    this.flows.set(key, flow);
    return flow;
  }

  sendTo(data: Buffer, remote: Address): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('udp socket closed'));
    return new Promise((resolve, reject) => {
      try {
        this.socket.send(data, remote.port, normalizeHost(remote.address), (err) => {
          if (err) reject(new TransportError(`udp send to ${addressKey(remote)} failed: ${err.message}`));
          else resolve();
        });
      } catch (err) {
        reject(new TransportError(`udp send to ${addressKey(remote)} failed: ${(err as Error).message}`));
      }
    });
  }

  private onMessage(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const remote = { address: rinfo.address, port: rinfo.port };
    if (data.length > this.deps.maxMessageBytes) {
      this.deps.logger.debug({ remote, bytes: data.length }, 'udp datagram too large, dropped');
      return;
    }
    this.deps.onDatagram(data, this.flowTo(remote));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.flows.clear();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
