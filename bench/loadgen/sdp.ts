// The SDP both load generators (bench/loadgen in TypeScript, bench/loadgen-c in C) exchange with the
// engine: the browser's offer, what the browser needs from the engine's answer, the trunk's answer to
// the engine's offer.
import * as sdpTransform from 'sdp-transform';

export interface BrowserOfferFields {
  call: number;
  address: string;
  port: number;
  ufrag: string;
  pwd: string;
  /** sha-256 of the browser side's certificate, colon-separated hex. */
  fingerprint: string;
  ssrc: number;
}

/** As a browser offers: ICE credentials, a host candidate, DTLS fingerprint, setup:actpass, rtcp-mux. */
export function browserOffer(o: BrowserOfferFields): string {
  return [
    'v=0', `o=- ${o.call + 1} 1 IN IP4 ${o.address}`, 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS',
    `m=audio ${o.port} UDP/TLS/RTP/SAVPF 0`, `c=IN IP4 ${o.address}`, 'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:1 1 udp 2130706431 ${o.address} ${o.port} typ host`, 'a=end-of-candidates',
    `a=ice-ufrag:${o.ufrag}`, `a=ice-pwd:${o.pwd}`, `a=fingerprint:sha-256 ${o.fingerprint}`,
    'a=setup:actpass', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:0 PCMU/8000', `a=ssrc:${o.ssrc} cname:loadgen${o.call}`, '',
  ].join('\r\n');
}

export interface EngineAnswer {
  address: string;
  port: number;
  ufrag: string;
  pwd: string;
  fingerprint: string;
  /** RFC 5763 §5: the answerer's a=setup picks the roles; passive (the embedded engine) makes the browser
   *  the DTLS client, active (rtpengine's default answer) the server. */
  role: 'client' | 'server';
}

export function parseEngineAnswer(answer: string, fallbackAddress: string): EngineAnswer {
  const session = sdpTransform.parse(answer);
  const m = session.media[0]!;
  return {
    address: m.connection?.ip ?? session.connection?.ip ?? fallbackAddress,
    port: m.port,
    ufrag: String(m.iceUfrag ?? session.iceUfrag),
    pwd: String(m.icePwd ?? session.icePwd),
    fingerprint: (m.fingerprint ?? session.fingerprint)!.hash,
    role: (m.setup ?? session.setup) === 'active' ? 'server' : 'client',
  };
}

/** The engine's offer toward the trunk: where the trunk sends its RTP. */
export function parseEngineOffer(offer: string, fallbackAddress: string): { address: string; port: number } {
  const session = sdpTransform.parse(offer);
  const m = session.media[0]!;
  return { address: m.connection?.ip ?? session.connection?.ip ?? fallbackAddress, port: m.port };
}

/** The trunk's RTP/AVP answer: PCMU at 20 ms from `address:port`. */
export function trunkAnswer(call: number, address: string, port: number): string {
  return [
    'v=0', `o=trunk ${call + 1} 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}
