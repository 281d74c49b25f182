// Per-packet RTP primitives for the media engine: RFC 7983 demux and allocation-free header access.
export { classify, type PacketKind } from './demux.js';
export {
  RTP_FIXED_HEADER,
  rtpHeaderLength,
  rtpSsrc,
  rtpSeq,
  rtpPayloadType,
  rtpMarker,
  rtpTimestamp,
  rtcpSsrc,
  setRtpSsrc,
  setRtpPayloadType,
} from './header.js';
