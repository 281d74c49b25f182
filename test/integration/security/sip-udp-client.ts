// A hand-driven SIP client on its own loopback address: REGISTER with digest, OPTIONS with any User-Agent,
// over UDP; reads what comes back (bounded waits) and counts every byte received (peers.ts's UdpPeer).
import { randomBytes } from 'node:crypto';
import { answerChallenge, parseChallenge } from '../../../gateway/sip/auth/index.js';
import { getHeaderValues, parseMessage } from '../../../gateway/sip/message/index.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';
import { UdpPeer } from './peers.js';

/** A SIP phone (or attacker) on its own loopback address, over peers.ts's recording UDP socket. */
export class SipUdpClient {
  private cseq = 1;

  private constructor(
    readonly peer: UdpPeer,
    readonly address: string,
    private readonly gateway: { address: string; port: number },
  ) {}

  static async open(address: string, gateway: { address: string; port: number }): Promise<SipUdpClient> {
    return new SipUdpClient(await UdpPeer.bind(address), address, gateway);
  }

  get port(): number {
    return this.peer.port;
  }

  /** Every response received so far, parsed. */
  get inbox(): SipResponse[] {
    return this.peer.received.map((d) => parseMessage(Buffer.from(d.text, 'latin1'))).filter((m): m is SipResponse => m.kind === 'response');
  }

  get bytesIn(): number {
    return this.peer.bytes;
  }

  close(): Promise<void> {
    return this.peer.close();
  }

  send(text: string): void {
    void this.peer.send(text, this.gateway.port, this.gateway.address);
  }

  waitFor(count: number, timeoutMs: number): Promise<number> {
    return this.peer.waitFor(count, timeoutMs);
  }

  /** Sends and returns the next response, or undefined after timeoutMs. */
  async exchange(text: string, timeoutMs = 2000): Promise<SipResponse | undefined> {
    const before = this.peer.received.length;
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
      // As a desk phone writes them: over UDP an answer must fit in its request (sip/transport/budget.ts).
      'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE',
      'Supported: replaces, timer',
      ...(o.authorization ? [`${method === 'INVITE' ? 'Proxy-Authorization' : 'Authorization'}: ${o.authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  /** REGISTER (401, WWW-Authenticate) or INVITE (407, Proxy-Authenticate), the MD5 challenge answered
   *  with `password`; the final answer (undefined: none came). */
  async authenticate(method: 'REGISTER' | 'INVITE', user: string, password: string): Promise<SipResponse | undefined> {
    const first = await this.exchange(this.request(method, { user }));
    if (first?.status !== 401 && first?.status !== 407) return first;
    const header = first.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const challenge = getHeaderValues(first, header).find((c) => (parseChallenge(c).algorithm ?? 'MD5') === 'MD5')!;
    const gw = `${this.gateway.address}:${this.gateway.port}`;
    const uri = method === 'REGISTER' ? `sip:${gw}` : `sip:echo@${gw}`;
    const authorization = answerChallenge({ challenge, username: user, password, method, uri, nc: 1, cnonce: randomBytes(4).toString('hex') });
    return this.exchange(this.request(method, { user, authorization }));
  }

  register(user: string, password: string): Promise<SipResponse | undefined> {
    return this.authenticate('REGISTER', user, password);
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
