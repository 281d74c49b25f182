// Plays DTMF as RFC 4733 events into an outgoing RTP stream (stream.ts), one event after the other.
// RFC 4733 §2.5.1.2 (paraphrased): the first packet of an event carries the M bit and the event's start
// as its RTP timestamp; every later packet of the event keeps that timestamp while the duration field
// grows (in timestamp units) — "update" packets at the audio packetization interval. §2.5.1.4: "The final
// packet for each event and for each segment SHOULD be sent a total of three times at the interval used
// by the source for updates." Events do not overlap: a digit asked for while one plays waits its turn.
import { encodeEvent, eventPacket } from './rfc4733.js';
import type { OutputStream } from './stream.js';

/** The update interval: the G.711 packetization of 20 ms (RFC 3551 §4.5). */
export const UPDATE_MS = 20;
/** The E packet goes out this often (§2.5.1.4). */
export const END_REPEATS = 3;
/** §2.3.4 volume in -dBm0 of what we generate (the level Asterisk and most phones send). */
export const DEFAULT_VOLUME = 10;

export interface EventStep {
  marker: boolean;
  end: boolean;
  duration: number;
}

/** The payloads of one event lasting `total` timestamp units, sent every `step` units: updates whose
 *  duration grows by `step` (the first with M), then the final duration with E three times. Pure. */
export function eventSchedule(total: number, step: number): EventStep[] {
  const steps: EventStep[] = [];
  for (let d = step; d < total; d += step) steps.push({ marker: steps.length === 0, end: false, duration: d });
  for (let i = 0; i < END_REPEATS; i++) steps.push({ marker: steps.length === 0, end: true, duration: total });
  return steps;
}

export interface DtmfTone {
  event: number;
  durationMs: number;
  volume?: number;
}

/** Where the events go: the stream, the leg's telephone-event payload type and clock rate, read when an
 *  event starts (a re-offer may renumber it). */
export interface PlayerTarget {
  stream: OutputStream;
  format(): { pt: number; rate: number } | undefined;
}

interface Queued extends DtmfTone {
  done: (sent: boolean) => void;
}

export class DtmfPlayer {
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Where the last event's duration ended on the stream's clock (its SSRC, its start + duration). */
  private lastEnd: { ssrc: number; ts: number } | undefined;

  constructor(private readonly target: PlayerTarget) {}

  /** Queues a tone; resolves true once its last E packet was sent, false when the leg has no
   *  telephone-event (nothing sent) or the player was closed first. */
  play(tone: DtmfTone): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((done) => {
      this.queue.push({ ...tone, done });
      if (this.queue.length === 1 && !this.timer) this.next();
    });
  }

  get busy(): boolean {
    return this.timer !== undefined || this.queue.length > 0;
  }

  private next(): void {
    const tone = this.queue[0];
    if (!tone || this.closed) return;
    const format = this.target.format();
    if (!format) {
      this.queue.shift();
      tone.done(false);
      return this.next();
    }
    const { pt, rate } = format;
    const stepUnits = (UPDATE_MS * rate) / 1000;
    const total = Math.min(0xffff, Math.round((tone.durationMs * rate) / 1000));
    const steps = eventSchedule(total, stepUnits);
    const start = this.startOf(total, rate);
    const volume = tone.volume ?? DEFAULT_VOLUME;
    let i = 0;
    const tick = (): void => {
      const s = steps[i++]!;
      const payload = { event: tone.event, end: s.end, volume, duration: s.duration };
      encodeEvent(payload); // throws on a bad field before anything is sent
      this.target.stream.inject((ssrc, seq) => eventPacket({ pt, marker: s.marker, seq, timestamp: start, ssrc }, payload));
      if (i < steps.length) return;
      clearInterval(this.timer);
      this.timer = undefined;
      this.queue.shift();
      tone.done(true);
      this.next();
    };
    tick();
    if (i < steps.length) this.timer = setInterval(tick, UPDATE_MS);
  }

  /** The start of an event of `total` units: the stream's clock now, but never inside the previous event
   *  (RFC 4733 §2.5.1.2: events of one stream do not overlap) — a source whose timestamps run slower than
   *  the wall clock would otherwise place the next event before the last one ended. */
  private startOf(total: number, rate: number): number {
    const stream = this.target.stream;
    let start = stream.clock(rate);
    const ssrc = stream.currentSsrc;
    if (this.lastEnd?.ssrc === ssrc && ((start - this.lastEnd.ts) | 0) < 0) start = this.lastEnd.ts;
    this.lastEnd = { ssrc, ts: (start + total) >>> 0 };
    return start;
  }

  /** Stops at once; queued tones resolve false. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const q of this.queue.splice(0)) q.done(false);
  }
}
