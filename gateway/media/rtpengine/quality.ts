// Quality figures of a call carried by rtpengine, from an ng `query` reply (pure). rtpengine counts what
// each tag's endpoint sent it (per stream: RTP and RTCP packets, the stream's ingress SSRC) and, from the
// RTCP receiver reports it relays (matched to the SRs they answer), keeps per reporting SSRC a MOS with
// the loss, jitter and round trip it was computed from (the reply's "SSRC" dictionary: "average MOS"
// { MOS ×10, "packet loss" %, jitter ms, "round-trip time" µs }, "cumulative loss"). The entry of a tag's
// own SSRC is what that party reported about the media it received: the leg's `out` figures here.
// rtpengine does not count sequence-number gaps itself, so `in` has packets only, and without SRs and RRs
// from the peers `out` stays null. Shape as rtpengine 10.5 answers (checked against a real one:
// test/integration/media/quality-rtpengine.test.ts).
import { round2, type CallQuality, type DirectionQuality, type LegQuality } from '../quality.js';
import type { NgDict } from './ng-client.js';

interface NgStream {
  flags?: unknown;
  SSRC?: unknown;
  stats?: { packets?: unknown };
  stats_out?: { packets?: unknown };
}
interface NgMedia {
  codec?: unknown;
  protocol?: unknown;
  streams?: unknown;
}
interface MosEntry {
  MOS?: unknown;
  'packet loss'?: unknown;
  jitter?: unknown;
  'round-trip time'?: unknown;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const flagsOf = (s: NgStream): string[] => list<string>(s.flags);

function emptyDirection(packets: number): DirectionQuality {
  return { packets, expected: null, lost: null, lossPercent: null, intervalLossPercent: null, jitterMs: null, mos: null };
}

/** One tag's streams: packets in (RTP, RTCP apart), out when rtpengine says, the ingress SSRC, the codec. */
function countTag(tag: unknown): { rtp: number; rtcp: number; out: number | null; ssrc: number | null; codec?: string; profile: 'rtp' | 'webrtc' } {
  const r = { rtp: 0, rtcp: 0, out: null as number | null, ssrc: null as number | null, profile: 'rtp' as 'rtp' | 'webrtc', codec: undefined as string | undefined };
  for (const media of list<NgMedia>((tag as { medias?: unknown } | undefined)?.medias)) {
    if (typeof media.codec === 'string') r.codec = media.codec.split('/')[0];
    if (typeof media.protocol === 'string' && /SAVPF/.test(media.protocol)) r.profile = 'webrtc';
    for (const stream of list<NgStream>(media.streams)) {
      const packets = num(stream.stats?.packets) ?? 0;
      if (flagsOf(stream).includes('RTCP')) {
        r.rtcp += packets;
        continue;
      }
      r.rtp += packets;
      const out = num(stream.stats_out?.packets);
      if (out !== null) r.out = (r.out ?? 0) + out;
      r.ssrc ??= num(stream.SSRC);
    }
  }
  return r;
}

/** The per-leg figures of the tags named, in that order (tags the reply lacks are left out). */
export function qualityFromQuery(reply: NgDict, tags: readonly string[]): CallQuality {
  const all = (reply.tags ?? {}) as Record<string, unknown>;
  const ssrcs = (reply.SSRC ?? {}) as Record<string, { 'average MOS'?: MosEntry; 'cumulative loss'?: unknown } | undefined>;
  const present = tags.filter((t) => t in all);
  const counted = present.map((t) => countTag(all[t]));
  const legs: LegQuality[] = present.map((tag, i) => {
    const c = counted[i]!;
    const other = counted[present.length === 2 ? 1 - i : -1];
    const outbound = emptyDirection(c.out ?? other?.rtp ?? 0);
    let rttMs: number | null = null;
    const entry = c.ssrc !== null ? ssrcs[String(c.ssrc)] : undefined;
    const avg = entry?.['average MOS'];
    if (avg) {
      const mos = num(avg.MOS);
      outbound.mos = mos === null ? null : round2(mos / 10);
      outbound.lossPercent = num(avg['packet loss']);
      outbound.jitterMs = num(avg.jitter);
      outbound.lost = num(entry['cumulative loss']);
      const rtt = num(avg['round-trip time']);
      rttMs = rtt === null ? null : round2(rtt / 1000);
    }
    return {
      tag,
      profile: c.profile,
      ...(c.codec ? { codec: c.codec } : {}),
      in: emptyDirection(c.rtp),
      out: outbound,
      rttMs,
      rtcpIn: c.rtcp,
      rtcpOut: other?.rtcp ?? 0,
      rtcpErrors: 0,
    };
  });
  return { source: 'rtpengine', legs };
}
