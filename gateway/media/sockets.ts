// The media sockets the embedded engine holds, counted from the sockets themselves: each one is
// tracked from bind/listen/accept until it emits 'close' (so a leak shows however it happened).
import type dgram from 'node:dgram';
import type net from 'node:net';

import type { SocketCounts } from './types.js';

export class SocketTracker {
  private readonly udp = new Set<dgram.Socket>();
  private readonly listeners = new Set<net.Server>();
  private readonly connections = new Set<net.Socket>();

  trackUdp(socket: dgram.Socket): void {
    this.udp.add(socket);
    socket.once('close', () => this.udp.delete(socket));
  }

  /** A listener, and every connection it accepts. */
  trackTcp(server: net.Server): void {
    this.listeners.add(server);
    server.once('close', () => this.listeners.delete(server));
    server.on('connection', (socket: net.Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
  }

  counts(): SocketCounts {
    return { udp: this.udp.size, tcpListeners: this.listeners.size, tcpConnections: this.connections.size };
  }
}
