// The called side of the WebSocket test client: a call to it (the gateway's INVITE), answered 180/200
// with a Chrome-like WebRTC answer or rejected; CANCEL → 487 (its Reason kept); our BYE in the dialog.
import { randomBytes } from 'node:crypto';
import { createResponse, getHeader, newTag } from '../../gateway/sip/message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../../gateway/sip/message/types.js';
import type { WsSipClient } from './ws-sip-client.js';

const hex = (n: number): string => randomBytes(n).toString('hex');

/** A Chrome-like answer to a WebRTC offer (RFC 3264 §6): setup:active (RFC 5763 §5: the answerer to
 *  actpass picks), the offer's first audio codec plus its telephone-event/8000, rtcp-mux. */
export function chromeAnswer(offer: string, candidatePort = 9): string {
  const m = /^m=audio \d+ \S+ ([\d ]+)$/m.exec(offer);
  const pts = m?.[1]!.trim().split(' ') ?? [];
  const rtpmap = (pt: string): string | undefined => new RegExp(`^a=rtpmap:${pt} (\\S+)`, 'm').exec(offer)?.[1];
  const media = pts.find((pt) => !/^(telephone-event|CN|red)\//i.test(rtpmap(pt) ?? ''));
  const dtmf = pts.find((pt) => /^telephone-event\/8000/i.test(rtpmap(pt) ?? ''));
  const chosen = [media, dtmf].filter((pt): pt is string => pt !== undefined);
  const fingerprint = randomBytes(32).toString('hex').toUpperCase().match(/../g)!.join(':');
  return [
    'v=0',
    `o=- ${BigInt('0x' + hex(7))} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=msid-semantic: WMS',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${chosen.join(' ')}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:${hex(4)} 1 udp 2122260223 127.0.0.1 ${candidatePort} typ host generation 0 network-id 1`,
    `a=ice-ufrag:${randomBytes(3).toString('base64url')}`,
    `a=ice-pwd:${randomBytes(18).toString('base64url')}`,
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:active',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    ...chosen.map((pt) => `a=rtpmap:${pt} ${rtpmap(pt) ?? ''}`),
    `a=ssrc:${parseInt(hex(3), 16)} cname:${hex(8)}`,
    '',
  ].join('\r\n');
}

/** A call to this client: it answers the gateway's INVITE (we are the UAS, RFC 3261 §13.3). */
export class IncomingCall {
  readonly localTag = newTag();
  readonly callId: string;
  /** Taken by incoming() already. */
  taken = false;
  state: 'offered' | 'ringing' | 'answered' | 'rejected' | 'cancelled' | 'ended' = 'offered';
  private cseq = 0;

  constructor(
    private readonly client: WsSipClient,
    readonly invite: SipRequest,
  ) {
    this.callId = getHeader(invite, 'Call-ID')!;
  }

  get offer(): string {
    return this.invite.body.toString('utf8');
  }

  private respond(status: number, o: { body?: string; reason?: string } = {}): void {
    const headers: HeaderField[] = status < 300 ? [{ name: 'Contact', value: this.client.contact }] : [];
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    this.client.send(createResponse(this.invite, status, o.reason, { toTag: this.localTag, headers, body, contentType: body && 'application/sdp' }));
  }

  /** 180 Ringing. */
  ringing(): void {
    if (this.state !== 'offered') return;
    this.state = 'ringing';
    this.respond(180);
  }

  /** 200 OK with a WebRTC answer (default: chromeAnswer of the offer). Resolves with the gateway's ACK. */
  accept(sdp: string = chromeAnswer(this.offer), timeoutMs = 10_000): Promise<SipRequest> {
    this.state = 'answered';
    this.respond(200, { body: sdp });
    const acked = this.waitRequest('ACK', timeoutMs);
    acked.catch(() => undefined); // the caller may not wait for the ACK
    return acked;
  }

  /** A final rejection, e.g. 486 Busy Here or 603 Decline. */
  reject(status = 486, reason?: string): void {
    this.state = 'rejected';
    this.respond(status, { reason });
  }

  /** Resolves with the gateway's CANCEL for this call. */
  waitCancel(timeoutMs = 10_000): Promise<SipRequest> {
    return this.waitRequest('CANCEL', timeoutMs);
  }

  /** Resolves with the gateway's BYE for this call (already answered 200). */
  waitBye(timeoutMs = 10_000): Promise<SipRequest> {
    return this.waitRequest('BYE', timeoutMs);
  }

  /** The Reason header of the CANCEL received (RFC 3326), if any. */
  get cancelReason(): string | undefined {
    const cancel = this.client.received.find((m) => m.kind === 'request' && m.method === 'CANCEL' && getHeader(m, 'Call-ID') === this.callId);
    return cancel && getHeader(cancel, 'Reason');
  }

  /** Our BYE (§15) in the dialog we answered: Request-URI = the gateway's Contact, From/To swapped. */
  bye(): Promise<SipResponse> {
    const target = /<([^>]+)>/.exec(getHeader(this.invite, 'Contact') ?? '')?.[1] ?? this.invite.uri;
    const headers: HeaderField[] = [
      { name: 'Via', value: this.client.via },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: `${getHeader(this.invite, 'To')};tag=${this.localTag}` },
      { name: 'To', value: getHeader(this.invite, 'From')! },
      { name: 'Call-ID', value: this.callId },
      { name: 'CSeq', value: `${++this.cseq} BYE` },
    ];
    this.state = 'ended';
    return this.client.transact({ kind: 'request', method: 'BYE', uri: target, version: 'SIP/2.0', headers, body: Buffer.alloc(0) });
  }

  /** The gateway CANCELled: 487 to the INVITE when still unanswered (§9.2). */
  cancelledBy(): void {
    if (this.state !== 'offered' && this.state !== 'ringing') return;
    this.state = 'cancelled';
    this.respond(487);
  }

  ended(): void {
    this.state = 'ended';
  }

  private waitRequest(method: string, timeoutMs: number): Promise<SipRequest> {
    return this.client.waitFor((m) => m.kind === 'request' && m.method === method && getHeader(m, 'Call-ID') === this.callId, timeoutMs) as Promise<SipRequest>;
  }
}
