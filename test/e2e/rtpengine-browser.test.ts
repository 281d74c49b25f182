// End to end through rtpengine: real Chromium → gateway (media.engine: rtpengine) → SIP trunk → baresip,
// with a userspace rtpengine (--table=-1) started here carrying every media packet: the page's ICE,
// DTLS-SRTP (rtpengine is the DTLS server and an ICE-lite agent) and the trunk's plain RTP G.711. No
// transcoding: the gateway offers the trunk only G.711 out of the browser's offer, so the browser's
// answer/choice is PCMU end to end. Audio is checked where it arrives: the far 440 Hz tone in the page's
// remote track, the page's 1 kHz microphone decoded from the RTP rtpengine sends to baresip (tcpdump).
// Also: hold/resume (re-offers through rtpengine), an incoming call from baresip, the echo line
// (rtpengine's media-echo) and page to page (DTLS-SRTP on both of rtpengine's legs, Opus unchanged).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sdpTransform from 'sdp-transform';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { startRtpengine, type Rtpengine } from '../integration/media/rtpengine-launch.js';
import { freePort, startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { startCoturn, type CoturnHandle } from '../support/coturn.js';
import { startCapture, type Capture } from '../support/netbed/capture.js';
import { pcmuSamples, rtpPackets } from '../support/netbed/rtp.js';
import { until } from '../support/netbed/wait.js';
import { toneRatio, writeSineWav } from '../support/tone.js';
import { STEP_TIMEOUT, defaultUsers, dial, e2eConfig, hangUp, openPage, resetPage, signIn, startGateway, waitForEnded, waitForIncoming, waitForTone, withDiagnostics, type Hook } from './helpers.js';
import { FLOWING, counts, growth, requestsToFar, waitFlowing } from './midcall-rig.js';

/** This lane's loopback block (127.0.130.x): rtpengine, baresip, the gateway's SIP. */
const RTPENGINE_ADDR = '127.0.130.1';
const FAR_ADDR = '127.0.130.2';
const SIP_ADDR = '127.0.130.3';
const TURN_ADDR = '127.0.130.4';
const TURN_SECRET = 'e2e-rtpengine-turn';
const FAR_RTP = '31000-31999';
/** baresip's account (the number the page dials) and alice's DID (what baresip calls). */
const NUMBER = '5551234';
const DID = '5550001';
/** bob's extension (sip-config/gateway.yaml: alice 1001, bob 1002). */
const BOB_EXTENSION = '1002';
const MIC_HZ = 1000;
const FAR_HZ = 440;
/** Hold: the window over which the held directions are measured, and the packets that may still
 *  trickle in at its start. */
const HELD_WINDOW_MS = 1500;
const HELD_SLACK = 5;
/** One second of 20 ms G.711 packets. */
const SECOND = 50;

interface PcProbe {
  connectionState: string;
  remoteDescription: { sdp: string } | null;
  getStats(): Promise<{ forEach(cb: (s: Record<string, unknown>) => void): void }>;
}
declare const window: { softphone: Hook; rtpePcs: PcProbe[] };

/** Every RTCPeerConnection the page makes, kept for the test (the page exposes none). */
const RECORD_PEER_CONNECTIONS = `(() => {
  const Original = window.RTCPeerConnection;
  window.rtpePcs = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.rtpePcs.push(this); }
  };
})();`;

/** A page whose peer connections may use TURN relays only (RTCConfiguration iceTransportPolicy "relay"), as a
 *  browser behind a firewall that lets out nothing but TCP to the page and to TURN would end up. */
const FORCE_RELAY = `(() => {
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(config, ...rest) { super({ ...(config || {}), iceTransportPolicy: 'relay' }, ...rest); }
  };
})();`;

/** The page's current call as the browser sees it: the SDP it was given, the selected pair's ends, the
 *  codec it receives, and the DTLS/SRTP state of the transport. */
async function transportView(page: Page): Promise<{ remoteSdp: string; remote: string; local: string; codec: string; dtls: string; srtp: string }> {
  const view = await page.evaluate(async () => {
    const pc = [...window.rtpePcs].reverse().find((p) => p.connectionState !== 'closed');
    if (!pc) return null;
    const byId = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((s) => byId.set(String(s.id), s));
    const transport = [...byId.values()].find((s) => s.type === 'transport');
    const pair = byId.get(String(transport?.selectedCandidatePairId));
    const remote = byId.get(String(pair?.remoteCandidateId));
    const local = byId.get(String(pair?.localCandidateId));
    const inbound = [...byId.values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
    const codec = byId.get(String(inbound?.codecId));
    return {
      remoteSdp: pc.remoteDescription?.sdp ?? '',
      remote: remote ? `${String(remote.address ?? remote.ip)}:${String(remote.port)}` : '',
      local: local ? `${String(local.candidateType)} ${String(local.relayProtocol ?? local.protocol)}` : '',
      codec: String(codec?.mimeType ?? ''),
      dtls: String(transport?.dtlsState ?? ''),
      srtp: String(transport?.srtpCipher ?? ''),
    };
  });
  if (!view) throw new Error('the page has no open peer connection');
  return view;
}

describe('e2e: a browser call through rtpengine (media.engine: rtpengine, userspace --table=-1)', () => {
  let dir: string;
  let rtpengine: Rtpengine;
  let baresip: BaresipHandle;
  let gateway: Gateway;
  let browser: BrowserHandle;
  let page: Page;
  let capture: Capture;
  let coturn: CoturnHandle;
  let sipPort: number;
  const gatewayLog: string[] = [];
  const diagnostics = (): string =>
    ['--- gateway log (tail) ---', ...gatewayLog.slice(-60), '--- baresip ---', baresip?.output().slice(-3000) ?? '',
      '--- page console ---', ...(browser?.consoleLines.slice(-40) ?? [])].join('\n');

  const inRtpengine = (port: number): boolean => port >= rtpengine.portMin && port < rtpengine.portMin + 200;

  /** The page's 1 kHz tone in the last second of RTP that reached baresip's ports after capture index
   *  `from`; only packets rtpengine sent (its address, its port range) count. (baresip's RTP socket sends
   *  from 127.0.0.1, the kernel's source for a loopback peer, whatever its SDP says; rtpengine's
   *  endpoint learning latches that, so the destination address is not the SDP's FAR_ADDR.) */
  function farHears(from: number): { packets: number; fromRtpengine: number; ratio: number } {
    const rtp = rtpPackets(capture.packets().slice(from));
    const relayed = rtp.filter((p) => p.src === RTPENGINE_ADDR && inRtpengine(p.srcPort));
    return { packets: rtp.length, fromRtpengine: relayed.length, ratio: toneRatio(pcmuSamples(relayed.slice(-SECOND)), 8000, MIC_HZ) };
  }

  async function waitFarTone(): Promise<{ packets: number; fromRtpengine: number; ratio: number }> {
    const from = capture.packets().length;
    return until(
      `baresip to receive the page's ${MIC_HZ} Hz tone from rtpengine; last: ${JSON.stringify(farHears(from))}; captured:\n${capture.summary(8)}`,
      () => {
        const h = farHears(from);
        return h.fromRtpengine >= SECOND && h.ratio > 0.2 ? h : undefined;
      },
      STEP_TIMEOUT,
    );
  }

  /** What the page was given and chose: rtpengine's WebRTC SDP, its address as the ICE pair's far
   *  end, DTLS connected with an SRTP cipher, PCMU received. */
  async function expectThroughRtpengine(on: Page = page, codec = 'audio/PCMU'): Promise<void> {
    const view = await transportView(on);
    const sdp = sdpTransform.parse(view.remoteSdp);
    const audio = sdp.media[0]!;
    expect(audio.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(sdp.fingerprint ?? audio.fingerprint).toBeDefined();
    expect(inRtpengine(audio.port), `m= port ${audio.port}`).toBe(true);
    expect(view.remote.split(':')[0]).toBe(RTPENGINE_ADDR);
    expect(inRtpengine(Number(view.remote.split(':')[1])), `selected pair ${view.remote}`).toBe(true);
    expect(view.dtls).toBe('connected');
    expect(view.srtp).not.toBe('');
    expect(view.codec).toBe(codec);
  }

  /** Hold from the page: a re-offer through rtpengine; baresip answers recvonly and stops sending, the
   *  page's sendonly stream still arrives; Resume brings audio back both ways. */
  async function holdAndResume(): Promise<void> {
    await page.getByRole('button', { name: 'Hold', exact: true }).click();
    await page.waitForFunction(() => window.softphone.holdState() === 'held', null, { timeout: STEP_TIMEOUT });
    await vi.waitFor(async () => expect((await baresip.liveAudio()).dir).toBe('recvonly'), { timeout: STEP_TIMEOUT, interval: 200 });
    const held0 = await counts(page, baresip);
    await new Promise((resolve) => setTimeout(resolve, HELD_WINDOW_MS)); // the measurement window itself
    const held = growth(await counts(page, baresip), held0);
    expect(held.pageReceived, `held: ${JSON.stringify(held)}`).toBeLessThanOrEqual(HELD_SLACK);
    expect(held.farSent, `held: ${JSON.stringify(held)}`).toBeLessThanOrEqual(HELD_SLACK);
    // sendonly from the page: its (muted) stream still reaches baresip through rtpengine.
    expect(held.farReceived, `held: ${JSON.stringify(held)}`).toBeGreaterThanOrEqual(HELD_WINDOW_MS / 20 / 2);
    const beforeResume = await counts(page, baresip);
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.waitForFunction(() => window.softphone.holdState() === 'active', null, { timeout: STEP_TIMEOUT });
    await vi.waitFor(async () => expect((await baresip.liveAudio()).dir).toBe('sendrecv'), { timeout: STEP_TIMEOUT, interval: 200 });
    await waitFlowing(page, baresip, beforeResume, FLOWING);
    await waitForTone(page, FAR_HZ, 3300);
    await waitFarTone();
  }

  /** An ICE restart from the page (what it does after a network change): answered by the gateway alone
   *  through rtpengine (a re-offer, the trunk's last SDP replayed), with new ICE credentials from rtpengine. */
  async function restartIce(): Promise<void> {
    const ufrag = (sdp: string): string => String(sdpTransform.parse(sdp).media[0]?.iceUfrag ?? '');
    const before = ufrag((await transportView(page)).remoteSdp);
    const beforeRestart = await counts(page, baresip);
    const farOutput = baresip.output().length;
    expect(await page.evaluate(() => window.softphone.restartIce())).toBe(true);
    const after = ufrag((await transportView(page)).remoteSdp);
    expect(after).not.toBe('');
    expect(after, 'rtpengine answered the restart with new ICE credentials').not.toBe(before);
    await waitFlowing(page, baresip, beforeRestart, FLOWING);
    await expectThroughRtpengine();
    await waitFarTone();
    expect(requestsToFar(baresip, farOutput), 'the trunk leg got no request').toEqual([]);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-rtpengine-'));
    const farTone = writeSineWav({ freqHz: FAR_HZ, seconds: 120, sampleRate: 8000, amplitude: 0.5 }, dir);
    const micTone = writeSineWav({ freqHz: MIC_HZ, seconds: 60, sampleRate: 48000, amplitude: 0.5 }, dir);
    rtpengine = await startRtpengine({ address: RTPENGINE_ADDR });
    baresip = await startBaresip({ sourceWav: farTone, user: NUMBER, displayName: 'Far Phone', address: FAR_ADDR, rtpPorts: [31000, 31999] });
    // The example configuration denies loopback peers: rtpengine is one here.
    coturn = await startCoturn({ secret: TURN_SECRET, address: TURN_ADDR, relayPorts: '46200-46299', extraLines: ['allow-loopback-peers'] });
    sipPort = await freePort();
    const base = await e2eConfig();
    const config = await e2eConfig({
      sip: { ...base.sip, listen: [`udp:${SIP_ADDR}:${sipPort}`] },
      media: { ...base.media, engine: 'rtpengine', rtpengine: `${RTPENGINE_ADDR}:${rtpengine.ngPort}` },
      users: defaultUsers({ alice: [DID] }),
      trunks: [{ name: 'far', uri: `${baresip.trunkUri};transport=udp`, keepalive: false }],
      routes: [{ match: '^(\\*43|echo)$', echo: true }, { match: '^[0-9]{3,15}$', trunk: 'far' }],
      // TCP only: the relayed page of the last case reaches coturn as through a UDP-blocking firewall.
      turn: { urls: [`turn:${TURN_ADDR}:${coturn.port}?transport=tcp`], secret: TURN_SECRET, ttl: 600 },
    });
    gateway = await startGateway(config, gatewayLog);
    capture = await startCapture('', join(dir, 'far.pcap'), `udp and dst portrange ${FAR_RTP}`);
    browser = await launchBrowser({ fakeAudioWav: micTone });
    await browser.context.addInitScript(RECORD_PEER_CONNECTIONS);
    page = browser.page;
    await openPage(page, gateway.httpUrl);
    await signIn(page, 'alice', 'alice');
  });

  afterEach(async () => {
    if (page && !page.isClosed()) await resetPage(page).catch(() => undefined);
  });

  afterAll(async () => {
    const steps: Array<() => unknown> = [() => capture?.stop(), () => browser?.close(), () => gateway?.stop(), () => baresip?.stop(), () => rtpengine?.stop(), () => coturn?.stop()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('page → baresip: DTLS-SRTP to the page and RTP/AVP to baresip, both in rtpengine; tones each way; keypad digit; hold, resume, ICE restart', async () => {
    await withDiagnostics(diagnostics, async () => {
      const from = baresip.events.length;
      const outputAt = baresip.output().length;
      expect(await dial(page, NUMBER)).toBe('in-call');
      await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
      await waitFlowing(page, baresip);
      await expectThroughRtpengine();

      // The trunk's offer is rtpengine's plain RTP/AVP, G.711 only (from baresip's SIP trace).
      const invite = /INVITE sip:[\s\S]*?\r?\n\r?\n(v=0[\s\S]*?)(?:\r?\n\r?\n|$)/.exec(baresip.output().slice(outputAt))?.[1] ?? '';
      const offer = sdpTransform.parse(invite.replace(/\r?\n/g, '\r\n'));
      expect(offer.media[0]?.protocol).toBe('RTP/AVP');
      expect(offer.connection?.ip ?? offer.media[0]?.connection?.ip).toBe(RTPENGINE_ADDR);
      expect(offer.media[0]!.rtp.map((r) => r.codec).sort()).toEqual(['PCMA', 'PCMU', 'telephone-event']);

      await waitForTone(page, FAR_HZ, 3300);
      const heard = await waitFarTone();
      expect(heard.ratio).toBeGreaterThan(0.2);
      // Everything baresip received came out of rtpengine (nothing straight from the page or gateway).
      expect(heard.packets).toBe(heard.fromRtpengine);

      // The keypad's RFC 4733 events pass through rtpengine to baresip (payload type as negotiated).
      await page.getByRole('button', { name: 'Keypad', exact: true }).click();
      await page.click('#keypad button[data-key="5"]');
      await baresip.waitForOutput(/received event: '5'/, STEP_TIMEOUT);

      await holdAndResume();
      await restartIce();

      expect(await hangUp(page)).toBe('Hung up');
      await baresip.waitForEvent('CALL_CLOSED', { from });
      await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
    });
  });

  it('baresip → page: the page rings, accepts, and audio flows both ways through rtpengine; the far end hangs up', async () => {
    await withDiagnostics(diagnostics, async () => {
      const from = baresip.events.length;
      await baresip.dial(`sip:${DID}@${SIP_ADDR}:${sipPort}`);
      const ring = await waitForIncoming(page);
      expect(ring.from).toBe(NUMBER);
      await page.click('#accept-btn');
      await page.waitForFunction(() => window.softphone.callState() === 'in-call', null, { timeout: STEP_TIMEOUT });
      await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
      await waitFlowing(page, baresip);
      await expectThroughRtpengine();
      await waitForTone(page, FAR_HZ, 3300);
      const heard = await waitFarTone();
      expect(heard.packets).toBe(heard.fromRtpengine);

      await baresip.hangup();
      expect(await waitForEnded(page)).toBe('Remote party hung up');
      await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
    });
  });

  it('the echo line (*43): rtpengine answers with media-echo and the page hears its own 1 kHz microphone', async () => {
    await withDiagnostics(diagnostics, async () => {
      expect(await dial(page, '*43')).toBe('in-call');
      // The page's own tone is the only 1 kHz source: it came back through rtpengine.
      const heard = await waitForTone(page, MIC_HZ, 3300);
      expect(heard.level).toBeGreaterThan(5 * heard.other);
      await expectThroughRtpengine(page, 'audio/opus');
      expect(await hangUp(page)).toBe('Hung up');
      await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
    });
  });

  it('page to page (alice → bob): DTLS-SRTP on both legs of rtpengine, Opus passed through unchanged, audio both ways', async () => {
    await withDiagnostics(diagnostics, async () => {
      const bob = await browser.newPage();
      try {
        await openPage(bob, gateway.httpUrl);
        await signIn(bob, 'bob', 'bob');
        expect(await dial(page, BOB_EXTENSION, 'ringing')).toBe('ringing');
        await waitForIncoming(bob);
        await bob.click('#accept-btn');
        for (const p of [page, bob]) await p.waitForFunction(() => window.softphone.callState() === 'in-call', null, { timeout: STEP_TIMEOUT });
        for (const p of [page, bob]) {
          // Each page's only 1 kHz source is the other page (one browser: one fake microphone).
          await waitForTone(p, MIC_HZ, 3300);
          await expectThroughRtpengine(p, 'audio/opus');
        }
        expect(await hangUp(page)).toBe('Hung up');
        expect(await waitForEnded(bob)).toBe('Remote party hung up');
        await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
      } finally {
        await bob.close();
      }
    });
  });

  it('a page limited to TURN relays over TCP (no ICE-TCP with rtpengine) reaches rtpengine through coturn: audio both ways', async () => {
    await withDiagnostics(diagnostics, async () => {
      const relayed = await browser.newPage();
      try {
        await relayed.addInitScript(FORCE_RELAY);
        await openPage(relayed, gateway.httpUrl);
        await signIn(relayed, 'bob', 'bob');
        const from = baresip.events.length;
        expect(await dial(relayed, NUMBER)).toBe('in-call');
        await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
        await waitFlowing(relayed, baresip);
        await waitForTone(relayed, FAR_HZ, 3300);
        const heard = await waitFarTone();
        expect(heard.packets).toBe(heard.fromRtpengine);
        // The browser's end of the selected pair is its TCP relay on coturn; the far end is still rtpengine.
        expect((await transportView(relayed)).local).toBe('relay tcp');
        await expectThroughRtpengine(relayed);
        expect(coturn.log()).toMatch(/tcp or tls connected to: /);
        expect(await hangUp(relayed)).toBe('Hung up');
        await baresip.waitForEvent('CALL_CLOSED', { from });
        await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
      } finally {
        await relayed.close();
      }
    });
  });
});
