// The WebSocket client's side of an answered call for mid-call tests: it sends re-INVITEs and UPDATEs in
// the dialog (a 2xx to a re-INVITE is ACKed) and answers the gateway's with whatever the test decides
// (an SDP answer, 488, or 491 while it has its own request pending — glare). Also the plain-RTP SDP a
// SIP phone would send, so media can be counted on UDP sockets at both ends.
import sdpTransform from 'sdp-transform';
import { createResponse, getHeader, getTo } from '../../gateway/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../gateway/sip/message/types.js';
import type { OutgoingCall, WsSipClient } from './ws-sip-client.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** What the client answers to the gateway's re-INVITE / UPDATE. */
export type OfferAnswerer = (req: SipRequest) => { status: number; sdp?: string };

/** A phone's plain RTP SDP (PCMU + telephone-event) on 127.0.0.1:`port`. `hold2543`: the RFC 2543 hold,
 *  c=0.0.0.0. */
export function rtpSdp(port: number, o: { version?: number; direction?: Direction; hold2543?: boolean } = {}): string {
  return [
    'v=0',
    `o=phone 4242 ${o.version ?? 1} IN IP4 127.0.0.1`,
    's=-',
    `c=IN IP4 ${o.hold2543 ? '0.0.0.0' : '127.0.0.1'}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    `a=${o.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}

/** The audio direction an SDP states (RFC 3264 §5.1 default sendrecv). */
export function directionOf(sdp: string): Direction {
  const parsed = sdpTransform.parse(sdp);
  return (parsed.media[0]?.direction ?? parsed.direction ?? 'sendrecv') as Direction;
}

/** Where an SDP says its audio goes: c= address and m= port. */
export function mediaAddress(sdp: string): { address: string; port: number } {
  const parsed = sdpTransform.parse(sdp);
  const audio = parsed.media[0]!;
  return { address: audio.connection?.ip ?? parsed.connection!.ip, port: audio.port };
}

/** RFC 3264 §6.1: the answerer's direction for an offered one. */
export function mirror(d: Direction): Direction {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d;
}

export class WsDialog {
  /** The gateway's in-dialog INVITEs and UPDATEs, in order. */
  readonly requests: SipRequest[] = [];
  private answerer: OfferAnswerer = () => ({ status: 488 });
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly client: WsSipClient,
    readonly callId: string,
    /** Our call's 2xx; undefined for a call to us (we only answer then). */
    private readonly answered: SipResponse | undefined,
  ) {
    this.unsubscribe = client.onMessage((m) => this.onMessage(m));
  }

  /** The dialog of `call` once its final response is a 2xx. */
  static async of(client: WsSipClient, call: OutgoingCall): Promise<WsDialog> {
    const final = await call.final;
    if (final.status >= 300) throw new Error(`call not answered: ${final.status}`);
    return new WsDialog(client, call.callId, final);
  }

  /** The dialog of a call to us, answering the gateway's requests in it (send() is for our own calls). */
  static incoming(client: WsSipClient, callId: string): WsDialog {
    return new WsDialog(client, callId, undefined);
  }

  answerWith(answerer: OfferAnswerer): void {
    this.answerer = answerer;
  }

  /** Sends a re-INVITE or UPDATE (with `sdp`, or without a body); resolves with its final response. */
  async send(method: 'INVITE' | 'UPDATE', sdp?: string): Promise<SipResponse> {
    const cseq = this.client.nextCSeq();
    const req = this.request(method, cseq, sdp);
    const res = await this.client.transact(req);
    // RFC 3261 §13.2.2.4: the ACK for a 2xx to our re-INVITE.
    if (method === 'INVITE' && res.status >= 200 && res.status < 300) this.client.send(this.request('ACK', cseq));
    return res;
  }

  close(): void {
    this.unsubscribe();
  }

  private request(method: string, cseq: number, sdp?: string): SipRequest {
    if (!this.answered) throw new Error('WsDialog: requests of our own only in a call we placed');
    const target = /<([^>]+)>/.exec(getHeader(this.answered, 'Contact') ?? '')![1]!;
    const extra = method === 'ACK' ? [] : [{ name: 'Contact', value: this.client.contact }];
    return this.client.request(method, target, { callId: this.callId, to: getHeader(this.answered, 'To')!, cseq, extra, body: sdp });
  }

  private onMessage(m: SipMessage): void {
    if (m.kind !== 'request' || (m.method !== 'INVITE' && m.method !== 'UPDATE')) return;
    if (getHeader(m, 'Call-ID') !== this.callId || getTo(m).params.tag === undefined) return;
    this.requests.push(m);
    const { status, sdp } = this.answerer(m);
    const body = sdp === undefined ? undefined : Buffer.from(sdp);
    const headers = status < 300 ? [{ name: 'Contact', value: this.client.contact }] : [];
    this.client.send(createResponse(m, status, undefined, { headers, body, contentType: body && 'application/sdp' }));
  }
}
