// Raw loopback peers for the security tests: an attacker's UDP/TCP sockets on 127.0.0.66, a victim's UDP +
// TCP listeners on 127.0.0.77 counting every byte and connection, and hand-written SIP requests.
import dgram from 'node:dgram';
import net from 'node:net';

export const ATTACKER = '127.0.0.66';
export const VICTIM = '127.0.0.77';

export interface Datagram {
  text: string;
  bytes: number;
  at: number;
}

/** A UDP socket that records every datagram; `next()` resolves with the next unread one. */
export class UdpPeer {
  readonly received: Datagram[] = [];
  private read = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (data) => {
      this.received.push({ text: data.toString('latin1'), bytes: data.length, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async bind(address: string, port = 0): Promise<UdpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => resolve());
    });
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  get bytes(): number {
    return this.received.reduce((n, d) => n + d.bytes, 0);
  }

  send(text: string, port: number, address = '127.0.0.1'): Promise<number> {
    const data = Buffer.from(text, 'latin1');
    return new Promise((resolve, reject) => this.socket.send(data, port, address, (err) => (err ? reject(err) : resolve(data.length))));
  }

  /** Waits at most timeoutMs until `count` datagrams have arrived in all; returns how many have. */
  async waitFor(count: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.length;
  }

  async next(): Promise<Datagram> {
    while (this.read >= this.received.length) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received[this.read++]!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** The victim: UDP and TCP on one port of 127.0.0.77 (or another address), counting bytes and accepted
 *  connections. */
export class Victim {
  connections = 0;
  tcpBytes = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly udp: UdpPeer,
    private readonly tcp: net.Server,
  ) {
    tcp.on('connection', (socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('data', (d) => (this.tcpBytes += d.length));
      socket.on('error', () => undefined);
    });
  }

  static async start(address = VICTIM, port = 0): Promise<Victim> {
    const udp = await UdpPeer.bind(address, port);
    const tcp = net.createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(udp.port, address, () => resolve());
    });
    return new Victim(udp, tcp);
  }

  get port(): number {
    return this.udp.port;
  }

  /** Everything that reached the victim, in bytes (UDP datagrams and TCP stream data). */
  get bytes(): number {
    return this.udp.bytes + this.tcpBytes;
  }

  async close(): Promise<void> {
    await this.udp.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

/** A TCP connection from 127.0.0.66 to the gateway; `text` accumulates what the gateway wrote into it. */
export async function tcpFromAttacker(port: number): Promise<{ socket: net.Socket; text: () => string; until(re: RegExp): Promise<string> }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: ATTACKER });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (d) => {
    text += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => undefined);
  return {
    socket,
    text: () => text,
    async until(re) {
      while (!re.test(text)) await new Promise<void>((resolve) => waiters.push(resolve));
      return text;
    },
  };
}

export interface RequestText {
  method: 'INVITE' | 'REGISTER' | 'OPTIONS';
  via: string;
  callId: string;
  cseq?: number;
  uri?: string;
  extra?: string[];
  sdp?: string;
}

/** A SIP request as a phone (or a scanner) writes it. */
export function sipRequest(r: RequestText): string {
  const uri = r.uri ?? 'sip:5551234@127.0.0.1';
  const body = r.sdp ?? '';
  return [
    `${r.method} ${uri} SIP/2.0`,
    `Via: ${r.via}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=${r.callId}-f`,
    `To: <${uri}>`,
    `Call-ID: ${r.callId}`,
    `CSeq: ${r.cseq ?? 1} ${r.method}`,
    ...(r.extra ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}`,
    '',
    body,
  ].join('\r\n');
}

/** A desk phone's SDP offer (G.711 + telephone-event), as in the issue's 589-byte INVITE. */
export function phoneOffer(address: string): string {
  return [
    'v=0',
    `o=- 3912 3912 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    'm=audio 40000 RTP/AVP 0 8 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export const statusOf = (text: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]);

/** RFC 3261 §7.3.3 compact forms: a small answer over UDP may use them (sip/transport/budget.ts). */
const COMPACT: Record<string, string> = { via: 'v', from: 'f', to: 't', 'call-id': 'i', 'content-length': 'l', contact: 'm', 'content-type': 'c', supported: 'k' };

/** A header's value by its long or its compact name. */
export const headerOf = (text: string, name: string): string | undefined => {
  const short = COMPACT[name.toLowerCase()];
  return new RegExp(`^(?:${name}${short ? `|${short}` : ''})[ \\t]*:[ \\t]*(.*)$`, 'im').exec(text)?.[1]?.trim();
};

/** What a desk phone adds to a request (so its answers fit in its size over UDP, sip/transport/budget.ts). */
export function phoneHeaders(address: string, port: number, user = 'alice'): string[] {
  return [
    `Contact: <sip:${user}@${address}:${port};transport=udp>`,
    'User-Agent: Yealink SIP-T46S 66.86.0.15',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE',
    'Supported: replaces, timer',
  ];
}
