// Click-to-call (POST /api/calls) has no caller INVITE: the operator's HTTP request stands in for it. The
// Call keeps its shape — a caller side we are the "UAS" of, a callee side we dial — with a local server
// transaction whose responses go nowhere (there is no peer to answer), an INVITE built from the user's
// identity toward the dialled number, and a stand-in SDP: a plain G.711 session that no peer owns. The
// user's leg (UAC toward the user's contacts) and the trunk's leg (UAC toward the trunk) are joined by the
// media engine (splice); the stand-in legs are freed by it, and the caller usage is closed without BYE.
import sdpTransform from 'sdp-transform';
import type { UserConfig } from '../config/schema.js';
import { newCallId, newTag } from '../sip/message/index.js';
import type { SipRequest, SipResponse } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import type { Address, Flow } from '../sip/transport/types.js';
import { buildRequest } from '../sip/ua/request.js';

/** The address the stand-in session names. RFC 3264 §8.4: c=0.0.0.0 would say "send nothing"; an address
 *  that discards (port 9, RFC 863) keeps the session sendrecv until the splice frees the leg. */
const STAND_IN_ADDRESS = '127.0.0.1';
const DISCARD_PORT = 9;

/** G.711 and telephone-event by their static / usual payload types (RFC 3551 §6). */
const CODECS: Record<string, { payload: number; rate: number }> = {
  pcmu: { payload: 0, rate: 8000 },
  pcma: { payload: 8, rate: 8000 },
  'telephone-event': { payload: 101, rate: 8000 },
};

/** A plain RTP/AVP offer from nobody with `codecs` (names, in order; unknown names skipped). */
export function standInSdp(codecs: readonly string[] = ['PCMU', 'PCMA', 'telephone-event']): string {
  const names = [...new Set(codecs.map((c) => c.toLowerCase()))].filter((c) => CODECS[c]);
  if (!names.some((n) => n !== 'telephone-event')) names.unshift('pcmu');
  const rtp = names.map((n) => ({ payload: CODECS[n]!.payload, codec: n === 'telephone-event' ? n : n.toUpperCase(), rate: CODECS[n]!.rate }));
  const session = {
    version: 0,
    origin: { username: '-', sessionId: Date.now(), sessionVersion: 1, netType: 'IN', ipVer: 4, address: STAND_IN_ADDRESS },
    name: 'click-to-call',
    timing: { start: 0, stop: 0 },
    connection: { version: 4, ip: STAND_IN_ADDRESS },
    media: [
      {
        type: 'audio',
        port: DISCARD_PORT,
        protocol: 'RTP/AVP',
        payloads: rtp.map((r) => r.payload).join(' '),
        rtp,
        fmtp: names.includes('telephone-event') ? [{ payload: 101, config: '0-15' }] : [],
        direction: 'sendrecv' as const,
        ptime: 20,
      },
    ],
  };
  return sdpTransform.write(session as unknown as sdpTransform.SessionDescription);
}

/** A flow that reaches no one: alive false (no BYE is ever sent over it), never closes. */
function nowhere(sentBy: Address): Flow {
  return {
    id: `api:${newTag()}`,
    transport: 'udp',
    local: sentBy,
    remote: { address: STAND_IN_ADDRESS, port: 0 },
    sentBy,
    reliable: true,
    alive: false,
    onClose: () => () => undefined,
  };
}

/** The local stand-in for a caller's INVITE server transaction: it keeps the last response "sent" (for
 *  the log and tests) and never times out waiting for an ACK. */
export class ApiOrigin implements ServerTransaction {
  readonly id = `api-${newTag()}`;
  readonly request: SipRequest;
  readonly flow: Flow;
  state = 'proceeding';
  last: SipResponse | undefined;

  constructor(user: UserConfig, number: string, domain: string, sentBy: Address) {
    this.flow = nowhere(sentBy);
    this.request = buildRequest({
      method: 'INVITE',
      uri: { scheme: 'sip', user: number, host: domain, params: {}, headers: {} },
      from: { displayName: user.name, uri: { scheme: 'sip', user: user.extension ?? user.name, host: domain, params: {}, headers: {} }, params: {} },
      to: { uri: { scheme: 'sip', user: number, host: domain, params: {}, headers: {} }, params: {} },
      callId: newCallId(domain),
      cseq: 1,
      via: { transport: 'udp', sentBy },
      // RFC 3261 §12.1.1: the dialog's remote target; no request is ever sent to it (the flow is not alive).
      contact: { uri: { scheme: 'sip', user: 'click-to-call', host: STAND_IN_ADDRESS, params: {}, headers: {} }, params: {} },
      body: Buffer.from(standInSdp()),
      contentType: 'application/sdp',
    });
  }

  /** The stand-in offer narrowed to what the user's phone chose (the trunk is offered those only, so that
   *  the two kept legs share a codec when spliced). */
  narrowOffer(codecs: readonly string[]): void {
    this.request.body = Buffer.from(standInSdp(codecs));
  }

  respond(response: SipResponse): void {
    this.last = response;
    if (response.status >= 200) this.state = response.status < 300 ? 'accepted' : 'completed';
  }

  respondStatelessly(response: SipResponse): void {
    this.respond(response);
  }

  onAckTimeout(): void {
    // No one ACKs: the caller usage is closed without signalling once the user's leg replaced it.
  }
}
