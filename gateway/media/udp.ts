// UDP socket helpers for media legs. Sockets bind only the configured address.
import dgram from 'node:dgram';
import type { Logger } from 'pino';

/** Bind a UDP socket; rejects with the bind error (e.g. code 'EADDRINUSE') and leaves nothing open. */
export function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({ type, reuseAddr: false });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Bind RTP on an even `port` and RTCP on port+1, both or neither. */
export async function bindUdpPair(address: string, port: number): Promise<[dgram.Socket, dgram.Socket]> {
  const rtp = await bindUdp(address, port);
  try {
    return [rtp, await bindUdp(address, port + 1)];
  } catch (err) {
    await closeUdp(rtp);
    throw err;
  }
}

/** Errors after bind (e.g. ICMP-induced send failures) are logged, never thrown. */
export function watchErrors(socket: dgram.Socket, logger: Logger): void {
  socket.on('error', (err) => logger.warn({ err }, 'media socket error'));
}

export function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
