// Reads RFC 4733 events out of an incoming RTP stream (§2.5.2, receiver side): an event is known by its RTP
// timestamp (every packet of one event carries the event's start); the first packet seen of a new timestamp
// starts it, the E bit ends it with its final duration. §2.5.1.4 sends the end packet three times: only the
// first ends the event, the repeats (and any late update of an event already ended) are dropped. An event
// whose end packets were all lost ends when the next event starts, or when nothing of it came for
// LOST_END_MS (§2.5.2.3 paraphrased: the receiver ends an event without E when its updates stop).
import { decodeEventPacket, signalOf } from './rfc4733.js';

export const LOST_END_MS = 1000;

export interface ReceivedDtmf {
  /** '0'-'9', '*', '#', 'A'-'D', '16'. */
  signal: string;
  event: number;
  durationMs: number;
  volume: number;
  /** false: its E packets never came (ended by the next event or LOST_END_MS). */
  endSeen: boolean;
}

export interface ReceiverFormat {
  pt: number;
  rate: number;
}

interface Current {
  ssrc: number;
  timestamp: number;
  event: number;
  volume: number;
  duration: number;
}

export class DtmfReceiver {
  private current: Current | undefined;
  /** The last ended event (ssrc:timestamp): its repeated E packets and stragglers are dropped. */
  private lastEnded: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** The leg's telephone-event payload type and clock rate (read per packet: a re-offer may change it). */
    private readonly format: () => ReceiverFormat | undefined,
    private readonly onEnd: (dtmf: ReceivedDtmf) => void,
    private readonly onStart?: (signal: string) => void,
  ) {}

  /** One RTP packet from the leg: true when it was a telephone-event (taken here). */
  receive(packet: Uint8Array): boolean {
    const f = this.format();
    if (!f) return false;
    const p = decodeEventPacket(packet, f.pt);
    if (!p) return false;
    const key = `${p.ssrc}:${p.timestamp}`;
    if (key === this.lastEnded) return true;
    const cur = this.current;
    if (!cur || cur.ssrc !== p.ssrc || cur.timestamp !== p.timestamp) {
      if (cur) this.finish(false, f.rate);
      this.current = { ssrc: p.ssrc, timestamp: p.timestamp, event: p.event, volume: p.volume, duration: p.duration };
      const signal = signalOf(p.event);
      if (signal !== undefined) this.onStart?.(signal);
    } else {
      this.current!.duration = Math.max(this.current!.duration, p.duration);
    }
    if (p.end) this.finish(true, f.rate);
    else this.armLostEnd(f.rate);
    return true;
  }

  private armLostEnd(rate: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.finish(false, rate), LOST_END_MS);
    this.timer.unref?.();
  }

  private finish(endSeen: boolean, rate: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    this.lastEnded = `${cur.ssrc}:${cur.timestamp}`;
    const signal = signalOf(cur.event);
    // events 17-255 (tones, line events) are not DTMF: nothing to convert
    if (signal === undefined) return;
    this.onEnd({ signal, event: cur.event, durationMs: Math.round((cur.duration * 1000) / rate), volume: cur.volume, endSeen });
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
  }
}
