// Call metrics (a CallObserver): started / answered / ended counters by direction and trunk (ended also
// by final status and who ended it), the calls up now by state, setup time (INVITE → ringback or
// answer) and duration histograms, and the media engine's packet counters of every call.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Call } from '../call/call.js';
import type { CallObserver, CallStart } from '../call/observer.js';
import { endOutcome } from '../cdr/end-reason.js';
import type { MediaEngine } from '../media/types.js';
import { codeLabel, trunkLabel } from './labels.js';

/** Media session keys of a call: its own, and its fork branches' (call.openMedia). */
const MAX_BRANCHES = 20;

interface MediaTotals {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  rejected: number;
  held: number;
}

const zero = (): MediaTotals => ({ packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, rejected: 0, held: 0 });

/** Every leg's counters of a call's media sessions, summed (the engine keeps them until the call's
 *  media is deleted, after the 'ended' move). */
function mediaOf(media: MediaEngine, call: Call, into: MediaTotals): void {
  for (let i = -1; i < MAX_BRANCHES; i++) {
    const stats = media.stats(i < 0 ? call.id : `${call.id}:${i}`);
    if (!stats && i >= 0) break;
    for (const leg of Object.values(stats?.legs ?? {})) {
      into.packetsIn += leg.packetsIn;
      into.packetsOut += leg.packetsOut;
      into.bytesIn += leg.bytesIn;
      into.bytesOut += leg.bytesOut;
      into.rejected += leg.packetsRejected;
      into.held += leg.packetsHeld ?? 0;
    }
  }
}

export class CallMetrics implements CallObserver {
  private readonly live = new Map<Call, CallStart>();
  /** Media counted from ended calls, plus what was last exported (counters never go back). */
  private readonly endedMedia = zero();
  private readonly exported = zero();
  private readonly started: Counter<'direction' | 'trunk'>;
  private readonly answered: Counter<'direction' | 'trunk'>;
  private readonly ended: Counter<'direction' | 'trunk' | 'status' | 'side'>;
  private readonly setup: Histogram<'direction'>;
  private readonly duration: Histogram<'direction'>;

  constructor(
    registry: Registry,
    private readonly trunks: ReadonlySet<string>,
    private readonly media: () => MediaEngine | undefined,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.started = new Counter({ name: 'webphone_calls_started_total', help: 'Calls started (INVITE admitted), by direction and trunk', labelNames: ['direction', 'trunk'], registers });
    this.answered = new Counter({ name: 'webphone_calls_answered_total', help: 'Calls answered, by direction and trunk', labelNames: ['direction', 'trunk'], registers });
    this.ended = new Counter({ name: 'webphone_calls_ended_total', help: 'Calls ended, by direction, trunk, final status (200: answered) and the side that ended them', labelNames: ['direction', 'trunk', 'status', 'side'], registers });
    this.setup = new Histogram({ name: 'webphone_call_setup_seconds', help: 'INVITE to ringback (18x) or answer, whichever came first', labelNames: ['direction'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30], registers });
    this.duration = new Histogram({ name: 'webphone_call_duration_seconds', help: 'Answered calls: answer to end', labelNames: ['direction'], buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200], registers });
    const self = this;
    new Gauge({
      name: 'webphone_calls_active', help: 'Calls up now, by state and direction', labelNames: ['state', 'direction'], registers,
      collect() {
        this.reset();
        for (const [call, start] of self.live) this.inc({ state: call.state, direction: start.direction });
      },
    });
    this.mediaCounters(registry);
  }

  callStarted(call: Call, start: CallStart): void {
    const t0 = this.now();
    const labels = { direction: start.direction, trunk: trunkLabel(this.trunks, start.trunk) };
    this.started.inc(labels);
    this.live.set(call, start);
    let setupDone = false;
    let answeredAt: number | undefined;
    call.onChange(({ to }) => {
      try {
        if ((to === 'early' || to === 'answered') && !setupDone) {
          setupDone = true;
          this.setup.observe({ direction: start.direction }, (this.now() - t0) / 1000);
        }
        if (to === 'answered') {
          answeredAt = this.now();
          this.answered.inc({ ...labels, trunk: trunkLabel(this.trunks, trunkOf(call) ?? start.trunk) });
        }
        if (to === 'ended') this.end(call, start, answeredAt);
      } catch {
        // metrics never break a call
      }
    });
  }

  private end(call: Call, start: CallStart, answeredAt: number | undefined): void {
    this.live.delete(call);
    const out = endOutcome(call.endInfo, answeredAt !== undefined);
    const trunk = trunkLabel(this.trunks, trunkOf(call) ?? start.trunk);
    this.ended.inc({ direction: start.direction, trunk, status: codeLabel(out.status), side: out.side });
    if (answeredAt !== undefined) this.duration.observe({ direction: start.direction }, (this.now() - answeredAt) / 1000);
    const media = this.media();
    if (media) mediaOf(media, call, this.endedMedia);
  }

  /** Media totals now: ended calls plus the calls up. */
  private mediaNow(): MediaTotals {
    const t = { ...this.endedMedia };
    const media = this.media();
    if (media) for (const call of this.live.keys()) mediaOf(media, call, t);
    return t;
  }

  private mediaCounters(registry: Registry): void {
    const registers = [registry];
    const self = this;
    let snapshot = zero();
    /** Each counter takes the growth since the last scrape (a call's figures move to `endedMedia`). */
    const grow = (c: Counter<string>, labels: Record<string, string>, key: keyof MediaTotals): void => {
      const d = snapshot[key] - self.exported[key];
      if (d > 0) (c.inc(labels, d), (self.exported[key] = snapshot[key]));
    };
    new Counter({
      name: 'webphone_media_packets_total', help: 'RTP/RTCP packets the media engine received from (in) and sent to (out) peers', labelNames: ['direction'], registers,
      collect() {
        snapshot = self.mediaNow();
        grow(this, { direction: 'in' }, 'packetsIn');
        grow(this, { direction: 'out' }, 'packetsOut');
      },
    });
    new Counter({
      name: 'webphone_media_bytes_total', help: 'Media bytes received (in) and sent (out)', labelNames: ['direction'], registers,
      collect() {
        grow(this, { direction: 'in' }, 'bytesIn');
        grow(this, { direction: 'out' }, 'bytesOut');
      },
    });
    new Counter({
      name: 'webphone_media_packets_dropped_total', help: 'Media packets not forwarded: source (strict source / not the ICE-selected address), held (direction forbids it)', labelNames: ['reason'], registers,
      collect() {
        grow(this, { reason: 'source' }, 'rejected');
        grow(this, { reason: 'held' }, 'held');
      },
    });
  }
}

function trunkOf(call: Call): string | undefined {
  for (const p of [call.parties.callee, call.parties.caller]) if (p?.kind === 'trunk') return p.trunk.name;
  return undefined;
}
