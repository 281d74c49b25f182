// The end-to-end harness proven on its own, without the gateway: baresip as a far-end phone
// (called by SIPp), and the softphone page in real Chromium (served statically here), including
// the tone meter on a WebRTC remote stream and getStats packet counts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { writeSineWav } from '../support/tone.js';
import { pollPage, STEP_TIMEOUT } from './helpers.js';

// Code inside page.evaluate() runs in Chromium; the project compiles without the DOM lib, so the
// few browser globals used there are declared loosely, for this module only.
declare const window: any;
declare const navigator: any;
declare const document: any;
declare const RTCPeerConnection: any;
type MediaStream = unknown;

const webRoot = fileURLToPath(new URL('../../web/', import.meta.url));
const sipJsLib = join(dirname(createRequire(import.meta.url).resolve('sip.js/package.json')), 'lib');

/** SIPp's built-in uac_pcap scenario: INVITE, ~8 s of G.711 A-law from a pcap, BYE. */
async function runSippUac(dir: string, port: number, user: string): Promise<{ done: Promise<number>; kill: () => void }> {
  const local = await freePort();
  const args = ['-sn', 'uac_pcap', '-s', user, `127.0.0.1:${port}`, '-m', '1', '-i', '127.0.0.1', '-p', String(local)];
  const proc = spawn('sipp', [...args, '-mp', '26000', '-nostdin', '-timeout', '40s'], { cwd: dir, stdio: 'ignore' });
  const done = new Promise<number>((resolve) => {
    proc.once('exit', (code) => resolve(code ?? -1));
    proc.once('error', () => resolve(-1));
  });
  return { done, kill: () => proc.kill('SIGKILL') };
}

describe('harness: baresip far end, called by SIPp', () => {
  let dir: string;
  let baresip: BaresipHandle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-harness-'));
    // uac_pcap reads pcap/g711a.pcap relative to its working directory.
    symlinkSync('/usr/share/sip-tester', join(dir, 'pcap'));
    const wav = writeSineWav({ freqHz: 440, seconds: 30, sampleRate: 8000 }, dir);
    baresip = await startBaresip({ sourceWav: wav, user: '5551234' });
  });

  afterAll(async () => {
    await baresip?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('auto-answers, counts the RTP it got, and reports the caller BYE', async () => {
    expect(baresip.trunkUri).toBe(`sip:127.0.0.1:${baresip.sipPort}`);
    const sipp = await runSippUac(dir, baresip.sipPort, '5551234');
    const est = await baresip.waitForEvent('CALL_ESTABLISHED', { timeoutMs: STEP_TIMEOUT });
    expect(est.direction).toBe('incoming');
    const closed = await baresip.waitForEvent('CALL_CLOSED', { timeoutMs: STEP_TIMEOUT });
    expect(closed.param).toBe('Connection reset by peer');
    const stats = await baresip.waitForCallStats(0);
    expect(stats.rxPackets).toBeGreaterThanOrEqual(100);
    expect(stats.txPackets).toBeGreaterThanOrEqual(100);
    expect(await sipp.done).toBe(0);
  });

  it('hangs up on command (ctrl_tcp) and rejects numbers that are not its user', async () => {
    const from = baresip.events.length;
    const sipp = await runSippUac(dir, baresip.sipPort, '5551234');
    try {
      await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
      await baresip.hangup();
      const closed = await baresip.waitForEvent('CALL_CLOSED', { from, timeoutMs: STEP_TIMEOUT });
      expect(closed.param).toBe('Connection reset by user');
      await baresip.waitForCallStats(1);
    } finally {
      sipp.kill();
    }
    await expect(baresip.command('no-such-command')).rejects.toThrow(/failed/);
    const wrong = await runSippUac(dir, baresip.sipPort, '999');
    expect(await wrong.done).not.toBe(0); // 404: no account for that user
    expect(baresip.output()).toMatch(/SIP\/2\.0 404/);
  });

  it('refuses to start on an account user it cannot use', async () => {
    await expect(startBaresip({ sourceWav: '/nonexistent.wav', user: 'a b' })).rejects.toThrow(/unusable account user/);
  });
});

describe('harness: softphone page in real Chromium (static, no gateway)', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let browser: BrowserHandle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-page-'));
    const app = express();
    app.use('/vendor/sip.js', express.static(sipJsLib));
    app.use(express.static(webRoot));
    const port = await freePort();
    server = app.listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${port}/`;
    const wav = writeSineWav({ freqHz: 1000, seconds: 10, sampleRate: 48000 }, dir);
    browser = await launchBrowser({ fakeAudioWav: wav });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads sip.js through the import map and exposes the test hook', async () => {
    const { page } = browser;
    await page.goto(url);
    await page.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
    const s = await page.evaluate(() => [window.softphone.state(), window.softphone.callState()]);
    expect(s).toEqual(['signed-out', 'idle']);
    expect(await page.textContent('#reg-state')).toBe('Signed out');
    expect(await page.locator('#keypad button').count()).toBe(12);
    expect(browser.consoleLines.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
  });

  it('reports a clear reason when the server has no SIP endpoint', async () => {
    const { page } = browser;
    await page.click('#signin-btn'); // empty form: the browser's own validation stops it
    expect(await page.evaluate(() => window.softphone.state())).toBe('signed-out');
    await page.fill('#user', 'alice');
    await page.fill('#password', 'alice');
    await page.click('#signin-btn');
    await page.waitForFunction(() => window.softphone.state() === 'failed', null, { timeout: STEP_TIMEOUT });
    expect(await page.textContent('#reg-state')).toMatch(/^Registration failed: Cannot reach the server \(ws:\/\/127\.0\.0\.1:\d+\/sip\)$/);
  });

  it('measures RTP and a 1 kHz tone on a WebRTC remote stream (in-page loopback call)', async () => {
    const { page } = browser;
    await page.goto(url);
    // A module script, not import() inside evaluate: vitest rewrites import() in test code.
    const media = "import { ToneMeter, rtpCounts } from '/media.js'; window.media = { ToneMeter, rtpCounts };";
    await page.addScriptTag({ type: 'module', content: media });
    await page.waitForFunction(() => window.media !== undefined, null, { timeout: STEP_TIMEOUT });
    await page.evaluate(async () => {
      const { ToneMeter, rtpCounts } = window.media;
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      const a = new RTCPeerConnection();
      const b = new RTCPeerConnection();
      a.onicecandidate = (e: any) => e.candidate && b.addIceCandidate(e.candidate);
      b.onicecandidate = (e: any) => e.candidate && a.addIceCandidate(e.candidate);
      const remote = new Promise<MediaStream>((resolve) => { b.ontrack = (e: any) => resolve(e.streams[0]!); });
      a.addTrack(mic.getAudioTracks()[0]!, mic);
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription);
      const stream = await remote;
      const audio = document.getElementById('remote-audio') ;
      audio.srcObject = stream; // Chromium feeds WebAudio from a remote track only while it plays
      const meter = new ToneMeter();
      meter.attach(stream);
      window.loop = { meter, counts: () => Promise.all([rtpCounts(a), rtpCounts(b)]) };
    });
    const [a, b] = await pollPage(
      page,
      () => window.loop.counts(),
      null,
      ([sent, got]: any) => sent.packetsSent >= 100 && got.packetsReceived >= 100,
      '100 packets over the loopback call',
    );
    expect(a.packetsSent).toBeGreaterThanOrEqual(100);
    expect(b.packetsReceived).toBeGreaterThanOrEqual(100);
    await page.waitForFunction(
      () => {
        const m = window.loop.meter;
        return m.level(1000) > 10 && m.level(1000) > 5 * m.level(3300);
      },
      null,
      { timeout: STEP_TIMEOUT, polling: 200 },
    );
  });
});
