// UDP socket helpers for media legs. Sockets bind only the configured address.
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';

type Lookup = (address: string, family: number, callback: (err: Error | null, address: string, family: number) => void) => void;

/**
 * dgram resolves the address of every send (and of bind) with dns.lookup, which for an IP literal tests it
 * with a regular expression and calls back on the next tick: a closure and a tick per datagram on the media
 * path. Media addresses are IP literals, so they are answered at once — the last one from a one-entry cache
 * without even the test — and the send completes inside socket.send(). A host name (an SDP c= may carry
 * one, RFC 4566 §5.7) still goes to dns.lookup.
 */
export function literalLookup(): Lookup {
  let last = '';
  let lastFamily = 0;
  return (address, family, callback) => {
    if (address === last && family === lastFamily) return callback(null, address, family);
    const kind = isIP(address);
    if (kind === 0 || kind !== family) return void dns.lookup(address, family, callback);
    last = address;
    lastFamily = family;
    callback(null, address, family);
  };
}

/** Bind a UDP socket; rejects with the bind error (e.g. code 'EADDRINUSE') and leaves nothing open. */
export function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({ type, reuseAddr: false, lookup: literalLookup() as unknown as dgram.SocketOptions['lookup'] });
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
export function watchErrors(socket: dgram.Socket, logger: { warn(obj: object, msg?: string): void }): void {
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
