// Per-leg quality with a browser leg (embedded engine, media.rtcp: generate): a werift peer plays the
// browser (ICE + DTLS-SRTP, SRTCP), a UDP socket the trunk. The browser's sender skips 5 % of its sequence
// numbers (seeded): the gateway's figures for the browser leg show it and the trunk leg none; the gateway's
// own receiver reports reach the browser through SRTCP (werift reads its loss and round trip from them);
// the browser's receiver reports, unprotected by the gateway, give the browser leg's round trip and out figures.
import * as sdpTransform from 'sdp-transform';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket } from 'werift';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine } from '../../../gateway/media/index.js';
import { rng } from '../../support/rng.js';
import { frame, loopbackPc, offerOf, rtpPacket, startStunRefuser, startTrunk, until, waitConnected } from './peers.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
});

function trunkAnswer(port: number): string {
  return ['v=0', 'o=trunk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

describe('per-leg quality with a browser leg (SRTP/SRTCP)', () => {
  it('5 % skipped by the browser: ~5 % on its leg, 0 on the trunk leg; RRs both ways through SRTCP give loss and round trip', async () => {
    const stun = await startStunRefuser();
    const trunk = await startTrunk();
    const from = 42000 + 4 * Math.floor(Math.random() * 1000);
    const engine = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 3 }, logger: createLogger('silent'), rtcp: 'generate', rtcpMinIntervalMs: 1000 });
    const pc = loopbackPc(stun.port);
    closers.push(() => stun.close(), () => trunk.close(), () => engine.close(), () => pc.close());
    const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    const toTrunk = await engine.offer({ callId: 'w', fromTag: 'browser', sdp: await offerOf(pc), toProfile: 'rtp' });
    const trunkPort = sdpTransform.parse(toTrunk.sdp).media[0]!.port;
    await pc.setRemoteDescription({ type: 'answer', sdp: (await engine.answer({ callId: 'w', fromTag: 'browser', toTag: 'trunk', sdp: trunkAnswer(trunk.port) })).sdp });
    await waitConnected(pc);

    const N = 400;
    const random = rng(121);
    const skipped = new Set<number>();
    for (let block = 0; block < N / 20; block++) skipped.add(block * 20 + 3 + Math.floor(random() * 16));
    const sender = transceiver.sender as unknown as { ssrc: number; sendRtp(p: RtpPacket): Promise<void>; remotePacketsLost?: number; rtt?: number };
    let n = 0;
    const timer = setInterval(() => {
      for (let k = 0; k < 2 && n < N; k++, n++) {
        trunk.socket.send(rtpPacket(n, frame(n), 0x5eed).serialize(), trunkPort, '127.0.0.1');
        if (!skipped.has(n)) void sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: 1000 + n, timestamp: n * 160, ssrc: sender.ssrc }), frame(n)));
      }
    }, 10);
    closers.push(async () => clearInterval(timer));
    await until(() => n >= N, 10_000, 'all packets sent');

    const leg = async (tag: string) => (await engine.quality('w'))!.legs.find((l) => l.tag === tag)!;
    await until(() => sender.remotePacketsLost === skipped.size, 8000, `the gateway's RR at the browser saying ${skipped.size} lost`);
    const browser = await leg('browser');
    expect(browser.in.lost).toBe(skipped.size);
    expect(Math.abs(browser.in.lossPercent! - 5)).toBeLessThanOrEqual(1);
    expect((await leg('trunk')).in).toMatchObject({ packets: N, lost: 0, lossPercent: 0 });
    // the browser's RRs (SRTCP, unprotected by the leg) answer the gateway's SRs: round trip and out figures
    let b = browser;
    for (const end = Date.now() + 8000; (b.rttMs === null || b.out.lost === null) && Date.now() < end; b = await leg('browser')) await new Promise((r) => setTimeout(r, 50));
    expect(b.rtcpIn).toBeGreaterThan(0);
    expect(b.rtcpErrors).toBe(0);
    expect(b.rttMs!).toBeGreaterThanOrEqual(0);
    expect(b.rttMs!).toBeLessThan(250);
    expect(b.out).toMatchObject({ lost: 0, lossPercent: 0 });
    expect(b.out.packets).toBe(N);
    // and werift took a round trip from the gateway's RR (its LSR names werift's own SR)
    await until(() => sender.rtt !== undefined, 8000, 'werift\'s round trip from the gateway\'s RR');
  });
});
