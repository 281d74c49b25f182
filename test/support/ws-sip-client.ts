// A small SIP-over-WebSocket client (RFC 7118) that plays the browser in integration tests: REGISTER,
// INVITE with a Chrome-like WebRTC offer, digest answers, ACK, CANCEL, BYE; and the called side: an
// incoming INVITE is answered 180/200 (with a Chrome-like WebRTC answer) or rejected, CANCEL gets 200 +
// 487 (its Reason kept), BYE gets 200. Every message it receives is kept in `received` for assertions.
// Several clients may register as one user (each has its own contact). Loopback only; one connection
// per client.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { answerChallenge, pickBestChallenge } from '../../gateway/sip/auth/index.js';
import { createResponse, getCSeq, getHeader, getTo, newBranch, newCallId, newTag, parseMessage, serializeMessage } from '../../gateway/sip/message/index.js';
import type { HeaderField, SipMessage, SipRequest, SipResponse } from '../../gateway/sip/message/types.js';
import { IncomingCall } from './ws-incoming-call.js';

export { chromeAnswer, IncomingCall } from './ws-incoming-call.js';

export type OfferCodec = 'opus' | 'red' | 'G722' | 'PCMU' | 'PCMA' | 'CN' | 'telephone-event';

const CODEC_LINES: Record<OfferCodec, { pts: number[]; lines: string[] }> = {
  opus: { pts: [111], lines: ['a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1'] },
  red: { pts: [63], lines: ['a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111'] },
  G722: { pts: [9], lines: ['a=rtpmap:9 G722/8000'] },
  PCMU: { pts: [0], lines: ['a=rtpmap:0 PCMU/8000'] },
  PCMA: { pts: [8], lines: ['a=rtpmap:8 PCMA/8000'] },
  CN: { pts: [13], lines: ['a=rtpmap:13 CN/8000'] },
  'telephone-event': { pts: [110, 126], lines: ['a=rtpmap:110 telephone-event/48000', 'a=rtpmap:126 telephone-event/8000'] },
};

const hex = (n: number): string => randomBytes(n).toString('hex');

/** An SDP offer shaped like Chrome's (UDP/TLS/RTP/SAVPF, BUNDLE, ICE ufrag/pwd, DTLS fingerprint,
 *  setup:actpass, rtcp-mux, a host candidate on 127.0.0.1). */
export function chromeOffer(codecs: OfferCodec[] = ['opus', 'red', 'G722', 'PCMU', 'PCMA', 'CN', 'telephone-event'], candidatePort = 9): string {
  const fingerprint = randomBytes(32).toString('hex').toUpperCase().match(/../g)!.join(':');
  const pts = codecs.flatMap((c) => CODEC_LINES[c].pts);
  return [
    'v=0',
    `o=- ${BigInt('0x' + hex(7))} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:${hex(4)} 1 udp 2122260223 127.0.0.1 ${candidatePort} typ host generation 0 network-id 1`,
    `a=ice-ufrag:${randomBytes(3).toString('base64url')}`,
    `a=ice-pwd:${randomBytes(18).toString('base64url')}`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:actpass',
    'a=mid:0',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=sendrecv',
    `a=msid:- ${hex(8)}`,
    'a=rtcp-mux',
    ...codecs.flatMap((c) => CODEC_LINES[c].lines),
    `a=ssrc:${parseInt(hex(3), 16)} cname:${hex(8)}`,
    '',
  ].join('\r\n');
}

export interface WsSipClientOptions {
  /** ws://127.0.0.1:<port>/sip (or wss://) */
  url: string;
  /** Extra options for the ws client, e.g. `{ ca }` to trust a test CA over wss://. */
  ws?: WebSocket.ClientOptions;
  user: string;
  password: string;
  /** Domain of our AOR and of Request-URIs (default 127.0.0.1). */
  domain?: string;
}

interface Pending {
  method: string;
  branch: string;
  onResponse(res: SipResponse): void;
}

/** An INVITE in progress. `final` resolves with the final response to the last INVITE sent (after a
 *  407/401 answered with our credentials); a 2xx is ACKed automatically. */
export interface OutgoingCall {
  readonly callId: string;
  readonly responses: SipResponse[];
  readonly final: Promise<SipResponse>;
  /** Resolves with the gateway's BYE (already answered 200). */
  readonly byeReceived: Promise<SipRequest>;
  cancel(): void;
  bye(): Promise<SipResponse>;
  /** An UPDATE without SDP in the dialog (e.g. an RFC 4028 session refresh) with `extra` header fields. */
  update(extra?: HeaderField[]): Promise<SipResponse>;
  /** A re-INVITE in the dialog (default: a fresh Chrome-like offer, as after an ICE restart); a 2xx is ACKed. */
  reinvite(sdp?: string): Promise<SipResponse>;
}

export class WsSipClient {
  /** Every message received, in order. */
  readonly received: SipMessage[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly listeners: Array<(m: SipMessage) => void> = [];
  /** Calls received (INVITEs to us), by Call-ID. */
  private readonly incomingCalls = new Map<string, IncomingCall>();
  private readonly host = `${hex(4)}.invalid`;
  private readonly contactUser = hex(4);
  private readonly fromTag = newTag();
  private cseq = 0;

  private constructor(
    private ws: WebSocket,
    readonly options: WsSipClientOptions,
  ) {
    ws.on('message', (data) => this.onData(Buffer.from(data as Buffer)));
  }

  /** Kills the WebSocket as a lost network would (no close handshake): the server sees the TCP connection go. */
  drop(): void {
    this.ws.terminate();
  }

  /** A new WebSocket connection for the same client (same Contact, From tag and CSeq space), as a browser
   *  that reconnects after a lost network: the gateway sees a new flow. */
  async reconnect(): Promise<void> {
    const ws = new WebSocket(this.options.url, 'sip', this.options.ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data) => this.onData(Buffer.from(data as Buffer)));
    this.ws = ws;
  }

  static connect(options: WsSipClientOptions): Promise<WsSipClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(options.url, 'sip', options.ws);
      ws.once('open', () => resolve(new WsSipClient(ws, options)));
      ws.once('error', reject);
    });
  }

  get domain(): string {
    return this.options.domain ?? '127.0.0.1';
  }

  get contact(): string {
    return `<sip:${this.contactUser}@${this.host};transport=ws>`;
  }

  /** Calls `listener` with every message received from now on; returns the unsubscribe function. */
  onMessage(listener: (m: SipMessage) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener) >>> 0, 1);
  }

  /** Resolves with the first received message (past or future) matching `pred`. */
  waitFor(pred: (m: SipMessage) => boolean, timeoutMs = 10_000): Promise<SipMessage> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waitFor: nothing matched within ${timeoutMs} ms`)), timeoutMs);
      this.listeners.push((m) => {
        if (!pred(m)) return;
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  send(msg: SipMessage): void {
    this.ws.send(serializeMessage(msg).toString('utf8'));
  }

  /** REGISTER, answering one 401 with our credentials. Resolves with the final response. */
  async register(expires = 600): Promise<SipResponse> {
    const uri = `sip:${this.domain}`;
    const callId = newCallId();
    const build = (extra: HeaderField[]): SipRequest =>
      this.request('REGISTER', uri, { callId, to: `<sip:${this.options.user}@${this.domain}>`, extra: [{ name: 'Contact', value: this.contact }, { name: 'Expires', value: String(expires) }, ...extra] });
    const first = await this.transact(build([]));
    if (first.status !== 401) return first;
    return this.transact(build([{ name: 'Authorization', value: this.answer(first, 'REGISTER', uri) }]));
  }

  /** Resolves with the next call to us (an INVITE received, past or future, not yet taken). */
  async incoming(timeoutMs = 10_000): Promise<IncomingCall> {
    const taken = (m: SipMessage) => m.kind === 'request' && m.method === 'INVITE' && this.incomingCalls.get(getHeader(m, 'Call-ID') ?? '')?.taken === false;
    const invite = await this.waitFor(taken, timeoutMs);
    const call = this.incomingCalls.get(getHeader(invite, 'Call-ID')!)!;
    call.taken = true;
    return call;
  }

  /** INVITEs received so far (calls to us). */
  get invitesReceived(): SipRequest[] {
    return [...this.incomingCalls.values()].map((c) => c.invite);
  }

  /** INVITE `number`@domain with a Chrome-like offer (or `sdp`). auth: answer one 407/401 (default true);
   *  maxForwards: the INVITE's Max-Forwards (default 70). */
  invite(number: string, o: { sdp?: string; auth?: boolean; maxForwards?: number; headers?: HeaderField[]; ackSdp?: (offer: string) => string } = {}): OutgoingCall {
    return new Call(this, `sip:${number}@${this.domain}`, o.sdp ?? chromeOffer(), o.auth ?? true, o.maxForwards, o.headers, o.ackSdp);
  }

  /** Builds an out-of-dialog request from us (new branch, next CSeq). */
  request(
    method: string,
    uri: string,
    o: { callId: string; to: string; cseq?: number; branch?: string; extra?: HeaderField[]; body?: string; maxForwards?: number },
  ): SipRequest {
    const headers: HeaderField[] = [
      { name: 'Via', value: `SIP/2.0/WS ${this.host};branch=${o.branch ?? newBranch()}` },
      { name: 'Max-Forwards', value: String(o.maxForwards ?? 70) },
      { name: 'To', value: o.to },
      { name: 'From', value: `"Browser" <sip:${this.options.user}@${this.domain}>;tag=${this.fromTag}` },
      { name: 'Call-ID', value: o.callId },
      { name: 'CSeq', value: `${o.cseq ?? ++this.cseq} ${method}` },
      ...(o.extra ?? []),
    ];
    if (o.body) headers.push({ name: 'Content-Type', value: 'application/sdp' });
    return { kind: 'request', method, uri, version: 'SIP/2.0', headers, body: Buffer.from(o.body ?? '') };
  }

  /** Sends a request and resolves with its final response; `onResponse` sees provisional ones too. */
  transact(req: SipRequest, onResponse?: (res: SipResponse) => void): Promise<SipResponse> {
    return new Promise((resolve) => {
      const branch = /branch=([^;\s]+)/.exec(getHeader(req, 'Via')!)![1]!;
      this.pending.set(`${branch}|${req.method}`, {
        method: req.method,
        branch,
        onResponse: (res) => {
          onResponse?.(res);
          if (res.status >= 200) {
            this.pending.delete(`${branch}|${req.method}`);
            resolve(res);
          }
        },
      });
      this.send(req);
    });
  }

  /** The digest answer to a 401/407 (RFC 3261 §22.2, §22.3). */
  answer(res: SipResponse, method: string, uri: string): string {
    const name = res.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
    const challenge = pickBestChallenge(res.headers.filter((h) => h.name.toLowerCase() === name).map((h) => h.value));
    if (!challenge) throw new Error(`no usable challenge in ${res.status}`);
    return answerChallenge({ challenge, username: this.options.user, password: this.options.password, method, uri });
  }

  nextCSeq(): number {
    return ++this.cseq;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }

  /** The Via we put on requests we originate. */
  get via(): string {
    return `SIP/2.0/WS ${this.host};branch=${newBranch()}`;
  }

  private onData(data: Buffer): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(data);
    } catch {
      return;
    }
    const isNewInvite = msg.kind === 'request' && msg.method === 'INVITE' && getTo(msg).params.tag === undefined;
    if (isNewInvite) this.incomingCalls.set(getHeader(msg, 'Call-ID') ?? '', new IncomingCall(this, msg as SipRequest));
    this.received.push(msg);
    for (const l of [...this.listeners]) l(msg);
    if (msg.kind === 'response') {
      const branch = /branch=([^;\s]+)/.exec(getHeader(msg, 'Via') ?? '')?.[1];
      this.pending.get(`${branch}|${getCSeq(msg).method}`)?.onResponse(msg);
    } else if (msg.method === 'BYE' || msg.method === 'OPTIONS') {
      this.send(createResponse(msg, 200, 'OK'));
      this.incomingCalls.get(getHeader(msg, 'Call-ID') ?? '')?.ended();
    } else if (msg.method === 'CANCEL') {
      const call = this.incomingCalls.get(getHeader(msg, 'Call-ID') ?? '');
      // RFC 3261 §9.2: 200 to the CANCEL, then 487 to the INVITE if still unanswered; 481 if unknown.
      this.send(createResponse(msg, call ? 200 : 481, undefined, { toTag: call?.localTag }));
      call?.cancelledBy();
    }
  }
}

class Call implements OutgoingCall {
  readonly callId = newCallId();
  readonly responses: SipResponse[] = [];
  readonly final: Promise<SipResponse>;
  readonly byeReceived: Promise<SipRequest>;
  private invite: SipRequest;
  private answered: SipResponse | undefined;

  constructor(
    private readonly client: WsSipClient,
    private readonly uri: string,
    sdp: string,
    auth: boolean,
    private readonly maxForwards?: number,
    /** Extra header fields of the INVITE (e.g. Supported: timer, Session-Expires). */
    private readonly headers: HeaderField[] = [],
    /** Late offer (sdp ''): the answer our ACK carries to the offer in the 2xx (RFC 3261 §13.2.2.4). */
    private readonly ackSdp?: (offer: string) => string,
  ) {
    this.invite = this.build(sdp, []);
    this.final = this.run(sdp, auth);
    this.final.catch(() => undefined);
    this.byeReceived = client.waitFor((m) => m.kind === 'request' && m.method === 'BYE' && getHeader(m, 'Call-ID') === this.callId, 120_000) as Promise<SipRequest>;
    this.byeReceived.catch(() => undefined);
  }

  private build(sdp: string, extra: HeaderField[]): SipRequest {
    const contact = { name: 'Contact', value: this.client.contact };
    return this.client.request('INVITE', this.uri, { callId: this.callId, to: `<${this.uri}>`, extra: [contact, ...this.headers, ...extra], body: sdp, maxForwards: this.maxForwards });
  }

  private async run(sdp: string, auth: boolean): Promise<SipResponse> {
    let res = await this.send(this.invite);
    if (auth && (res.status === 407 || res.status === 401)) {
      const name = res.status === 407 ? 'Proxy-Authorization' : 'Authorization';
      this.invite = this.build(sdp, [{ name, value: this.client.answer(res, 'INVITE', this.uri) }]);
      res = await this.send(this.invite);
    }
    return res;
  }

  private async send(invite: SipRequest): Promise<SipResponse> {
    const res = await this.client.transact(invite, (r) => this.responses.push(r));
    if (res.status >= 200 && res.status < 300) {
      this.answered = res;
      this.client.send(this.inDialog('ACK', getCSeq(invite).seq, this.ackSdp?.(res.body.toString())));
    } else {
      // RFC 3261 §17.1.1.3: the ACK for a non-2xx final response reuses the INVITE's branch and the response's To.
      const ack = { ...invite, method: 'ACK', headers: invite.headers.filter((h) => !['content-type', 'contact', 'proxy-authorization', 'authorization'].includes(h.name.toLowerCase())).map((h) => (h.name === 'CSeq' ? { ...h, value: `${getCSeq(invite).seq} ACK` } : h.name === 'To' ? { ...h, value: getHeader(res, 'To')! } : h)), body: Buffer.alloc(0) };
      this.client.send(ack);
    }
    return res;
  }

  /** A request in the dialog the 2xx created (§12.2.1.1: Request-URI = the remote Contact). */
  private inDialog(method: string, cseq: number, body?: string): SipRequest {
    const res = this.answered!;
    const target = /<([^>]+)>/.exec(getHeader(res, 'Contact') ?? '')?.[1] ?? this.uri;
    return this.client.request(method, target, { callId: this.callId, to: getHeader(res, 'To')!, cseq, body });
  }

  cancel(): void {
    // §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE.
    const keep = ['via', 'max-forwards', 'to', 'from', 'call-id'];
    const headers = this.invite.headers.filter((h) => keep.includes(h.name.toLowerCase()));
    headers.push({ name: 'CSeq', value: `${getCSeq(this.invite).seq} CANCEL` });
    void this.client.transact({ ...this.invite, method: 'CANCEL', headers, body: Buffer.alloc(0) });
  }

  bye(): Promise<SipResponse> {
    if (!this.answered || getTo(this.answered).params.tag === undefined) throw new Error('bye(): the call was not answered');
    return this.client.transact(this.inDialog('BYE', this.client.nextCSeq()));
  }

  update(extra: HeaderField[] = []): Promise<SipResponse> {
    if (!this.answered) throw new Error('update(): the call was not answered');
    const base = this.inDialog('UPDATE', this.client.nextCSeq());
    return this.client.transact({ ...base, headers: [...base.headers, ...extra] });
  }

  async reinvite(sdp = chromeOffer()): Promise<SipResponse> {
    if (!this.answered) throw new Error('reinvite(): the call was not answered');
    const cseq = this.client.nextCSeq();
    const base = this.inDialog('INVITE', cseq);
    const req = { ...base, headers: [...base.headers, { name: 'Contact', value: this.client.contact }, { name: 'Content-Type', value: 'application/sdp' }], body: Buffer.from(sdp) };
    const res = await this.client.transact(req);
    if (res.status >= 200 && res.status < 300) this.client.send(this.inDialog('ACK', cseq));
    return res;
  }
}

