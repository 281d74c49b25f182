// Reading an ng `query` reply for liveness (pure). rtpengine's reply lists per tag its medias, each
// with streams flagged "RTP" or "RTCP" whose `stats.packets` counts what came in from that tag's
// endpoint, and media flags "send"/"recv" for the direction the tag's SDP gave. With rtcp-mux the
// RTCP arrives on the RTP stream and cannot be told apart: it counts as media, never as RTCP alone.
import type { WatchedLeg } from '../liveness.js';
import type { NgDict } from './ng-client.js';

interface QueryStream {
  flags?: string[];
  stats?: { packets?: number };
}
interface QueryMedia {
  flags?: string[];
  streams?: QueryStream[];
}

function mediasOf(tag: unknown): QueryMedia[] {
  const medias = (tag as { medias?: unknown } | undefined)?.medias;
  return Array.isArray(medias) ? (medias as QueryMedia[]) : [];
}

/** A media whose flags lack "send" or "recv" is not sendrecv: the session is on hold. */
function holding(media: QueryMedia): boolean {
  const flags = media.flags ?? [];
  return !(flags.includes('send') && flags.includes('recv'));
}

/** The legs of one call as the liveness watcher sees them: one per tag, counted from its streams. */
export function legsFromQuery(callId: string, reply: NgDict, tags: readonly string[]): WatchedLeg[] {
  const all = (reply.tags ?? {}) as Record<string, unknown>;
  const onHold = tags.some((tag) => mediasOf(all[tag]).some(holding));
  const legs: WatchedLeg[] = [];
  for (const tag of tags) {
    if (!(tag in all)) continue;
    const counters = { packetsIn: 0, rtcpIn: 0 };
    for (const media of mediasOf(all[tag])) {
      for (const stream of media.streams ?? []) {
        const packets = Number(stream.stats?.packets ?? 0);
        counters.packetsIn += packets;
        if ((stream.flags ?? []).includes('RTCP')) counters.rtcpIn += packets;
      }
    }
    legs.push({ callId, tag, counters, onHold });
  }
  return legs;
}
