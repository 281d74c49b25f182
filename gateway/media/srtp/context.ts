// RFC 3711 SRTP/SRTCP for AES_CM_128_HMAC_SHA1_80 / _32: one context per direction (per DTLS side).
// protect* allocate exactly one output Buffer (header copy + payload encrypted into it + tag);
// unprotect* authenticate first, then decrypt in place and return a view of the input.
import { rtcpSsrc, rtpHeaderLength, rtpSeq, rtpSsrc } from '../rtp/header.js';
import { deriveSrtpKeys } from './kdf.js';
import { SRTP_PROFILES, SrtpError, type SrtpProfile } from './profile.js';
import { estimateIndex, newStreamState, replayAccept, replayCheck, type StreamState } from './replay.js';
import { SessionCrypto } from './session.js';
import { tagMatches } from './cipher.js';

/** Bound on tracked SSRCs per map; the oldest is forgotten beyond it (Map keeps insertion order). */
const MAX_SSRCS = 256;
const SRTCP_E_FLAG = 0x80000000;
const SRTCP_INDEX_MASK = 0x7fffffff;
const RTCP_HEADER = 8;

function remember<T>(map: Map<number, T>, key: number, value: T): void {
  if (map.size >= MAX_SSRCS) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

export class SrtpContext {
  readonly profile: SrtpProfile;
  private readonly rtp: SessionCrypto;
  private readonly rtcp: SessionCrypto;
  private readonly rtpTag: number;
  private readonly rtcpTag: number;
  private readonly sendRtp = new Map<number, StreamState>();
  private readonly recvRtp = new Map<number, StreamState>();
  private readonly sendRtcp = new Map<number, number>();
  private readonly recvRtcp = new Map<number, StreamState>();

  /** Throws SrtpError on a master key that is not 16 bytes or a salt that is not 14. */
  constructor(masterKey: Buffer, masterSalt: Buffer, profile: SrtpProfile = 'AES_CM_128_HMAC_SHA1_80') {
    const params = SRTP_PROFILES[profile];
    if (!params) throw new SrtpError(`unsupported SRTP profile ${String(profile)}`);
    const keys = deriveSrtpKeys(masterKey, masterSalt);
    this.profile = profile;
    this.rtp = new SessionCrypto(keys.rtp);
    this.rtcp = new SessionCrypto(keys.rtcp);
    this.rtpTag = params.rtpTagLength;
    this.rtcpTag = params.rtcpTagLength;
  }

  /**
   * RFC 3711 §3.3: encrypt the payload (after CSRCs and header extension) with AES-CM and append
   * the tag over header || ciphertext || ROC. The sender's index follows the same §3.3.1 estimation
   * as a receiver, so relayed packets that arrive reordered across a SEQ wrap keep the right ROC.
   * Returns a new Buffer; the input is not modified. Throws SrtpError on a malformed RTP packet.
   */
  protectRtp(packet: Buffer): Buffer {
    const len = packet.length;
    const hl = rtpHeaderLength(packet, len);
    if (hl < 0) throw new SrtpError(`cannot protect: not a valid RTP packet (${len} bytes)`);
    const ssrc = rtpSsrc(packet);
    const seq = rtpSeq(packet);
    const index = this.sendIndex(ssrc, seq);
    const out = Buffer.allocUnsafe(len + this.rtpTag);
    packet.copy(out, 0, 0, len);
    this.rtp.crypt(out, hl, len, ssrc, index);
    const mac = this.rtp.hmac.mac(out, len, Math.floor(index / 0x10000));
    mac.copy(out, len, 0, this.rtpTag);
    return out;
  }

  /**
   * RFC 3711 §3.3 receiver: estimate the index (§3.3.1), reject replays (§3.3.2), verify the tag
   * over the authenticated portion || ROC (§4.2), then decrypt in place. Returns a view of `packet`
   * without the tag, or null (bad length/version, replay, or authentication failure; the input is
   * then untouched). Never throws.
   */
  unprotectRtp(packet: Buffer): Buffer | null {
    const end = packet.length - this.rtpTag;
    const hl = rtpHeaderLength(packet, end);
    if (hl < 0) return null;
    const ssrc = rtpSsrc(packet);
    const seq = rtpSeq(packet);
    const state = this.recvRtp.get(ssrc);
    const index = state ? estimateIndex(state.maxIndex, seq) : seq;
    if (index < 0 || (state && !replayCheck(state, index))) return null;
    const mac = this.rtp.hmac.mac(packet, end, Math.floor(index / 0x10000));
    if (!tagMatches(mac, packet, end, this.rtpTag)) return null;
    this.rtp.crypt(packet, hl, end, ssrc, index);
    if (state) replayAccept(state, index);
    else remember(this.recvRtp, ssrc, newStreamState(index));
    return packet.subarray(0, end);
  }

  /**
   * RFC 3711 §3.4: encrypt everything after the first 8 bytes (header + sender SSRC), append
   * E=1 || 31-bit SRTCP index, then the tag over all of that. "The SRTCP index MUST be set to zero
   * before the first SRTCP packet is sent, and MUST be incremented by one, modulo 2^31, after each".
   * Returns a new Buffer. Throws SrtpError on a packet shorter than 8 bytes or not version 2.
   */
  protectRtcp(packet: Buffer): Buffer {
    const len = packet.length;
    if (len < RTCP_HEADER || packet[0]! >> 6 !== 2) {
      throw new SrtpError(`cannot protect: not a valid RTCP packet (${len} bytes)`);
    }
    const ssrc = rtcpSsrc(packet);
    const index = this.sendRtcp.get(ssrc) ?? 0;
    if (this.sendRtcp.has(ssrc)) this.sendRtcp.set(ssrc, (index + 1) & SRTCP_INDEX_MASK);
    else remember(this.sendRtcp, ssrc, 1);
    const out = Buffer.allocUnsafe(len + 4 + this.rtcpTag);
    packet.copy(out, 0, 0, len);
    this.rtcp.crypt(out, RTCP_HEADER, len, ssrc, index);
    out.writeUInt32BE((SRTCP_E_FLAG | index) >>> 0, len);
    const mac = this.rtcp.hmac.mac(out, len + 4, -1);
    mac.copy(out, len + 4, 0, this.rtcpTag);
    return out;
  }

  /**
   * RFC 3711 §3.4 receiver: verify the tag over header..E||index, reject replayed SRTCP indices,
   * decrypt in place when E is set. Returns a view without index and tag, or null. Never throws.
   */
  unprotectRtcp(packet: Buffer): Buffer | null {
    const tail = packet.length - this.rtcpTag - 4;
    if (tail < RTCP_HEADER || packet[0]! >> 6 !== 2) return null;
    const word = packet.readUInt32BE(tail);
    const index = word & SRTCP_INDEX_MASK;
    const ssrc = rtcpSsrc(packet);
    const state = this.recvRtcp.get(ssrc);
    if (state && !replayCheck(state, index)) return null;
    const mac = this.rtcp.hmac.mac(packet, tail + 4, -1);
    if (!tagMatches(mac, packet, tail + 4, this.rtcpTag)) return null;
    if (word & SRTCP_E_FLAG) this.rtcp.crypt(packet, RTCP_HEADER, tail, ssrc, index);
    if (state) replayAccept(state, index);
    else remember(this.recvRtcp, ssrc, newStreamState(index));
    return packet.subarray(0, tail);
  }

  /**
   * Sender side of §3.3.1: estimate against the highest index sent and advance it. A forward jump
   * of more than 2^15 while the ROC is 0 estimates to ROC -1; the sender then keeps ROC 0 (index =
   * SEQ) rather than failing. Note that any RFC 3711 receiver drops such a jump as "old", so a relay
   * must keep outgoing SEQ continuous per SSRC.
   */
  private sendIndex(ssrc: number, seq: number): number {
    const state = this.sendRtp.get(ssrc);
    if (!state) {
      remember(this.sendRtp, ssrc, newStreamState(seq));
      return seq;
    }
    let index = estimateIndex(state.maxIndex, seq);
    if (index < 0) index = seq;
    if (index > state.maxIndex) state.maxIndex = index;
    return index;
  }
}
