// TCP listening sockets for ICE-TCP passive candidates (RFC 6544 §4.5: a passive candidate only
// accepts connections). They bind only the configured media address, like the UDP sockets (udp.ts).
import net from 'node:net';

/** Small: a browser opens one connection per active candidate; more waiting is an attack. */
const BACKLOG = 8;

/** Listen on address:port; rejects with the listen error (e.g. code 'EADDRINUSE') and leaves nothing open. */
export function listenTcp(address: string, port: number): Promise<net.Server> {
  const server = net.createServer({ noDelay: true });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.close();
      reject(err);
    };
    server.once('error', onError);
    server.listen({ host: address, port, exclusive: true, backlog: BACKLOG }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

/** Stop listening; resolves once the port is free (connections are closed by their owner). */
export function closeTcpServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
