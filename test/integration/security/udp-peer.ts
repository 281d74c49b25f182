// A hand-driven SIP peer on its own loopback address: sends requests over UDP, reads what comes back
// (bounded waits), counts every byte it received.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { answerChallenge, parseChallenge } from '../../../gateway/sip/auth/index.js';
import { getHeaderValues, parseMessage } from '../../../gateway/sip/message/index.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';

export class UdpPeer {
  readonly inbox: SipResponse[] = [];
  bytesIn = 0;
  private waiters: Array<() => void> = [];
  private cseq = 1;

  private constructor(
    readonly socket: dgram.Socket,
    readonly address: string,
    readonly port: number,
    private readonly gateway: { address: string; port: number },
  ) {
    socket.on('message', (data) => {
      this.bytesIn += data.length;
      const msg = parseMessage(data);
      if (msg.kind === 'response') this.inbox.push(msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(address: string, gateway: { address: string; port: number }): Promise<UdpPeer> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, address);
    await once(socket, 'listening');
    return new UdpPeer(socket, address, socket.address().port, gateway);
  }

  close(): void {
    this.socket.close();
  }

  send(text: string): void {
    this.socket.send(Buffer.from(text), this.gateway.port, this.gateway.address);
  }

  /** Waits (at most timeoutMs) until `count` responses are in the inbox; returns how many there are. */
  async waitFor(count: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.inbox.length;
  }

  /** Sends and returns the next response, or undefined after timeoutMs. */
  async exchange(text: string, timeoutMs = 2000): Promise<SipResponse | undefined> {
    const before = this.inbox.length;
    this.send(text);
    await this.waitFor(before + 1, timeoutMs);
    return this.inbox[before];
  }

  request(method: string, o: { user?: string; userAgent?: string; authorization?: string } = {}): string {
    const gw = `${this.gateway.address}:${this.gateway.port}`;
    const user = o.user ?? 'alice';
    const uri = method === 'REGISTER' ? `sip:${gw}` : `sip:echo@${gw}`;
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${gw}>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:${method === 'REGISTER' ? user : 'echo'}@${gw}>`,
      `Call-ID: ${randomBytes(8).toString('hex')}@${this.address}`,
      `CSeq: ${this.cseq++} ${method}`,
      `Contact: <sip:${user}@${this.address}:${this.port}>`,
      ...(method === 'REGISTER' ? ['Expires: 60'] : []),
      `User-Agent: ${o.userAgent ?? 'test-phone/1.0'}`,
      ...(o.authorization ? [`Authorization: ${o.authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  /** REGISTER, answer the 401's MD5 challenge with `password`; the final answer (undefined: none came). */
  async register(user: string, password: string): Promise<SipResponse | undefined> {
    const first = await this.exchange(this.request('REGISTER', { user }));
    if (first?.status !== 401) return first;
    const challenge = getHeaderValues(first, 'WWW-Authenticate').find((c) => (parseChallenge(c).algorithm ?? 'MD5') === 'MD5')!;
    const uri = `sip:${this.gateway.address}:${this.gateway.port}`;
    const authorization = answerChallenge({ challenge, username: user, password, method: 'REGISTER', uri, nc: 1, cnonce: randomBytes(4).toString('hex') });
    return this.exchange(this.request('REGISTER', { user, authorization }));
  }
}

/** What a response says to its receiver, minus what is fresh per answer (tags, nonces, branch, Call-ID). */
export function shape(res: SipResponse | undefined): unknown {
  if (!res) return undefined;
  return {
    status: res.status,
    reason: res.reason,
    headers: res.headers.map((h) => h.name.toLowerCase()),
    challenges: getHeaderValues(res, 'WWW-Authenticate').map((c) => ({ ...parseChallenge(c), nonce: '*' })),
  };
}
