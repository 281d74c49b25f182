// End to end (issue 11 item 4): click-to-call through the HTTP API. Alice is signed in on the page (real
// Chromium); POST /api/calls {user: alice, number} makes her page ring ("Call to <number>"); she answers;
// then — only then — the gateway dials the number at the trunk (SIPp on 127.0.140.2, its SDP naming the
// test's own RTP socket) and joins the two legs. RTP is counted both ways: the page's getStats (frames from
// the trunk socket) and the frames that reached the trunk socket from the browser. DELETE /api/calls/{id}
// ends it: the page's call ends and SIPp gets BYE with the operator's Reason.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/e2e/api-click-to-call.test.ts'
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sdpTransform from 'sdp-transform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import type { SipMessage } from '../../gateway/sip/message/types.js';
import { frame, rtpPacket, startTrunk, type Trunk } from '../integration/media/peers.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { until } from '../support/netbed/wait.js';
import { freePort } from '../support/ports.js';
import { stopAllProcesses } from '../support/process.js';
import { SCENARIO_DIR, sippWorkDir, startSipp, type SippHandle } from '../support/sipp.js';
import { traceHeader } from '../support/sipp-trace.js';
import { writeSineWav } from '../support/tone.js';
import { STEP_TIMEOUT, callState, defaultUsers, e2eConfig, openPage, signIn, startGateway, waitForEnded, waitForIncoming, waitForPackets, withDiagnostics } from './helpers.js';

const TRUNK = '127.0.140.2';
const NUMBER = '5551234';
const TOKEN = 'click-to-call-token-0123456789';
const OPERATOR_REASON = 'Q.850;cause=16;text="Ended by operator"';

declare const window: { softphone: { callState(): string } };

const received = (sipp: SippHandle, method: string): SipMessage | undefined =>
  sipp.messages().find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === method)?.message;

describe('e2e: click-to-call (POST /api/calls) rings the page, then dials the trunk', () => {
  let dir: string;
  let gateway: Gateway;
  let browser: BrowserHandle;
  let sipp: SippHandle;
  let rtp: Trunk;
  let sender: NodeJS.Timeout | undefined;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-click-to-call-'));
    const micTone = writeSineWav({ freqHz: 1000, seconds: 30, sampleRate: 48000, amplitude: 0.5 }, dir);
    rtp = await startTrunk(TRUNK);
    const sipPort = await freePort('udp');
    sipp = startSipp({ scenarioFile: join(SCENARIO_DIR, 'uas-answer-rtp.xml'), localIp: TRUNK, localPort: sipPort, set: { trunk_rtp: rtp.port }, traceDir: sippWorkDir('e2e-click-to-call'), timeoutS: 90 });
    await sipp.ready;
    const config = await e2eConfig({
      users: defaultUsers(),
      trunks: [{ name: 'carrier', uri: `sip:${TRUNK}:${sipPort}`, keepalive: false }],
      routes: [{ match: '^\\d{4,15}$', trunk: 'carrier' }],
      api: { token: TOKEN },
    });
    gateway = await startGateway(config, logLines);
    browser = await launchBrowser({ fakeAudioWav: micTone });
    await openPage(browser.page, gateway.httpUrl);
    await signIn(browser.page, 'alice', 'alice');
  });

  afterAll(async () => {
    clearInterval(sender);
    await browser?.close();
    await gateway?.stop();
    await sipp?.stop();
    await rtp?.close();
    await stopAllProcesses();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(new URL(path, gateway.httpUrl), {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.body !== undefined && { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  it('the page rings with "Call to <number>", the trunk is dialled only once it answers, audio both ways; DELETE ends both legs', async () => {
    const diagnostics = () => `gateway log (tail):\n${logLines.slice(-40).join('\n')}\nSIPp errors: ${sipp.errors()}`;
    await withDiagnostics(diagnostics, async () => {
      const page = browser.page;
      const started = await api('/api/calls', { method: 'POST', body: { user: 'alice', number: NUMBER } });
      expect(started).toMatchObject({ status: 202, body: { id: expect.any(String) } });
      const id = started.body!.id as string;
      const ring = await waitForIncoming(page);
      expect(ring).toMatchObject({ from: NUMBER, displayName: `Call to ${NUMBER}` });
      expect((await api(`/api/calls/${id}`)).body).toMatchObject({ clickToCall: 'ringing-user', caller: { user: 'alice' }, callee: { number: NUMBER } });
      // Nothing reaches the trunk while the user's phone rings.
      expect(received(sipp, 'INVITE')).toBeUndefined();

      await page.click('#accept-btn');
      await page.waitForFunction(() => window.softphone.callState() === 'in-call', null, { timeout: STEP_TIMEOUT });
      const invite = await until('the trunk to receive the INVITE', () => received(sipp, 'INVITE'), 10_000);
      expect(invite.kind === 'request' && invite.uri).toMatch(new RegExp(`^sip:${NUMBER}@`));
      // The trunk's media: PCMU frames from the test's socket to where the gateway's offer said.
      const offer = sdpTransform.parse(invite.body.toString('utf8'));
      const audio = offer.media.find((m) => m.type === 'audio')!;
      const to = { address: audio.connection?.ip ?? offer.connection!.ip, port: audio.port };
      let seq = 0;
      sender = setInterval(() => rtp.socket.send(rtpPacket(seq, frame(seq++), 0x140).serialize(), to.port, to.address), 20);

      const connected = await until('the call to be joined', async () => {
        const d = (await api(`/api/calls/${id}`)).body;
        return d?.clickToCall === 'connected' && d.state === 'answered' ? d : undefined;
      }, 10_000);
      expect(connected).toMatchObject({ trunk: 'carrier', parties: { caller: { kind: 'user', user: 'alice' }, callee: { kind: 'trunk', trunk: 'carrier' } }, media: { quality: { caller: expect.any(Object), callee: expect.any(Object) } } });

      // trunk → page (the page's inbound RTP) and page → trunk (frames at the trunk's socket)
      const stats = await waitForPackets(page, 100);
      expect(stats.packetsReceived).toBeGreaterThanOrEqual(100);
      await until('100 RTP packets from the browser at the trunk', () => (rtp.rtp.length >= 100 ? true : undefined), 10_000);
      expect(rtp.rtp.length).toBeGreaterThanOrEqual(100);

      expect((await api(`/api/calls/${id}`, { method: 'DELETE' })).status).toBe(204);
      await waitForEnded(page);
      expect((await callState(page)).state).toBe('ended');
      const bye = await until('the trunk to receive BYE', () => received(sipp, 'BYE'), 10_000);
      expect(traceHeader(bye, 'Reason')).toBe(OPERATOR_REASON);
      clearInterval(sender);
      expect((await sipp.exited).code).toBe(0);
      await until('no call left', () => (gateway.status().calls === 0 ? true : undefined), 5_000);
    });
  });
});
