// RTP as the test bed sees it on the wire: G.711 μ-law audio pulled out of a capture (to measure the
// tone a far end really received), and a rogue sender that sprays RTP at a port range (RTP Bleed).
import { rtpHeaderLength, rtpPayloadType, rtpSeq } from '../../../gateway/media/rtp/header.js';
import type { NetBed } from './bed.js';
import type { Packet } from './pcap.js';

/** ITU-T G.711 μ-law byte → linear 16-bit sample. */
export function ulawDecode(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** Linear 16-bit sample → G.711 μ-law byte. */
export function ulawEncode(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let v = Math.min(Math.abs(sample), 32635) + 0x84;
  let exp = 7;
  for (let mask = 0x4000; (v & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (v >> (exp + 3)) & 0x0f;
  v = ~(sign | (exp << 4) | mant);
  return v & 0xff;
}

/** RTP packets (UDP, a valid version-2 header) among `packets`, optionally only src → dst. */
export function rtpPackets(packets: readonly Packet[], from?: string, to?: string): Packet[] {
  return packets.filter(
    (p) => p.proto === 'udp' && (!from || p.src === from) && (!to || p.dst === to) && rtpHeaderLength(p.payload) > 0 && rtpPayloadType(p.payload) < 64,
  );
}

/** The PCMU (payload type 0) audio of RTP `packets` as 8 kHz samples, in sequence-number order. */
export function pcmuSamples(packets: readonly Packet[]): Int16Array {
  const frames = packets
    .filter((p) => rtpPayloadType(p.payload) === 0)
    .map((p) => ({ seq: rtpSeq(p.payload), audio: p.payload.subarray(rtpHeaderLength(p.payload)) }))
    .sort((a, b) => a.seq - b.seq);
  const out = new Int16Array(frames.reduce((n, f) => n + f.audio.length, 0));
  let i = 0;
  for (const f of frames) for (const b of f.audio) out[i++] = ulawDecode(b);
  return out;
}

const ROGUE = `
const [host, first, last, rounds, gap, payloadHex] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
const payload = Buffer.from(payloadHex, 'hex');
let seq = 1000, ts = 0, sent = 0, round = 0;
s.bind(0, () => {
  const burst = () => {
    for (let port = Number(first); port <= Number(last); port++) {
      const h = Buffer.alloc(12);
      h[0] = 0x80; h[1] = 0; h.writeUInt16BE(seq++ & 0xffff, 2); h.writeUInt32BE(ts, 4); h.writeUInt32BE(0x0badf00d, 8);
      s.send(Buffer.concat([h, payload]), port, host, () => { sent++; });
    }
    ts += 160;
    if (++round < Number(rounds)) setTimeout(burst, Number(gap));
    else setTimeout(() => { console.log('sent ' + sent); process.exit(0); }, 100);
  };
  burst();
});
`;

/** The rogue's payload: an ASCII marker then a μ-law tone (what a listener would hear if it got through). */
export function roguePayload(marker: string, freqHz: number): Buffer {
  const tone = Array.from({ length: 160 - marker.length }, (_, i) => ulawEncode(Math.round(16000 * Math.sin((2 * Math.PI * freqHz * i) / 8000))));
  return Buffer.concat([Buffer.from(marker, 'ascii'), Buffer.from(tone)]);
}

/**
 * From `host`, sends `rounds` RTP packets (PCMU, SSRC 0x0badf00d, `payload`) to every port first..last of
 * `target`, one burst over the whole range every `gapMs`; resolves with the number of packets sent.
 */
export async function sprayRtp(
  bed: NetBed,
  host: string,
  target: string,
  ports: [number, number],
  payload: Buffer,
  opts: { rounds?: number; gapMs?: number } = {},
): Promise<number> {
  const args = ['-e', ROGUE, target, String(ports[0]), String(ports[1]), String(opts.rounds ?? 40), String(opts.gapMs ?? 50), payload.toString('hex')];
  const out = await bed.exec(host, process.execPath, args);
  return Number(/sent (\d+)/.exec(out)?.[1] ?? 0);
}
