// End to end on the network test bed: ICE-TCP (RFC 6544). Chromium in the home namespace, behind a
// masquerading router that drops every UDP packet, no TURN configured; the gateway runs as a process
// bound to 0.0.0.0 behind the data centre's 1:1 NAT, advertising 203.0.113.10. The page calls the echo
// line (*43): with media.iceTcp (the default) Chromium's active TCP candidate reaches the gateway's
// passive one, the selected pair is TCP host ⇄ host, and the page hears its own tone. The control:
// the same call to a gateway with media.iceTcp false fails ICE within a bounded wait.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import type { NetBed } from '../support/netbed/bed.js';
import { FIELD, createField } from '../support/netbed/field.js';
import { startGatewayProcess, type GatewayProcess } from '../support/netbed/gateway.js';
import { dropUdpExcept } from '../support/netbed/nft.js';
import { until } from '../support/netbed/wait.js';
import { recordPeerConnections, selectedPair } from '../support/netbed/webrtc.js';
import { writeSineWav } from '../support/tone.js';
import { STEP_TIMEOUT, dial, hangUp, openPage, resetPage, signIn, waitForPackets, waitForTone, withDiagnostics } from './helpers.js';

/** One HTTP port per gateway process of this file (the bed keeps each port's relay to the test). */
const HTTP_PORTS = { iceTcp: 8080, udpOnly: 8081 } as const;
const pageUrl = (port: number) => `http://${FIELD.gatewayPublic}:${port}`;
const MEDIA_PORTS = [40000, 40019] as const;
const MIC_HZ = 1000;
/** Chromium's connectionState turns 'failed' once its checks time out (seen: 15-20 s after dialling);
 *  a working path connects in a second or two. */
const ICE_FAIL_WAIT = 60_000;

function gatewayConfig(iceTcp: boolean | undefined, httpPort: number): Record<string, unknown> {
  return {
    http: { listen: `0.0.0.0:${httpPort}`, advertise: FIELD.gatewayPublic },
    sip: { listen: ['udp:0.0.0.0:5060'], advertise: FIELD.gatewayPublic },
    media: { address: '0.0.0.0', advertiseAddress: FIELD.gatewayPublic, rtpPorts: `${MEDIA_PORTS[0]}-${MEDIA_PORTS[1]}`, ...(iceTcp === undefined ? {} : { iceTcp }) },
    users: [{ name: 'alice', password: 'alice', callerId: '+15550100001', extension: '1001' }],
    routes: [{ match: '^\\*43$', echo: true }],
    // No turn section: the page gets no ICE servers, so TURN cannot be what connects.
    // The demo passwords on a 0.0.0.0 listen are refused unless allowed (README "Security").
    security: { allowDemoUsers: true },
    log: { level: 'info' },
  };
}

// The page's RTCPeerConnections as recordPeerConnections() keeps them (no DOM lib in this project).
declare const window: { __netbedPcs?: Array<{ connectionState: string; remoteDescription: { sdp: string } | null }>; softphone: { remoteStats(): Promise<{ packetsReceived: number }> } };

describe('e2e on the network test bed: ICE-TCP through a home network that drops all UDP', () => {
  let dir: string;
  let bed: NetBed;
  let browser: BrowserHandle;
  let page: Page;
  let gateway: GatewayProcess | undefined;

  function diagnostics(): string {
    return [gateway?.logTail(4000) ?? '(no gateway)', `--- page console\n${browser?.consoleLines.slice(-40).join('\n') ?? '(no browser)'}`].join('\n');
  }

  /** A gateway process with `iceTcp` (undefined: the default), and the page signed in to it. */
  async function startAndSignIn(iceTcp: boolean | undefined, httpPort: number): Promise<GatewayProcess> {
    gateway = await startGatewayProcess(bed, 'gateway', gatewayConfig(iceTcp, httpPort), httpPort);
    await openPage(page, `${pageUrl(httpPort)}/`);
    await signIn(page, 'alice', 'alice');
    return gateway;
  }

  /** The newest peer connection's connectionState (ICE + DTLS; Chromium leaves the legacy
   *  iceConnectionState at 'disconnected' when checks time out), once it is one of `states`. */
  function connectionStateIn(states: string[], timeoutMs: number): Promise<string> {
    return until(
      `connection state in ${states.join('/')}`,
      () => page.evaluate((s) => {
        const state = window.__netbedPcs?.at(-1)?.connectionState;
        return state && s.includes(state) ? state : undefined;
      }, states),
      timeoutMs,
    );
  }

  /** The candidates of the gateway's SDP as the page applied it. */
  function remoteCandidates(): Promise<string[]> {
    return page.evaluate(() => (window.__netbedPcs?.at(-1)?.remoteDescription?.sdp ?? '').split('\r\n').filter((l) => l.startsWith('a=candidate:')));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-net-ice-tcp-'));
    const mic = writeSineWav({ freqHz: MIC_HZ, seconds: 60, sampleRate: 48000, amplitude: 0.5 }, dir);
    bed = await createField();
    // The home network lets no UDP out at all (and so none back in): only TCP reaches the internet.
    await bed.firewall('homerouter', dropUdpExcept());
    browser = await launchBrowser({
      fakeAudioWav: mic,
      netns: bed.ns('browser'),
      // getUserMedia needs a secure context: plain http on a public address is one only by this switch.
      args: [`--unsafely-treat-insecure-origin-as-secure=${Object.values(HTTP_PORTS).map(pageUrl).join(',')}`],
    });
    page = browser.page;
    await recordPeerConnections(page);
  });

  afterEach(async () => {
    if (page) await resetPage(page).catch(() => undefined);
    await gateway?.stop();
    gateway = undefined;
  });

  afterAll(async () => {
    const steps: Array<() => Promise<unknown> | undefined> = [() => browser?.close(), () => gateway?.stop(), () => bed?.close()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('media.iceTcp (default): the echo call connects over TCP host ⇄ host, no UDP reaches the gateway, the tone comes back', () =>
    withDiagnostics(diagnostics, async () => {
      await startAndSignIn(undefined, HTTP_PORTS.iceTcp);
      // The witness at the gateway host: what arrives at its media ports from the home network's public address.
      const atGateway = await bed.capture('gateway', `host ${FIELD.homePublic} and portrange ${MEDIA_PORTS[0]}-${MEDIA_PORTS[1]}`);
      expect(await dial(page, '*43')).toBe('in-call');
      const stats = await waitForPackets(page, 100);
      expect(stats.packetsReceived).toBeGreaterThanOrEqual(100);
      const tone = await waitForTone(page, MIC_HZ, 3300);
      expect(tone.level).toBeGreaterThan(5 * tone.other);

      const pair = await until('a selected candidate pair', () => selectedPair(page).then((p) => p ?? undefined), STEP_TIMEOUT);
      expect(pair.local.protocol).toBe('tcp');
      expect(pair.local.candidateType).not.toBe('relay');
      expect(pair.remote).toMatchObject({ protocol: 'tcp', candidateType: 'host', address: FIELD.gatewayPublic });
      expect(pair.remote.port).toBeGreaterThanOrEqual(MEDIA_PORTS[0]);
      expect(pair.remote.port).toBeLessThanOrEqual(MEDIA_PORTS[1]);
      // That is the passive candidate of the gateway's SDP (RFC 6544), beside the UDP one on the same port.
      // "a=candidate:<foundation> 1 <transport> <priority> <address> <port> typ host ..."
      const candidates = (await remoteCandidates()).map((c) => c.split(' '));
      // (Chromium appends "generation 0" to the candidates of the remote description it keeps.)
      expect(candidates.map((f) => [f[2], ...f.slice(4)].join(' ').replace(/ generation \d+$/, ''))).toEqual([
        `udp ${FIELD.gatewayPublic} ${pair.remote.port} typ host`,
        `tcp ${FIELD.gatewayPublic} ${pair.remote.port} typ host tcptype passive`,
      ]);
      expect(Number(candidates[1]![3])).toBeLessThan(Number(candidates[0]![3])); // UDP preferred when both work

      const packets = await atGateway.stop();
      expect(atGateway.dropped(), 'packets the gateway capture missed').toBe(0);
      const tcpIn = packets.filter((p) => p.proto === 'tcp' && p.dstPort === pair.remote.port && p.payload.length > 0);
      expect(tcpIn.length, 'TCP segments with data to the media port').toBeGreaterThanOrEqual(100);
      expect(packets.filter((p) => p.proto === 'udp'), 'UDP from the home network at the gateway').toEqual([]);
      expect(await hangUp(page)).toBe('Hung up');
    }));

  it('control, media.iceTcp false: the same call gets no media path (its checks time out, the connection fails within a bounded wait)', () =>
    withDiagnostics(diagnostics, async () => {
      await startAndSignIn(false, HTTP_PORTS.udpOnly);
      expect(await dial(page, '*43')).toBe('in-call'); // signalling runs over the WebSocket (TCP)
      const candidates = await remoteCandidates();
      expect(candidates).toHaveLength(1); // the UDP host candidate only
      expect(candidates[0]).toContain(` udp `);
      const t0 = Date.now();
      expect(await connectionStateIn(['failed', 'connected'], ICE_FAIL_WAIT)).toBe('failed');
      expect(Date.now() - t0).toBeLessThan(ICE_FAIL_WAIT);
      expect(await selectedPair(page)).toBeNull();
      const stats = await page.evaluate(() => window.softphone.remoteStats());
      expect(stats.packetsReceived).toBe(0);
    }));
});
