// Calls that ring users, end to end over loopback: SIPp plays the trunk calling a DID, WebSocket clients
// play the browsers (several registered as one user), and a user calls another user's extension.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call'
import sdpTransform from 'sdp-transform';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildGateway } from '../../../gateway/app.js';
import { configSchema, type GatewayConfig } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { sippWorkDir, startSipp, type SippHandle, type SippOptions } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { WsSipClient, type IncomingCall } from '../../support/ws-sip-client.js';
import { startGatewayWith } from './harness.js';
import { uacCancelAfterRinging, uacExpectFinal } from './scenarios.js';

// SIPp's uac_pcap plays pcap/g711a.pcap relative to its working directory.
const traceDir = sippWorkDir('inbound-it-');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

const DID = '+15550100';
const COMPLETED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';
const ALICE = { name: 'alice', password: 'alice-pw', extension: '201', dids: [DID] };
const BOB = { name: 'bob', password: 'bob-pw', extension: '202' };

function config(trunkUri: string, ringTimeout = 30): GatewayConfig {
  return configSchema.parse({
    http: { listen: '127.0.0.1:0' },
    sip: { listen: ['udp:127.0.0.1:0'] },
    media: { rtpPorts: '43000-43999', address: '127.0.0.1' },
    users: [ALICE, BOB],
    trunks: [{ name: 'sipp', uri: trunkUri }],
    calls: { ringTimeout },
    log: { level: 'silent' },
  });
}

/** The gateway as main runs it (buildGateway); returns its UDP and WebSocket addresses. */
async function gateway(trunkUri: string, ringTimeout?: number): Promise<{ udp: string; wsUrl: string; status: () => Record<string, unknown> }> {
  const gw = buildGateway(config(trunkUri, ringTimeout), { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
  await gw.start();
  cleanups.push(() => gw.stop());
  const udp = gw.sipAddress('udp')!;
  return { udp: `${udp.address}:${udp.port}`, wsUrl: `${gw.httpUrl.replace(/^http/, 'ws')}sip`, status: () => gw.status() };
}

async function client(wsUrl: string, user: { name: string; password: string }, register = true): Promise<WsSipClient> {
  const c = await WsSipClient.connect({ url: wsUrl, user: user.name, password: user.password });
  cleanups.push(() => c.close());
  if (register) expect((await c.register()).status).toBe(200);
  return c;
}

async function trunk(o: Omit<SippOptions, 'traceDir' | 'localPort'> & { localPort?: number }): Promise<SippHandle> {
  const media = await freeUdpPortPair();
  const sipp = startSipp({ mediaPort: media.rtp, traceDir, cwd: traceDir, service: DID, ...o, localPort: o.localPort ?? (await freeSipPort()) });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  return sipp;
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const label = (m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status));
const receivedBy = (sipp: SippHandle) => sipp.messages().filter((e) => e.direction === 'received').map((e) => e.message);

/** The gateway's offer to a browser: WebRTC profile, ICE-lite, a DTLS fingerprint, setup:actpass, G.711 only. */
function expectWebRtcOffer(call: IncomingCall, g711 = true): void {
  const sdp = sdpTransform.parse(call.offer);
  const audio = sdp.media[0]!;
  expect(audio.protocol).toBe('UDP/TLS/RTP/SAVPF');
  expect(sdp.icelite).toBe('ice-lite');
  expect((sdp.fingerprint ?? audio.fingerprint)?.hash).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i);
  expect(audio.setup ?? (sdp as { setup?: string }).setup).toBe('actpass');
  const codecs = audio.rtp.map((r) => r.codec);
  // From a trunk: G.711 and telephone-event only. Between browsers the caller's codecs pass (opus first).
  if (g711) expect(codecs.every((c) => ['PCMU', 'PCMA', 'telephone-event'].includes(c)) && codecs.includes('PCMA')).toBe(true);
  else expect(codecs[0]).toBe('opus');
}

describe('a trunk calls a DID', () => {
  it('both contacts of the user ring; the first to answer wins, the other is cancelled "completed elsewhere"; RTP flows', async () => {
    const gw = await startGatewayWith(config(`sip:127.0.0.1:${await freeSipPort()}`));
    cleanups.push(() => gw.close());
    const [tab1, tab2] = [await client(gw.wsUrl, ALICE), await client(gw.wsUrl, ALICE)];
    const sipp = await trunk({ builtin: 'uac_pcap', remote: gw.udp });
    const [in1, in2] = [await tab1.incoming(), await tab2.incoming()];
    for (const call of [in1, in2]) {
      expectWebRtcOffer(call);
      expect(traceHeader(call.invite, 'From')).toMatch(/^"?sipp"? <sip:sipp@/); // the trunk's caller ID
    }
    in1.ringing();
    in2.ringing();
    await in1.accept();
    const cancel = await in2.waitCancel();
    expect(traceHeader(cancel, 'Reason')).toBe(COMPLETED_ELSEWHERE);
    expect(in2.state).toBe('cancelled');

    const ok = await until(() => receivedBy(sipp).find((m) => label(m) === '200'), 'the 200 at SIPp');
    const answer = sdpTransform.parse(ok.body.toString());
    expect(answer.media[0]!.protocol).toBe('RTP/AVP');
    expect(answer.media[0]!.rtp.map((r) => r.codec)).toContain('PCMA');
    // The winner's media session counts SIPp's RTP (the pcap it plays after its ACK).
    const key = gw.media.answers[0]!.callId;
    const sippTag = gw.media.answers[0]!.fromTag;
    expect(gw.media.offers.map((o) => o.callId)).toContain(key);
    const packets = await until(() => {
      const n = gw.media.stats(key)?.legs[sippTag]?.packetsIn ?? 0;
      return n >= 10 ? n : undefined;
    }, 'RTP from SIPp at the winner fork');
    expect(packets).toBeGreaterThanOrEqual(10);
    // SIPp hangs up after its ~9 s of audio: the answering tab gets BYE.
    await in1.waitBye(20_000);
    expect((await sipp.exited).code).toBe(0);
    expect(gw.service.status().calls).toBe(0);
  }, 40_000);

  it('403 from an address that is not a trunk, and nothing rings', async () => {
    const gw = await gateway('sip:127.0.0.9:5060');
    const tab = await client(gw.wsUrl, ALICE);
    const dir = traceDir;
    const sipp = await trunk({ scenarioFile: uacExpectFinal(dir, 403), remote: gw.udp });
    expect((await sipp.exited).code).toBe(0);
    expect(receivedBy(sipp).map(label)).toContain('403');
    expect(tab.invitesReceived).toHaveLength(0);
  });

  it('480 when the user has no registered contact', async () => {
    const port = await freeSipPort();
    const gw = await gateway(`sip:127.0.0.1:${port}`);
    await client(gw.wsUrl, BOB); // someone else is registered
    const sipp = await trunk({ scenarioFile: uacExpectFinal(traceDir, 480), remote: gw.udp, localPort: port });
    expect((await sipp.exited).code).toBe(0);
  });

  it('the trunk CANCELs: both contacts get CANCEL without the Reason (a missed call), SIPp gets 487', async () => {
    const port = await freeSipPort();
    const gw = await gateway(`sip:127.0.0.1:${port}`);
    const tabs = [await client(gw.wsUrl, ALICE), await client(gw.wsUrl, ALICE)];
    const sipp = await trunk({ scenarioFile: uacCancelAfterRinging(traceDir), set: { cancel_ms: 300 }, remote: gw.udp, localPort: port });
    const calls = await Promise.all(tabs.map((t) => t.incoming()));
    calls.forEach((c) => c.ringing());
    for (const c of calls) {
      const cancel = await c.waitCancel();
      expect(traceHeader(cancel, 'Reason')).toBeUndefined();
      expect(c.state).toBe('cancelled');
    }
    expect((await sipp.exited).code).toBe(0);
    expect(receivedBy(sipp).map(label)).toEqual(['180', '200', '487']);
    await until(() => (gw.status().calls === 0 ? true : undefined), 'the call to end');
  });

  it('ring timeout: 480 to the trunk, CANCEL to every contact', async () => {
    const port = await freeSipPort();
    const gw = await gateway(`sip:127.0.0.1:${port}`, 5);
    const tabs = [await client(gw.wsUrl, ALICE), await client(gw.wsUrl, ALICE)];
    const started = Date.now();
    const sipp = await trunk({ scenarioFile: uacExpectFinal(traceDir, 480, { ringing: true }), remote: gw.udp, localPort: port });
    const calls = await Promise.all(tabs.map((t) => t.incoming()));
    calls.forEach((c) => c.ringing());
    for (const c of calls) expect(traceHeader(await c.waitCancel(8_000), 'Reason')).toBeUndefined();
    expect((await sipp.exited).code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
  }, 20_000);
});

describe('user-to-user calls', () => {
  it('alice dials bob\'s extension: WebRTC on both sides through the relay; BYE reaches bob', async () => {
    const gw = await gateway('sip:127.0.0.9:5060');
    const alice = await client(gw.wsUrl, ALICE);
    const bob = await client(gw.wsUrl, BOB);
    const call = alice.invite(BOB.extension);
    const incoming = await bob.incoming();
    expectWebRtcOffer(incoming, false);
    expect(traceHeader(incoming.invite, 'From')).toMatch(/^"alice" <sip:201@/);
    incoming.ringing();
    await incoming.accept();
    const final = await call.final;
    expect(final.status).toBe(200);
    const answer = sdpTransform.parse(final.body.toString());
    expect(answer.icelite).toBe('ice-lite');
    expect(answer.media[0]!.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(call.responses.map((r) => r.status)).toEqual([407, 180, 200]);
    expect((await call.bye()).status).toBe(200);
    await incoming.waitBye();
  });
});
