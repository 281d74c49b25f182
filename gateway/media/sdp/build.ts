// SDP writers for the two profiles, through sdp-transform (no string munging).
import * as sdpTransform from 'sdp-transform';
import type { Codec, Direction, OtherMedia, SetupRole } from './model.js';

export interface Origin {
  sessionId: string;
  /** RFC 3264 §8: incremented each time a changed SDP is produced for the same session. */
  version: number;
}

export interface CommonSdpParams {
  kind: 'offer' | 'answer';
  origin: Origin;
  address: string;
  port: number;
  codecs: readonly Codec[];
  direction: Direction;
  ptime?: number;
  /** Answers only: the offer's other m-lines, rejected with port 0 (RFC 3264 §6); the audio m-line
   *  keeps its position `audioIndex` among them. */
  others?: readonly OtherMedia[];
  audioIndex?: number;
}

export interface WebrtcSdpParams extends CommonSdpParams {
  iceUfrag: string;
  icePwd: string;
  /** 'AB:CD:…' SHA-256 fingerprint of our certificate (RFC 8122 §5). */
  fingerprint: string;
  setup: SetupRole;
  mid: string;
  /** RFC 5576 a=ssrc of what we send, with its cname; also a=msid (RFC 8830) so the browser files
   *  the track under a stream. */
  ssrc: number;
  cname: string;
  /** Also a passive TCP host candidate on the same port (RFC 6544 ICE-TCP). */
  iceTcp?: boolean;
}

type Media = sdpTransform.MediaDescription;

function session(p: CommonSdpParams, media: Media[]): sdpTransform.SessionDescription {
  return {
    version: 0,
    origin: {
      username: '-',
      sessionId: p.origin.sessionId,
      sessionVersion: p.origin.version,
      netType: 'IN',
      ipVer: 4,
      address: p.address,
    },
    name: '-',
    connection: { version: 4, ip: p.address },
    timing: { start: 0, stop: 0 },
    media,
  };
}

function codecAttributes(codecs: readonly Codec[]): Pick<Media, 'rtp' | 'fmtp' | 'payloads'> {
  return {
    payloads: codecs.map((c) => c.pt).join(' '),
    rtp: codecs.map((c) => {
      const rtp: Media['rtp'][number] = { payload: c.pt, codec: c.name, rate: c.rate };
      if (c.channels !== undefined && c.channels !== 1) rtp.encoding = c.channels;
      return rtp;
    }),
    fmtp: codecs.filter((c) => c.fmtp !== undefined).map((c) => ({ payload: c.pt, config: c.fmtp! })),
  };
}

/** Place the audio m-line among the rejected ones (answers) or alone (offers). */
function arrange(p: CommonSdpParams, audio: Media, withMid: boolean): Media[] {
  if (p.kind === 'offer' || !p.others || p.others.length === 0) return [audio];
  const media: Media[] = p.others.map((o) => {
    const rejected: Media = { type: o.type, port: 0, protocol: o.protocol, payloads: o.payloads, rtp: [], fmtp: [] };
    if (withMid && o.mid !== undefined) rejected.mid = o.mid;
    return rejected;
  });
  media.splice(p.audioIndex ?? 0, 0, audio);
  return media;
}

/** RTP/AVP SDP for a SIP trunk: plain RTP on an even port, RTCP on port+1 (RFC 3605 a=rtcp). */
export function buildRtpSdp(p: CommonSdpParams): string {
  const audio: Media = {
    type: 'audio',
    port: p.port,
    protocol: 'RTP/AVP',
    ...codecAttributes(p.codecs),
    rtcp: { port: p.port + 1 },
    ptime: p.ptime ?? 20,
    direction: p.direction,
  };
  return sdpTransform.write(session(p, arrange(p, audio, false)));
}

/** RFC 8445 §5.1.2.1: priority = (2^24)*(type preference) + (2^8)*(local preference) + (256 - component ID);
 *  126 is the recommended host type preference (§5.1.2.2), component 1 is RTP (rtcp-mux). */
function candidatePriority(localPreference: number): number {
  return 126 * 2 ** 24 + localPreference * 2 ** 8 + (256 - 1);
}

/** Our single UDP host candidate: the highest local preference (one address). */
export const UDP_HOST_PRIORITY = candidatePriority(65535);

/**
 * RFC 6544 §4.2: "For TCP candidates, the same formula and candidate type preferences SHOULD be
 * used"; "local preference = (2^13) * direction-pref + other-pref"; "It is RECOMMENDED that the
 * host, UDP-tunneled, and relayed TCP candidates have the direction-pref assigned as follows: 6 for
 * active, 4 for passive, and 2 for S-O", and other-pref "When there is only a single IP address ...
 * SHOULD be set to the maximum allowed value (8191)". So 4·8192 + 8191 = 40959 < 65535: UDP is
 * preferred, and TCP is used only when UDP does not work.
 */
export const TCP_PASSIVE_HOST_PRIORITY = candidatePriority(2 ** 13 * 4 + 8191);

/** Host candidates: UDP, and with ICE-TCP a passive TCP one on the same port (RFC 6544 §4.5: a
 *  passive candidate only accepts connections; `tcptype passive`). RFC 8445 §5.1.1.3: candidates
 *  of different transport protocols get different foundations. */
function hostCandidates(p: WebrtcSdpParams): NonNullable<Media['candidates']> {
  const candidates: NonNullable<Media['candidates']> = [
    { foundation: '1', component: 1, transport: 'udp', priority: UDP_HOST_PRIORITY, ip: p.address, port: p.port, type: 'host' },
  ];
  if (p.iceTcp) {
    candidates.push({ foundation: '2', component: 1, transport: 'tcp', priority: TCP_PASSIVE_HOST_PRIORITY, ip: p.address, port: p.port, type: 'host', tcptype: 'passive' });
  }
  return candidates;
}

/** UDP/TLS/RTP/SAVPF SDP for a browser: ICE-lite (RFC 8445 §2.5, session-level a=ice-lite), one host
 *  candidates (UDP, and TCP passive with ICE-TCP), DTLS-SRTP (RFC 5763: a=fingerprint, a=setup), rtcp-mux (RFC 5761), BUNDLE (RFC 9143). */
export function buildWebrtcSdp(p: WebrtcSdpParams): string {
  const audio: Media = {
    type: 'audio',
    port: p.port,
    protocol: 'UDP/TLS/RTP/SAVPF',
    ...codecAttributes(p.codecs),
    connection: { version: 4, ip: p.address },
    mid: p.mid,
    iceUfrag: p.iceUfrag,
    icePwd: p.icePwd,
    fingerprint: { type: 'sha-256', hash: p.fingerprint },
    setup: p.setup,
    rtcpMux: 'rtcp-mux',
    candidates: hostCandidates(p),
    endOfCandidates: 'end-of-candidates',
    ptime: p.ptime ?? 20,
    direction: p.direction,
    msid: `${p.cname} ${p.cname}-audio`,
    ssrcs: [
      { id: p.ssrc, attribute: 'cname', value: p.cname },
      { id: p.ssrc, attribute: 'msid', value: `${p.cname} ${p.cname}-audio` },
    ],
  };
  const description = session(p, arrange(p, audio, true));
  description.icelite = 'ice-lite';
  description.groups = [{ type: 'BUNDLE', mids: p.mid }];
  return sdpTransform.write(description);
}
