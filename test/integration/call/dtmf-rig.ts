// Shared by the DTMF integration tests (dtmf.test.ts, dtmf-rtpengine.test.ts): an RTP end that sends
// numbered PCMU frames and keeps every packet it receives, RFC 4733 checks on what arrived, and an INFO
// sent by the WebSocket phone in its dialog.
import { expect } from 'vitest';
import { decodeEventPacket, type DecodedEventPacket } from '../../../gateway/media/dtmf/rfc4733.js';
import { getHeader } from '../../../gateway/sip/message/index.js';
import type { HeaderField, SipResponse } from '../../../gateway/sip/message/types.js';
import type { SippHandle } from '../../support/sipp.js';
import type { OutgoingCall, WsSipClient } from '../../support/ws-sip-client.js';
import { frame, rtpPacket, startTrunk, type Trunk } from '../media/peers.js';

export const text = (m: { body: Buffer }): string => m.body.toString('utf8');

/** One RTP end: sends numbered PCMU frames (its own SSRC) every 20 ms, keeps what it receives. */
export class End {
  private timer: NodeJS.Timeout | undefined;
  next = 0;
  dest: { address: string; port: number } | undefined;
  constructor(
    readonly sock: Trunk,
    readonly ssrc: number,
  ) {}

  /** `cleanups` gets the closing of its socket. */
  static async open(ssrc: number, cleanups: Array<() => Promise<unknown>>): Promise<End> {
    const end = new End(await startTrunk(), ssrc);
    cleanups.push(async () => (end.stop(), end.sock.close()));
    return end;
  }

  start(dest: { address: string; port: number }): void {
    this.dest = dest;
    this.timer = setInterval(() => this.send(rtpPacket(this.next, frame(this.next++), this.ssrc).serialize()), 20);
  }

  send(packet: Buffer): void {
    this.sock.socket.send(packet, this.dest!.port, this.dest!.address);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** PT of every received packet, in order. */
  payloadTypes(): number[] {
    return this.sock.rtp.map((p) => p[1]! & 0x7f);
  }

  events(pt: number): DecodedEventPacket[] {
    return this.sock.rtp.map((p) => decodeEventPacket(p, pt)).filter((e): e is DecodedEventPacket => e !== undefined);
  }
}

/** The events of `packets` by their RTP timestamp (one entry per event), in order of arrival. */
export function byEvent(packets: DecodedEventPacket[]): DecodedEventPacket[][] {
  const groups = new Map<number, DecodedEventPacket[]>();
  for (const p of packets) groups.set(p.timestamp, [...(groups.get(p.timestamp) ?? []), p]);
  // In the sender's order (SEQ, across a wrap), not arrival order: rtpengine's DTMF injection sometimes puts
  // one event packet on the wire before the one it numbered earlier. Arrival order is checked on its own by
  // expectGapFree where the test needs it.
  return [...groups.values()].map((g) => g.map((p) => ({ p, k: (p.seq - g[0]!.seq + 0x8000) & 0xffff })).sort((a, b) => a.k - b.k).map((x) => x.p));
}

/** An event as the RFC asks: one timestamp, M on the first packet only, durations growing by one 20 ms
 *  frame (160 at 8 kHz) up to `total`, then exactly three E packets at `total`. */
export function expectEvent(packets: DecodedEventPacket[], event: number, total: number, volume = 10): void {
  expect(packets.every((p) => p.event === event)).toBe(true);
  expect(packets.map((p) => p.marker)).toEqual(packets.map((_, i) => i === 0));
  const updates = packets.filter((p) => !p.end).map((p) => p.duration);
  expect(updates).toEqual(updates.map((_, i) => 160 * (i + 1)));
  expect(updates.at(-1)!).toBeLessThan(total);
  expect(updates.at(-1)!).toBeGreaterThanOrEqual(total - 160);
  expect(packets.filter((p) => p.end).map((p) => p.duration)).toEqual([total, total, total]);
  expect(packets.slice(-3).every((p) => p.end)).toBe(true);
  expect(packets.every((p) => p.volume === volume)).toBe(true);
}

/** Every packet that reached `end` under `ssrc`, in arrival order, has SEQ +1 of the one before. */
export function expectGapFree(end: End, ssrc: number): void {
  const seqs = end.sock.rtp.filter((p) => p.readUInt32BE(8) === ssrc).map((p) => p.readUInt16BE(2));
  expect(seqs.length).toBeGreaterThan(20);
  const jumps = seqs.slice(1).filter((s, i) => s !== ((seqs[i]! + 1) & 0xffff));
  expect(jumps).toEqual([]);
}


export function received(sipp: SippHandle, method: string) {
  return sipp
    .messages()
    .filter((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === method)
    .map((e) => e.message);
}

/** An INFO from the phone in its dialog, with `contentType` (no body: none). */
export interface PhoneDialog {
  client: WsSipClient;
  call: OutgoingCall;
  /** The 2xx to the phone's INVITE. */
  final: SipResponse;
}

export function phoneInfo(r: PhoneDialog, contentType: string | undefined, body: string, extra: HeaderField[] = []): Promise<SipResponse> {
  const target = /<([^>]+)>/.exec(getHeader(r.final, 'Contact') ?? '')![1]!;
  const req = r.client.request('INFO', target, { callId: r.call.callId, to: getHeader(r.final, 'To')!, extra, body });
  req.headers = req.headers.filter((h) => h.name !== 'Content-Type');
  if (contentType) req.headers.push({ name: 'Content-Type', value: contentType });
  return r.client.transact(req);
}

