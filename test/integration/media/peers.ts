// Test peers for the media engine: a werift RTCPeerConnection playing the browser (loopback only),
// and a plain UDP socket playing the SIP trunk.
import dgram from 'node:dgram';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';

/** werift always queries a STUN server (falling back to a public one when none is configured) and
 *  setLocalDescription waits for the answer. This loopback stand-in answers every Binding request
 *  at once with a bare error response (RFC 5389 §6 header: class error 0x0111, same transaction). */
export async function startStunRefuser(): Promise<{ port: number; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 20) return;
    const response = Buffer.alloc(20);
    response.writeUInt16BE(0x0111, 0);
    msg.copy(response, 4, 4, 20); // magic cookie + transaction ID
    socket.send(response, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

const PCMU = new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 });

/** A browser stand-in that can reach nothing but 127.0.0.1: host candidates on loopback only, no
 *  IPv6, no TCP, and its STUN server on loopback (werift otherwise falls back to a public one). The
 *  test runs in a loopback-only network namespace as well. Offers `audio` (PCMU/8000 at 0 unless told). */
export function loopbackPc(stunPort: number, audio: RTCRtpCodecParameters[] = [PCMU]): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: { audio },
    iceServers: [{ urls: `stun:127.0.0.1:${stunPort}` }],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    iceUseTcp: false,
  });
}

/** loopbackPc with one sendrecv audio track; what it receives is kept in `received`. */
export function loopbackPeer(stunPort: number, audio?: RTCRtpCodecParameters[]): { pc: RTCPeerConnection; track: MediaStreamTrack; received: RtpPacket[] } {
  const pc = loopbackPc(stunPort, audio);
  const track = new MediaStreamTrack({ kind: 'audio' });
  const received: RtpPacket[] = [];
  pc.addTransceiver(track, { direction: 'sendrecv' });
  pc.onTrack.subscribe((remote) => {
    remote.onReceiveRtp.subscribe((rtp) => received.push(rtp));
  });
  return { pc, track, received };
}

export function waitConnected(pc: RTCPeerConnection, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pc.connectionState === 'connected') return resolve();
    const timer = setTimeout(() => reject(new Error(`peer not connected: ${pc.connectionState}`)), ms);
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        clearTimeout(timer);
        resolve();
      }
      if (state === 'failed') {
        clearTimeout(timer);
        reject(new Error('peer connection failed'));
      }
    });
  });
}

/** A 160-byte PCMU frame whose bytes encode `n`, so each payload is distinguishable. */
export function frame(n: number): Buffer {
  const payload = Buffer.alloc(160);
  for (let i = 0; i < payload.length; i++) payload[i] = (n * 7 + i) & 0xff;
  payload.writeUInt32BE(n, 0);
  return payload;
}

export function rtpPacket(seq: number, payload: Buffer, ssrc = 0x1234abcd, pt = 0): RtpPacket {
  const header = new RtpHeader({ payloadType: pt, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc, marker: false });
  return new RtpPacket(header, payload);
}

export interface Trunk {
  socket: dgram.Socket;
  port: number;
  rtp: Buffer[];
  close(): Promise<void>;
}

/** A UDP socket on `address` (another 127.0.0.x stands for another host) recording what it receives. */
export async function startTrunk(address = '127.0.0.1'): Promise<Trunk> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const rtp: Buffer[] = [];
  socket.on('message', (msg) => rtp.push(msg));
  return {
    socket,
    port: socket.address().port,
    rtp,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** RTP payload (after the fixed header, CSRCs and extension, RFC 3550 §5.1/5.3.1). */
export function payloadOf(packet: Buffer): Buffer {
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  return packet.subarray(offset);
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function bindsFree(port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** A werift offer with all its host candidates (werift gathers before setLocalDescription resolves). */
export async function offerOf(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription!.sdp;
}

/** Apply `offer` to `pc` and return its answer. */
export async function answerOf(pc: RTCPeerConnection, offer: string): Promise<string> {
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  return pc.localDescription!.sdp;
}

/** Write `count` frames frame(first)…frame(first+count-1) on a werift track, SEQ from `seq`, paced. */
export async function sendFrames(track: MediaStreamTrack, first: number, count: number, seq = first): Promise<void> {
  for (let n = 0; n < count; n++) {
    track.writeRtp(rtpPacket(seq + n, frame(first + n)));
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** How many of frame(first)…frame(first+count-1) arrived (payload bytes identical). */
export function countFrames(payloads: Buffer[], first: number, count: number): number {
  const want = new Set(Array.from({ length: count }, (_, i) => frame(first + i).toString('hex')));
  return payloads.filter((p) => want.has(p.toString('hex'))).length;
}
