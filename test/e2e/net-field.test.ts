// End to end on the network test bed (issue 6, "What must be shown"): the gateway runs as a process in a
// data-centre namespace (192.0.2.10, bound to 0.0.0.0) behind 1:1 NAT as 203.0.113.10 and advertises that;
// Chromium runs in a home namespace behind a masquerading router; baresip is the carrier on the internet
// segment (440 Hz tone), coturn the TURN server, and a rogue host sprays RTP. The carrier's own capture
// is the witness: what reached it, from where, and what did not. Peers are started once for every case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { startCoturn, type CoturnHandle } from '../support/coturn.js';
import type { NetBed } from '../support/netbed/bed.js';
import type { Capture } from '../support/netbed/capture.js';
import { FIELD, createField } from '../support/netbed/field.js';
import { startGatewayProcess, type GatewayProcess } from '../support/netbed/gateway.js';
import { allowOnlyTo } from '../support/netbed/nft.js';
import type { Packet } from '../support/netbed/pcap.js';
import { pcmuSamples, roguePayload, rtpPackets, sprayRtp } from '../support/netbed/rtp.js';
import { until } from '../support/netbed/wait.js';
import { recordPeerConnections, selectedPair } from '../support/netbed/webrtc.js';
import { toneRatio, writeSineWav } from '../support/tone.js';
import { STEP_TIMEOUT, dial, hangUp, openPage, resetPage, signIn, waitForEnded, waitForIncoming, waitForPackets, waitForTone } from './helpers.js';

const HTTP_PORT = 8080;
const PAGE_URL = `http://${FIELD.gatewayPublic}:${HTTP_PORT}`;
const MEDIA_PORTS: [number, number] = [40000, 40039]; // small: the rogue sprays all of it
const NUMBER = '5551234'; // routed to the carrier; baresip's account user (it answers this Request-URI)
const DID = '5550001'; // alice's DID: the carrier calls it
const FAR_HZ = 440; // baresip's tone
const MIC_HZ = 1000; // the page's fake microphone
const ROGUE_HZ = 2900; // the rogue's tone: clear of 440 Hz harmonics (2640, 3080) and of 1000 Hz
const MARKER = 'ROGUE-RTP-BLEED!';
const TURN_SECRET = 'netbed-field-turn-secret';

function gatewayConfig(): Record<string, unknown> {
  return {
    http: { listen: `0.0.0.0:${HTTP_PORT}`, advertise: FIELD.gatewayPublic },
    sip: { listen: ['udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060'], advertise: FIELD.gatewayPublic },
    media: { address: '0.0.0.0', advertiseAddress: FIELD.gatewayPublic, rtpPorts: `${MEDIA_PORTS[0]}-${MEDIA_PORTS[1]}` },
    users: [
      { name: 'alice', password: 'alice', callerId: '+15550100001', extension: '1001', dids: [DID] },
      { name: 'bob', password: 'bob', callerId: '+15550100002', extension: '1002' },
    ],
    trunks: [{ name: 'carrier', uri: `sip:${FIELD.carrier}:5060;transport=udp` }],
    routes: [{ match: '^[0-9]{3,15}$', trunk: 'carrier' }],
    turn: { urls: [`turn:${FIELD.turn}:3478?transport=udp`, `turn:${FIELD.turn}:3478?transport=tcp`], secret: TURN_SECRET, ttl: 3600 },
    // The demo passwords on a 0.0.0.0 listen are refused unless allowed (README "Security").
    security: { allowDemoUsers: true },
    log: { level: 'info' },
  };
}

/** SIP between the carrier and the gateway (UDP 5060), as text, from capture index `from` on. */
function sipTexts(packets: readonly Packet[]): Array<{ from: string; to: string; text: string }> {
  return packets
    .filter((p) => p.proto === 'udp' && (p.srcPort === 5060 || p.dstPort === 5060) && p.payload.length > 0)
    .map((p) => ({ from: p.src, to: p.dst, text: p.payload.toString('latin1') }));
}

/** The page's tone levels at FAR_HZ and ROGUE_HZ, sampled every 100 ms until `work` settles. */
async function toneLevelsWhile<T>(page: Page, work: Promise<T>): Promise<{ result: T; levels: Array<{ far: number; rogue: number }> }> {
  const levels: Array<{ far: number; rogue: number }> = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      levels.push(await page.evaluate((f) => ({ far: window.softphone.remoteToneLevel(f[0]!), rogue: window.softphone.remoteToneLevel(f[1]!) }), [FAR_HZ, ROGUE_HZ]));
      await new Promise((r) => setTimeout(r, 100)); // sampling interval
    }
  })();
  try {
    return { result: await work, levels };
  } finally {
    done = true;
    await sampler;
  }
}

/**
 * SIP messages that leak the private address (anywhere: the carrier's replies echo the gateway's
 * headers) or put 0.0.0.0 on the wire (in what the gateway sent; baresip's own X-RTP-Stat names its
 * 0.0.0.0 RTP bind, which is not ours to judge).
 */
function badAddresses(sip: ReturnType<typeof sipTexts>): string[] {
  return sip
    .filter((m) => m.text.includes('192.0.2.') || (m.from === FIELD.gatewayPublic && m.text.includes('0.0.0.0')))
    .map((m) => m.text);
}

describe('e2e on the network test bed: browser behind NAT ⇄ gateway behind 1:1 NAT ⇄ carrier', () => {
  let dir: string;
  let bed: NetBed;
  let carrierCap: Capture;
  let baresip: BaresipHandle;
  let turn: CoturnHandle;
  let gateway: GatewayProcess;
  let browser: BrowserHandle;
  let page: Page;

  /** Failure context: what each peer said, and what the carrier saw. */
  function diagnostics(): string {
    return [
      gateway?.logTail(4000) ?? '(gateway not started)',
      // Without baresip's once-a-tick "[0:00:01] audio=…" progress lines.
      `--- baresip\n${baresip?.output().replace(/\[\d+:\d\d:\d\d\] audio=\S+ \(bit\/s\)\s*/g, '').slice(-3000) ?? '(not started)'}`,
      `--- page console\n${browser?.consoleLines.slice(-40).join('\n') ?? '(no browser)'}`,
      `--- coturn log\n${turn?.log().slice(-2000) ?? '(not started)'}`,
      `--- carrier capture (${carrierCap?.packets().length ?? 0} packets)\n${carrierCap?.summary(30) ?? ''}`,
    ].join('\n');
  }

  async function explained(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      (err as Error).message += `\n${diagnostics()}`;
      throw err;
    }
  }

  /** Waits until the carrier has ≥ min RTP packets from the gateway's public address since capture index `from`. */
  function carrierRtp(from: number, min: number): Promise<Packet[]> {
    return until(
      `${min} RTP packets from ${FIELD.gatewayPublic} at the carrier`,
      () => {
        const rtp = rtpPackets(carrierCap.packets().slice(from), FIELD.gatewayPublic, FIELD.carrier);
        return rtp.length >= min ? rtp : undefined;
      },
      STEP_TIMEOUT,
    );
  }

  /** The browser's tone, measured on the audio the carrier really received (the last second of it). */
  function expectMicToneAtCarrier(rtp: Packet[]): void {
    const samples = pcmuSamples(rtp.slice(-50));
    const mic = toneRatio(samples, 8000, MIC_HZ);
    const other = toneRatio(samples, 8000, FAR_HZ);
    expect(mic, `${MIC_HZ} Hz at the carrier (vs ${other.toFixed(3)} at ${FAR_HZ} Hz)`).toBeGreaterThan(0.2);
    expect(mic).toBeGreaterThan(5 * other);
  }

  /** Where each witness stands before a call: capture index, baresip event and call-stats counts. */
  function marks(): { from: number; ev: number; callIndex: number } {
    return { from: carrierCap.packets().length, ev: baresip.events.length, callIndex: baresip.callStats.length };
  }

  /** The page calls the carrier; resolves once both ends have the call up. */
  async function callCarrier(): Promise<ReturnType<typeof marks>> {
    const m = marks();
    expect(await dial(page, NUMBER)).toBe('in-call');
    await baresip.waitForEvent('CALL_ESTABLISHED', { from: m.ev });
    return m;
  }

  /** ≥ 100 RTP packets each way (page's getStats, carrier's capture) and each side's tone heard by the other. */
  async function expectAudioBothWays(from: number): Promise<void> {
    const stats = await waitForPackets(page, 100);
    expect(stats.packetsSent).toBeGreaterThanOrEqual(100);
    const heard = await waitForTone(page, FAR_HZ, 3300);
    expect(heard.level).toBeGreaterThan(5 * heard.other);
    expectMicToneAtCarrier(await carrierRtp(from, 100));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-net-field-'));
    const farTone = writeSineWav({ freqHz: FAR_HZ, seconds: 120, sampleRate: 8000, amplitude: 0.5 }, dir);
    const micTone = writeSineWav({ freqHz: MIC_HZ, seconds: 30, sampleRate: 48000, amplitude: 0.5 }, dir);
    bed = await createField();
    carrierCap = await bed.capture('carrier', '(udp or tcp) and not net 127.0.0.0/8');
    baresip = await startBaresip({ sourceWav: farTone, user: NUMBER, address: FIELD.carrier, netns: bed.ns('carrier'), sipPort: 5060, rtpPorts: [31000, 31099] });
    turn = await startCoturn({ secret: TURN_SECRET, address: FIELD.turn, port: 3478, relayPorts: '49152-49199', netns: bed.ns('turn') });
    gateway = await startGatewayProcess(bed, 'gateway', gatewayConfig(), HTTP_PORT);
    browser = await launchBrowser({
      fakeAudioWav: micTone,
      netns: bed.ns('browser'),
      // getUserMedia needs a secure context: plain http on a public address is one only by this switch.
      args: [`--unsafely-treat-insecure-origin-as-secure=${PAGE_URL}`],
    });
    page = browser.page;
    await recordPeerConnections(page);
    await explained(async () => {
      await openPage(page, `${PAGE_URL}/`);
      await signIn(page, 'alice', 'alice');
    });
  });

  afterEach(async () => {
    if (page) await resetPage(page).catch(() => undefined);
  });

  afterAll(async () => {
    // Each step runs even when an earlier one throws; bed.close() deletes every namespace regardless.
    const steps: Array<() => Promise<unknown> | undefined> = [() => browser?.close(), () => gateway?.stop(), () => baresip?.stop(), () => turn?.stop(), () => bed?.close()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('outbound: ≥ 100 packets and the far tone each way; SIP at the carrier carries only public addresses; the carrier’s BYE ends the call', () =>
    explained(async () => {
      const { from, callIndex } = await callCarrier();
      await expectAudioBothWays(from);

      await baresip.hangup();
      const ended = await waitForEnded(page).catch((err: Error) => {
        throw new Error(`the carrier's BYE did not end the page's call: ${err.message}`);
      });
      expect(ended).toBe('Remote party hung up');
      const far = await baresip.waitForCallStats(callIndex);
      expect(far.rxPackets).toBeGreaterThanOrEqual(100);
      expect(far.txPackets).toBeGreaterThanOrEqual(100);

      const sip = sipTexts(carrierCap.packets().slice(from));
      const invite = sip.find((m) => m.text.startsWith(`INVITE sip:${NUMBER}@${FIELD.carrier}`));
      expect(invite, 'INVITE at the carrier').toBeDefined();
      expect(invite!.from).toBe(FIELD.gatewayPublic);
      expect(invite!.text).toMatch(new RegExp(`^Via: SIP/2\\.0/UDP ${FIELD.gatewayPublic.replace(/\./g, '\\.')}:5060`, 'mi'));
      expect(invite!.text).toMatch(new RegExp(`^Contact:.*@${FIELD.gatewayPublic.replace(/\./g, '\\.')}:5060`, 'mi'));
      expect(invite!.text).toContain(`c=IN IP4 ${FIELD.gatewayPublic}`);
      const bye = sip.find((m) => m.text.startsWith('BYE ') && m.from === FIELD.carrier);
      expect(bye, 'the carrier’s BYE').toBeDefined();
      expect(bye!.to).toBe(FIELD.gatewayPublic);
      expect(sip.some((m) => m.from === FIELD.gatewayPublic && /^SIP\/2\.0 200 /.test(m.text) && /^CSeq:\s*\d+ BYE/im.test(m.text))).toBe(true);
      expect(badAddresses(sip)).toEqual([]);
    }));

  it('inbound: the carrier dials the DID, the page rings and answers; audio both ways', () =>
    explained(async () => {
      const { from, ev, callIndex } = marks();
      await baresip.dial(`sip:${DID}@${FIELD.gatewayPublic}:5060`);
      const ring = await waitForIncoming(page);
      expect(ring.from).toBe(NUMBER);
      await page.click('#accept-btn');
      await page.waitForFunction(() => window.softphone.callState() === 'in-call', null, { timeout: STEP_TIMEOUT });
      await baresip.waitForEvent('CALL_ESTABLISHED', { from: ev });
      await expectAudioBothWays(from);

      expect(await hangUp(page)).toBe('Hung up');
      await baresip.waitForEvent('CALL_CLOSED', { from: ev });
      expect((await baresip.waitForCallStats(callIndex)).rxPackets).toBeGreaterThanOrEqual(100);
      const sip = sipTexts(carrierCap.packets().slice(from));
      const ok = sip.find((m) => m.from === FIELD.gatewayPublic && /^SIP\/2\.0 200 /.test(m.text) && /^CSeq:\s*\d+ INVITE/im.test(m.text));
      expect(ok, 'the gateway’s 200 OK to the INVITE').toBeDefined();
      expect(ok!.text).toContain(`c=IN IP4 ${FIELD.gatewayPublic}`);
      expect(sip.some((m) => m.from === FIELD.gatewayPublic && m.text.startsWith('BYE '))).toBe(true);
      expect(badAddresses(sip)).toEqual([]);
    }));

  it('RTP Bleed: RTP sprayed at every media port mid-call reaches neither the carrier nor the page, and the call goes on', () =>
    explained(async () => {
      await callCarrier();
      await waitForTone(page, FAR_HZ, ROGUE_HZ);
      const before = await waitForPackets(page, 50);
      const rogueCap = await bed.capture('rogue', 'udp');
      // The witness at the carrier for this call: everything the gateway sends it from now on.
      const toCarrier = await bed.capture('carrier', `udp and src host ${FIELD.gatewayPublic}`);
      const arrivals = await bed.capture('gateway', `udp and src host ${FIELD.rogue}`);

      // While the rogue sends, sample what the page hears.
      const ports = MEDIA_PORTS[1] - MEDIA_PORTS[0] + 1;
      const spray = sprayRtp(bed, 'rogue', FIELD.gatewayPublic, MEDIA_PORTS, roguePayload(MARKER, ROGUE_HZ), { rounds: 40, gapMs: 50 });
      const { result: sent, levels } = await toneLevelsWhile(page, spray);
      expect(sent).toBe(40 * ports);
      // The spray did arrive at the gateway's host (after the 1:1 NAT), on every port of its media range.
      // (At least 90 % of it: on 2 busy cores the kernel or tcpdump may lose a few of a 1,600-packet burst;
      // what matters is that every port was hit, many times.)
      const portsHit = (ps: readonly Packet[]): number => new Set(ps.map((p) => `${p.dst}:${p.dstPort}`)).size;
      const enough = (ps: readonly Packet[]): boolean => ps.length >= sent * 0.9 && portsHit(ps) === ports;
      const arrived = await until(`the rogue's ${sent} packets at the gateway`, () => (enough(arrivals.packets()) ? arrivals.packets() : undefined), 10_000).catch(
        (err: Error) => {
          throw new Error(`${err.message}: ${arrivals.packets().length} arrived\n${arrivals.summary(10)}`);
        },
      );
      await arrivals.stop();
      expect(portsHit(arrived)).toBe(ports);
      expect(arrived.every((p) => p.dst === FIELD.gatewayPrivate)).toBe(true);

      // The call goes on: ≥ 100 more packets each way after the spray, the far tone still heard, the mic
      // still at the carrier.
      const sprayed = { page: await waitForPackets(page, 0), carrier: carrierCap.packets().length };
      expect(sprayed.page.packetsReceived).toBeGreaterThan(before.packetsReceived);
      await waitForPackets(page, sprayed.page.packetsReceived + 100);
      const after = await waitForTone(page, FAR_HZ, ROGUE_HZ);
      expect(after.level).toBeGreaterThan(5 * after.other);
      expectMicToneAtCarrier(await carrierRtp(sprayed.carrier, 100));
      // Nothing of the rogue's reached the carrier, the page heard no rogue tone, and no media leaked to the rogue.
      const marker = Buffer.from(MARKER, 'ascii');
      const atCarrier = await toCarrier.stop();
      expect(toCarrier.dropped(), 'packets the carrier capture missed').toBe(0);
      expect(rtpPackets(atCarrier).length).toBeGreaterThanOrEqual(150); // ~2 s of spray + the 100 after
      expect(atCarrier.filter((p) => p.payload.includes(marker)), 'packets carrying the rogue marker at the carrier').toEqual([]);
      expect(levels.length).toBeGreaterThan(5);
      const loudest = Math.max(...levels.map((l) => l.rogue));
      expect(loudest, `rogue tone level during the spray: ${JSON.stringify(levels)}`).toBeLessThan(5);
      const atRogue = await rogueCap.stop();
      expect(rogueCap.dropped(), 'packets the rogue capture missed').toBe(0);
      expect(atRogue.filter((p) => p.src === FIELD.rogue).length, 'the rogue capture saw the spray').toBe(sent);
      expect(atRogue.filter((p) => p.src === FIELD.gatewayPublic), 'packets from the gateway to the rogue').toEqual([]);
      expect(await hangUp(page)).toBe('Hung up');
    }));

  it('TURN over TCP: behind a firewall that lets out only TCP to the page and to TURN, the call connects through a TCP relay with audio both ways', () =>
    explained(async () => {
      // No UDP at all, and no TCP to the gateway's media ports (so no ICE-TCP either): only TURN over TCP is left.
      const lift = await bed.firewall('homerouter', allowOnlyTo(`tcp:${FIELD.gatewayPublic}:${HTTP_PORT}`, `tcp:${FIELD.turn}:3478`));
      try {
        const { from } = await callCarrier();
        await expectAudioBothWays(from);
        const pair = await until('a selected candidate pair', () => selectedPair(page).then((p) => p ?? undefined), STEP_TIMEOUT);
        expect(pair.local).toMatchObject({ candidateType: 'relay', relayProtocol: 'tcp', address: FIELD.turn });
        expect(pair.remote).toMatchObject({ address: FIELD.gatewayPublic, protocol: 'udp' });
        expect(await hangUp(page)).toBe('Hung up');
      } finally {
        await lift();
      }
    }));
});

declare const window: { softphone: { callState(): string; remoteToneLevel(freqHz: number): number } };
