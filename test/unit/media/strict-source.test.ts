// Strict media sources on a plain RTP leg (RTP Bleed protection): the pure latch rule, then an RtpLeg
// on fake sockets (no network) to see what reaches the relay, what is counted and what is logged.
import { EventEmitter } from 'node:events';
import type dgram from 'node:dgram';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SourceLatch } from '../../../gateway/media/legs/latch.js';
import { RtpLeg } from '../../../gateway/media/legs/rtp-leg.js';

const CARRIER = '192.0.2.20';
const SIGNALLING = '198.51.100.5';
const ROGUE = '203.0.113.66';

describe('SourceLatch (strict)', () => {
  it('takes the first packet from the SDP address, latches its IP:port, then refuses every other source', () => {
    const latch = new SourceLatch(true);
    latch.fromSdp(CARRIER, 4000);
    expect(latch.target).toEqual({ address: CARRIER, port: 4000 });
    expect(latch.admit(ROGUE, 4000)).toBe('rejected');
    expect(latch.target).toEqual({ address: CARRIER, port: 4000 }); // a stranger moves nothing
    expect(latch.admit(CARRIER, 4002)).toBe('latched'); // NAT-like: same IP, another port
    expect(latch.target).toEqual({ address: CARRIER, port: 4002 });
    expect(latch.admit(CARRIER, 4002)).toBe('accepted');
    expect(latch.admit(CARRIER, 4000)).toBe('rejected'); // latched: even the SDP port is another source now
    expect(latch.admit(ROGUE, 4002)).toBe('rejected');
    expect(latch.target).toEqual({ address: CARRIER, port: 4002 });
  });

  it('takes the first packet from the IP the SIP came from when media is not sent from the SDP address', () => {
    const latch = new SourceLatch(true);
    latch.fromSdp('192.0.2.99', 4000, SIGNALLING);
    expect(latch.admit(ROGUE, 5000)).toBe('rejected');
    expect(latch.admit(SIGNALLING, 31000)).toBe('latched');
    expect(latch.source).toEqual({ address: SIGNALLING, port: 31000 });
    expect(latch.admit('192.0.2.99', 4000)).toBe('rejected'); // the SDP address too, once latched
  });

  it('re-latches only after a new offer/answer, and only to an address that one allows', () => {
    const latch = new SourceLatch(true);
    latch.fromSdp(CARRIER, 4000, SIGNALLING);
    expect(latch.admit(CARRIER, 4000)).toBe('accepted');
    expect(latch.admit(SIGNALLING, 6000)).toBe('rejected'); // expected IP, but the latch is closed
    latch.fromSdp(CARRIER, 4000, SIGNALLING); // a re-INVITE
    expect(latch.target).toEqual({ address: CARRIER, port: 4000 });
    expect(latch.admit(ROGUE, 6000)).toBe('rejected');
    expect(latch.admit(SIGNALLING, 6000)).toBe('latched');
    latch.fromSdp('192.0.2.30', 7000); // the peer moved: its old source is no longer expected
    expect(latch.target).toEqual({ address: '192.0.2.30', port: 7000 });
    expect(latch.admit(SIGNALLING, 6000)).toBe('rejected');
    expect(latch.admit('192.0.2.30', 7000)).toBe('accepted');
  });

  it('on hold (c=0.0.0.0) without a signalling address accepts nothing until an SDP gives one', () => {
    const latch = new SourceLatch(true);
    latch.fromSdp('0.0.0.0', 4000);
    expect(latch.target).toBeUndefined();
    expect(latch.admit(CARRIER, 4000)).toBe('rejected');
    expect(latch.admit('0.0.0.0', 4000)).toBe('rejected');
    latch.fromSdp(CARRIER, 4000);
    expect(latch.admit(CARRIER, 4000)).toBe('accepted');
  });

  it('a re-offer with c=0.0.0.0 (RFC 2543 hold) sends nothing but keeps taking the latched source; resume sends there again', () => {
    const latch = new SourceLatch(true);
    latch.fromSdp(CARRIER, 4000);
    expect(latch.admit(CARRIER, 4002)).toBe('latched');
    latch.fromSdp('0.0.0.0', 4000);
    expect(latch.target).toBeUndefined();
    expect(latch.admit(CARRIER, 4002)).toBe('accepted');
    expect(latch.target).toBeUndefined();
    expect(latch.admit(ROGUE, 4002)).toBe('rejected');
    latch.fromSdp(CARRIER, 4000);
    expect(latch.target).toEqual({ address: CARRIER, port: 4002 });
  });

  it('compares an IPv4-mapped IPv6 source with its IPv4 address', () => {
    const latch = new SourceLatch(true);
    latch.fromSdp(CARRIER, 4000);
    expect(latch.admit(`::ffff:${CARRIER}`, 4000)).toBe('latched');
  });
});

describe('SourceLatch (strictSource: false, symmetric RTP as before)', () => {
  it('re-latches to any new source at any time and keeps the latched source over a later SDP', () => {
    const latch = new SourceLatch(false);
    latch.fromSdp(CARRIER, 4000);
    expect(latch.admit(ROGUE, 6000)).toBe('latched');
    expect(latch.target).toEqual({ address: ROGUE, port: 6000 });
    expect(latch.admit(CARRIER, 4000)).toBe('latched');
    latch.fromSdp('192.0.2.30', 7000);
    expect(latch.target).toEqual({ address: CARRIER, port: 4000 });
  });
});

class FakeSocket extends EventEmitter {
  readonly sent: Array<{ packet: Buffer; port: number; address: string }> = [];
  send(packet: Buffer, port: number, address: string): void {
    this.sent.push({ packet: Buffer.from(packet), port, address });
  }
  close(cb?: () => void): void {
    cb?.();
  }
  /** A datagram arriving from address:port. */
  deliver(packet: Buffer, address: string, port: number): void {
    this.emit('message', packet, { address, port, family: 'IPv4', size: packet.length });
  }
}

function rtp(marker: string, seq = 1): Buffer {
  const header = Buffer.from([0x80, 0, 0, seq & 0xff, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78]);
  return Buffer.concat([header, Buffer.from(marker)]);
}

const rtcp = (marker: string) => Buffer.concat([Buffer.from([0x81, 200, 0, 6, 0x12, 0x34, 0x56, 0x78]), Buffer.alloc(20), Buffer.from(marker)]);

function legOn(strict: boolean) {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const [rtpSocket, rtcpSocket] = [new FakeSocket(), new FakeSocket()];
  const leg = new RtpLeg(20000, rtpSocket as unknown as dgram.Socket, rtcpSocket as unknown as dgram.Socket, logger, strict);
  const relayed: string[] = [];
  leg.onRtp = (p) => relayed.push(`rtp:${p.subarray(12).toString()}`);
  leg.onRtcp = (p) => relayed.push(`rtcp:${p.subarray(28).toString()}`);
  return { leg, rtpSocket, rtcpSocket, relayed, lines };
}

/** Wait for pino's stream to flush (it writes asynchronously). */
const flushed = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RtpLeg with strict sources', () => {
  it('drops and counts RTP and RTCP from a stranger before and after latching; the carrier flows', async () => {
    const { leg, rtpSocket, rtcpSocket, relayed, lines } = legOn(true);
    leg.setRemote({ address: CARRIER, port: 4000, peerAddress: SIGNALLING });
    rtpSocket.deliver(rtp('ROGUE'), ROGUE, 4000); // before the call's first packet
    rtcpSocket.deliver(rtcp('ROGUE'), ROGUE, 4001);
    rtpSocket.deliver(rtp('carrier-1'), CARRIER, 4000);
    rtcpSocket.deliver(rtcp('carrier-rtcp'), CARRIER, 4001);
    for (let i = 0; i < 50; i++) rtpSocket.deliver(rtp('ROGUE', i), ROGUE, 4000 + i); // a flood during the call
    rtpSocket.deliver(rtp('ROGUE'), SIGNALLING, 4000); // expected IP, but RTP is latched already
    rtpSocket.deliver(rtp('carrier-2', 2), CARRIER, 4000);

    expect(relayed).toEqual(['rtp:carrier-1', 'rtcp:carrier-rtcp', 'rtp:carrier-2']);
    expect(leg.counters).toMatchObject({ packetsIn: 3, packetsRejected: 53 });
    expect(leg.sources).toEqual({ rtp: { address: CARRIER, port: 4000 }, rtcp: { address: CARRIER, port: 4001 } });

    leg.sendRtp(rtp('to-carrier'));
    leg.sendRtcp(rtcp('to-carrier'));
    expect(rtpSocket.sent.map((s) => `${s.address}:${s.port}`)).toEqual([`${CARRIER}:4000`]);
    expect(rtcpSocket.sent.map((s) => `${s.address}:${s.port}`)).toEqual([`${CARRIER}:4001`]);

    await flushed();
    // one info line for the first rejected source of the leg, the flood stays below info
    expect(lines.filter((l) => /strict source/.test(l.msg))).toHaveLength(1);
  });

  it('re-latches after setRemote with a new SDP only', () => {
    const { leg, rtpSocket, relayed } = legOn(true);
    leg.setRemote({ address: CARRIER, port: 4000 });
    rtpSocket.deliver(rtp('a'), CARRIER, 4000);
    rtpSocket.deliver(rtp('b'), CARRIER, 4100); // same host, new port, no new SDP: dropped
    leg.setRemote({ address: CARRIER, port: 4100 }); // e.g. a re-INVITE
    rtpSocket.deliver(rtp('c'), CARRIER, 4100);
    rtpSocket.deliver(rtp('d'), CARRIER, 4000);
    expect(relayed).toEqual(['rtp:a', 'rtp:c']);
    expect(leg.counters.packetsRejected).toBe(2);
  });

  it('strictSource false: a stranger takes the latch (the old symmetric behaviour), nothing is rejected', () => {
    const { leg, rtpSocket, relayed } = legOn(false);
    leg.setRemote({ address: CARRIER, port: 4000 });
    rtpSocket.deliver(rtp('carrier'), CARRIER, 4000);
    rtpSocket.deliver(rtp('ROGUE'), ROGUE, 6000);
    leg.sendRtp(rtp('out'));
    expect(relayed).toEqual(['rtp:carrier', 'rtp:ROGUE']);
    expect(rtpSocket.sent[0]).toMatchObject({ address: ROGUE, port: 6000 });
    expect(leg.counters.packetsRejected).toBe(0);
  });
});
