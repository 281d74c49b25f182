// The engine's view of an SDP: the first audio m-line (the only one it relays) plus enough of the
// other m-lines to reject them in an answer. Parsed with sdp-transform; bad input → MediaError('bad-sdp').
import * as sdpTransform from 'sdp-transform';
import { MediaError, type MediaProfile } from '../types.js';

export interface Codec {
  pt: number;
  /** Encoding name as written (e.g. 'PCMU', 'telephone-event'). */
  name: string;
  rate: number;
  channels?: number;
  fmtp?: string;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type SetupRole = 'actpass' | 'active' | 'passive' | 'holdconn';

/** An m-line the engine does not relay; an answer carries it back with port 0 (RFC 3264 §6). */
export interface OtherMedia {
  index: number;
  type: string;
  protocol: string;
  payloads: string;
  mid?: string;
}

export interface AudioDescription {
  profile: MediaProfile;
  /** The o= line's username, sess-id and sess-version: unchanged in an unchanged SDP (RFC 3264 §8). */
  origin?: string;
  protocol: string;
  /** Index of the audio m-line among all m-lines. */
  index: number;
  /** Connection address (media-level c= or session-level c=); '0.0.0.0' when on hold RFC 2543 style. */
  address: string;
  port: number;
  rtcpPort?: number;
  rtcpMux: boolean;
  codecs: Codec[];
  direction: Direction;
  ptime?: number;
  mid?: string;
  iceUfrag?: string;
  icePwd?: string;
  fingerprint?: { type: string; hash: string };
  setup?: SetupRole;
  others: OtherMedia[];
}

const SETUP_ROLES: readonly string[] = ['actpass', 'active', 'passive', 'holdconn'];

function bad(reason: string): MediaError {
  return new MediaError('bad-sdp', reason);
}

/** RFC 5764 §8 / RFC 5763: a DTLS-SRTP m-line uses UDP/TLS/RTP/SAVP(F); anything RTP/AVP(F) is plain. */
export function profileOf(protocol: string): MediaProfile | undefined {
  const p = protocol.toUpperCase();
  if (p === 'UDP/TLS/RTP/SAVPF' || p === 'UDP/TLS/RTP/SAVP') return 'webrtc';
  if (p === 'RTP/AVP' || p === 'RTP/AVPF') return 'rtp';
  return undefined;
}

function parseSession(sdp: string): sdpTransform.SessionDescription {
  if (typeof sdp !== 'string' || !/^v=0\r?\n/.test(sdp)) throw bad('SDP must start with "v=0"');
  try {
    return sdpTransform.parse(sdp);
  } catch (err) {
    throw bad(`unparsable SDP: ${(err as Error).message}`);
  }
}

function codecsOf(m: sdpTransform.MediaDescription): Codec[] {
  const pts = sdpTransform.parsePayloads(m.payloads ?? '');
  const codecs: Codec[] = [];
  for (const pt of pts) {
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw bad(`payload type "${pt}" out of range 0-127`);
    const rtp = m.rtp.find((r) => r.payload === pt);
    const fmtp = m.fmtp.find((f) => f.payload === pt)?.config;
    const codec = rtp ? fromRtpmap(pt, rtp) : staticCodec(pt);
    if (!codec) continue; // RFC 3264 §5.1: dynamic types need an rtpmap; without one we cannot use it
    if (fmtp !== undefined) codec.fmtp = fmtp;
    codecs.push(codec);
  }
  return codecs;
}

function fromRtpmap(pt: number, rtp: { codec: string; rate?: number; encoding?: number }): Codec {
  const codec: Codec = { pt, name: rtp.codec, rate: rtp.rate ?? 8000 };
  if (rtp.encoding !== undefined) codec.channels = Number(rtp.encoding);
  return codec;
}

/** RFC 3551 §6 table 4: static payload types usable without an rtpmap. */
function staticCodec(pt: number): Codec | undefined {
  const table: Record<number, [string, number]> = { 0: ['PCMU', 8000], 8: ['PCMA', 8000], 9: ['G722', 8000], 13: ['CN', 8000], 18: ['G729', 8000] };
  const entry = table[pt];
  return entry ? { pt, name: entry[0], rate: entry[1] } : undefined;
}

function directionOf(m: sdpTransform.MediaDescription, s: sdpTransform.SessionDescription): Direction {
  return m.direction ?? s.direction ?? 'sendrecv'; // RFC 3264 §5.1: sendrecv is the default
}

export function parseAudioSdp(sdp: string): AudioDescription {
  const session = parseSession(sdp);
  const media = session.media ?? [];
  const index = media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (index < 0) throw bad('no active audio m-line');
  const m = media[index]!;
  const profile = profileOf(m.protocol);
  if (!profile) throw bad(`unsupported audio transport "${m.protocol}"`);
  const address = m.connection?.ip ?? session.connection?.ip;
  if (!address) throw bad('no connection address (c=) for the audio m-line');
  if (!Number.isInteger(m.port) || m.port < 1 || m.port > 65535) throw bad(`audio port "${m.port}" out of range`);
  const setup = m.setup ?? session.setup;
  if (setup !== undefined && !SETUP_ROLES.includes(setup)) throw bad(`bad a=setup "${setup}"`);
  const desc: AudioDescription = {
    profile,
    protocol: m.protocol,
    index,
    address,
    port: m.port,
    rtcpMux: m.rtcpMux === 'rtcp-mux',
    codecs: codecsOf(m),
    direction: directionOf(m, session),
    others: othersOf(media, index),
  };
  assignOptional(desc, m, session, setup as SetupRole | undefined);
  if (session.origin) desc.origin = `${session.origin.username} ${session.origin.sessionId} ${session.origin.sessionVersion}`;
  return desc;
}

function assignOptional(
  desc: AudioDescription,
  m: sdpTransform.MediaDescription,
  s: sdpTransform.SessionDescription,
  setup: SetupRole | undefined,
): void {
  if (m.rtcp?.port !== undefined) desc.rtcpPort = m.rtcp.port;
  if (m.ptime !== undefined) desc.ptime = Number(m.ptime);
  if (m.mid !== undefined) desc.mid = String(m.mid);
  const ufrag = m.iceUfrag ?? s.iceUfrag;
  const pwd = m.icePwd ?? s.icePwd;
  const fingerprint = m.fingerprint ?? s.fingerprint;
  if (ufrag !== undefined) desc.iceUfrag = String(ufrag);
  if (pwd !== undefined) desc.icePwd = String(pwd);
  if (fingerprint) desc.fingerprint = { type: fingerprint.type, hash: fingerprint.hash };
  if (setup !== undefined) desc.setup = setup;
}

function othersOf(media: sdpTransform.MediaDescription[], audioIndex: number): OtherMedia[] {
  const others: OtherMedia[] = [];
  media.forEach((m, index) => {
    if (index === audioIndex) return;
    const other: OtherMedia = { index, type: m.type, protocol: m.protocol, payloads: String(m.payloads ?? '0') };
    if (m.mid !== undefined) other.mid = String(m.mid);
    others.push(other);
  });
  return others;
}

/** For the webrtc profile the DTLS-SRTP and ICE attributes are mandatory (RFC 5763 §5, RFC 8839 §5.4). */
export function requireWebrtcAttributes(desc: AudioDescription): void {
  if (!desc.iceUfrag || !desc.icePwd) throw bad('webrtc SDP without a=ice-ufrag / a=ice-pwd');
  if (!desc.fingerprint) throw bad('webrtc SDP without a=fingerprint');
  if (desc.fingerprint.type.toLowerCase() !== 'sha-256') {
    throw bad(`unsupported fingerprint hash "${desc.fingerprint.type}" (only sha-256)`);
  }
}
