// Loopback peers for the transport integration tests: raw UDP/TCP/WS clients speaking SIP text.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { createLogger } from '../../../gateway/log.js';
import { createTransport, type TransportOptions } from '../../../gateway/sip/transport/index.js';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import type { Flow, SipTransport } from '../../../gateway/sip/transport/types.js';

export interface Rig {
  transport: SipTransport;
  http: http.Server;
  udpPort: number;
  tcpPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export async function startRig(extra: Partial<TransportOptions> = {}): Promise<Rig> {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const transport = await createTransport({
    listen: [
      { transport: 'udp', address: '127.0.0.1', port: 0 },
      { transport: 'tcp', address: '127.0.0.1', port: 0 },
    ],
    ws: { server, path: '/sip' },
    logger: createLogger('silent'),
    ...extra,
  });
  return {
    transport,
    http: server,
    udpPort: transport.localAddress('udp')!.port,
    tcpPort: transport.localAddress('tcp')!.port,
    httpPort: transport.localAddress('ws')!.port,
    async close() {
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The next message the transport delivers. */
export function nextMessage(transport: SipTransport): Promise<{ message: SipMessage; flow: Flow }> {
  return new Promise((resolve) => {
    let done = false;
    transport.onMessage((message, flow) => {
      if (done) return;
      done = true;
      resolve({ message, flow });
    });
  });
}

/** Collect delivered messages; `waitFor(n)` resolves once n have arrived. */
export function collect(transport: SipTransport): { messages: SipMessage[]; waitFor(n: number): Promise<SipMessage[]> } {
  const messages: SipMessage[] = [];
  const waiters: Array<{ n: number; resolve: (m: SipMessage[]) => void }> = [];
  transport.onMessage((message) => {
    messages.push(message);
    for (const w of waiters.filter((x) => messages.length >= x.n)) w.resolve(messages);
  });
  return {
    messages,
    waitFor(n) {
      return new Promise((resolve) => {
        if (messages.length >= n) resolve(messages);
        else waiters.push({ n, resolve });
      });
    },
  };
}

export function request(opts: {
  method?: string;
  via: string;
  callId?: string;
  cseq?: string;
  body?: string;
  extra?: string[];
}): string {
  const method = opts.method ?? 'OPTIONS';
  const body = opts.body ?? '';
  const lines = [
    `${method} sip:gw@127.0.0.1 SIP/2.0`,
    `Via: ${opts.via}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:gw@127.0.0.1>',
    `Call-ID: ${opts.callId ?? 'call-1@example.com'}`,
    `CSeq: ${opts.cseq ?? `1 ${method}`}`,
    ...(opts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

export async function udpClient(): Promise<{ socket: dgram.Socket; port: number; next(): Promise<string> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const queue: string[] = [];
  const waiting: Array<(s: string) => void> = [];
  socket.on('message', (data) => {
    const w = waiting.shift();
    if (w) w(data.toString());
    else queue.push(data.toString());
  });
  return {
    socket,
    port: socket.address().port,
    next: () => new Promise((resolve) => (queue.length ? resolve(queue.shift()!) : waiting.push(resolve))),
  };
}

export function tcpConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A port nobody listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function header(text: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:\\s*(.*)$`, 'im');
  return re.exec(text)?.[1]?.trim();
}
