// Late offer (RFC 3261 §13.2.1) and reliable provisional responses (RFC 3262) end to end: SIPp plays the
// trunk, a WebSocket client the browser; each case on UDP and on TCP toward the trunk.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call/late-offer-prack.test.ts'
import { join } from 'node:path';
import sdpTransform from 'sdp-transform';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildGateway } from '../../../gateway/app.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { getCSeq, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { until } from '../../support/netbed/wait.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { SCENARIO_DIR, sippWorkDir, startSipp, type SippHandle } from '../../support/sipp.js';
import { chromeAnswer, chromeOffer, WsSipClient } from '../../support/ws-sip-client.js';
import { startRtpengine } from '../media/rtpengine-launch.js';
import { startGatewayWith, type TestGateway } from './harness.js';

const traceDir = sippWorkDir('late-prack-it-');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

const DID = '+15550100';
const ALICE = { name: 'alice', password: 'alice-pw', callerId: '+15550001', dids: [DID] };
type Transport = 'udp' | 'tcp';

async function gateway(trunkPort: number, transport: Transport, lateOffer = false): Promise<TestGateway> {
  const uri = `sip:127.0.0.1:${trunkPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  const config = configSchema.parse({
    sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
    media: { rtpPorts: '42000-42999', address: '127.0.0.1' },
    users: [ALICE],
    trunks: [{ name: 'sipp', uri, lateOffer, keepalive: false }],
    routes: [{ match: '^\\+?\\d{4,15}$', trunk: 'sipp' }],
    log: { level: 'silent' },
  });
  const gw = await startGatewayWith(config);
  cleanups.push(() => gw.close());
  return gw;
}

async function browser(gw: TestGateway, register = false): Promise<WsSipClient> {
  const c = await WsSipClient.connect({ url: gw.wsUrl, user: ALICE.name, password: ALICE.password });
  cleanups.push(() => c.close());
  if (register) expect((await c.register()).status).toBe(200);
  return c;
}

async function sipp(scenario: string, o: { localPort: number; transport: Transport; remote?: string; set?: Record<string, number> }): Promise<SippHandle> {
  const media = await freeUdpPortPair();
  const handle = startSipp({ scenarioFile: join(SCENARIO_DIR, `${scenario}.xml`), mediaPort: media.rtp, traceDir, cwd: traceDir, service: DID, ...o });
  cleanups.push(() => handle.stop());
  await handle.ready;
  return handle;
}

const label = (m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status));
const seenBy = (s: SippHandle, dir: 'received' | 'sent') => s.messages().filter((e) => e.direction === dir).map((e) => e.message);
const find = (s: SippHandle, dir: 'received' | 'sent', what: string) => seenBy(s, dir).find((m) => label(m) === what);

/** SIPp as the trunk (`scenario`), a gateway routing to it, and a browser connected to the gateway. */
async function trunkCall(scenario: string, transport: Transport, o: { lateOffer?: boolean; set?: Record<string, number> } = {}) {
  const trunkPort = await freeSipPort();
  const trunk = await sipp(scenario, { localPort: trunkPort, transport, set: o.set });
  const gw = await gateway(trunkPort, transport, o.lateOffer);
  return { trunk, gw, tab: await browser(gw) };
}

/** Packets the engine took in from the leg whose tag is not `otherTag`, in the call's media session. */
function packetsFrom(gw: TestGateway, notTag: string): number | undefined {
  for (const key of new Set([...gw.media.offers, ...gw.media.answers].map((r) => r.callId))) {
    const legs = gw.media.stats(key)?.legs ?? {};
    for (const [tag, leg] of Object.entries(legs)) if (tag !== notTag && leg.packetsIn >= 10) return leg.packetsIn;
  }
  return undefined;
}

/** A plain-RTP answer of ours: the engine's address, a port of media.rtpPorts, only what was offered. */
function expectOurRtpSdp(body: Buffer, offeredPts: string[]): void {
  const sdp = sdpTransform.parse(body.toString());
  const audio = sdp.media[0]!;
  expect(sdp.connection?.ip ?? audio.connection?.ip).toBe('127.0.0.1');
  expect(audio.protocol).toBe('RTP/AVP');
  expect(audio.port).toBeGreaterThanOrEqual(42000);
  expect(audio.port).toBeLessThanOrEqual(42999);
  expect(String(audio.payloads).split(' ').every((pt) => offeredPts.includes(pt))).toBe(true);
}

describe.each<Transport>(['udp', 'tcp'])('late offer and 100rel with a SIPp trunk over %s', (transport) => {
  it('a trunk calls a DID with an INVITE without SDP: our 200 offers, the trunk\'s ACK answers, the browser\'s ACK carries our WebRTC answer; RTP counted', async () => {
    const gw = await gateway(await freeSipPort(), transport);
    const tab = await browser(gw, true);
    const trunk = await sipp('uac-late-offer', { localPort: await freeSipPort(), transport, remote: transport === 'tcp' ? gw.tcp : gw.udp, set: { hangup_ms: 3000 } });
    const incoming = await tab.incoming();
    expect(incoming.invite.body.length).toBe(0); // passed through: the browser is asked to offer
    incoming.ringing();
    const ack = await incoming.accept(chromeOffer(['opus', 'PCMU', 'PCMA', 'telephone-event']));
    // The trunk's 200: our RTP offer, G.711 only (from the browser's offer).
    const ok = await until('the 200 at SIPp', () => find(trunk, 'received', '200'), 10_000);
    const offer = sdpTransform.parse(ok.body.toString());
    expect(offer.media[0]!.protocol).toBe('RTP/AVP');
    expect(offer.media[0]!.rtp.map((r) => r.codec).sort()).toEqual(['PCMA', 'PCMU', 'telephone-event']);
    // The browser's ACK: the engine's WebRTC answer to its offer, built from SIPp's ACK answer (PCMA).
    const answer = sdpTransform.parse(ack.body.toString());
    expect(answer.media[0]!.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(answer.icelite).toBe('ice-lite');
    expect(answer.media[0]!.rtp.map((r) => r.codec)).toContain('PCMA');
    expect(getHeader(ack, 'Content-Type')).toBe('application/sdp');
    const browserTag = getTo(incoming.invite).params.tag ?? incoming.localTag;
    expect(await until('RTP from SIPp at the gateway', () => packetsFrom(gw, browserTag), 10_000)).toBeGreaterThanOrEqual(10);
    await incoming.waitBye(20_000);
    expect((await trunk.exited).code).toBe(0);
  }, 40_000);

  it('toward a trunk with lateOffer: true the INVITE has no SDP; SIPp offers in its 200 and our ACK answers with our address', async () => {
    const { trunk, gw, tab } = await trunkCall('uas-late-offer', transport, { lateOffer: true });
    const call = tab.invite('5551234');
    const final = await call.final;
    expect(final.status).toBe(200);
    const invite = find(trunk, 'received', 'INVITE')!;
    expect(invite.body.length).toBe(0);
    expect(getHeader(invite, 'Content-Type')).toBeUndefined();
    const ack = await until('the ACK at SIPp', () => find(trunk, 'received', 'ACK'), 10_000);
    expect(getHeader(ack, 'Content-Type')).toBe('application/sdp');
    expectOurRtpSdp(ack.body, ['8', '0', '96']);
    // The browser's answer names what SIPp chose (PCMA first in its offer).
    expect(sdpTransform.parse(final.body.toString()).media[0]!.rtp.map((r) => r.codec)).toContain('PCMA');
    expect(await until('RTP from SIPp at the gateway', () => packetsFrom(gw, 'none'), 10_000)).toBeGreaterThanOrEqual(10);
    expect((await call.bye()).status).toBe(200);
    expect((await trunk.exited).code).toBe(0);
  }, 40_000);

  it('a browser calls with an INVITE without SDP: the trunk\'s INVITE has none either, SIPp\'s 200 offer reaches the browser as WebRTC, the browser\'s ACK answer reaches SIPp\'s ACK', async () => {
    const { trunk, gw, tab } = await trunkCall('uas-late-offer', transport);
    let offered = '';
    const call = tab.invite('5551234', { sdp: '', ackSdp: (offer) => ((offered = offer), chromeAnswer(offer)) });
    expect((await call.final).status).toBe(200);
    expect(find(trunk, 'received', 'INVITE')!.body.length).toBe(0);
    const offer = sdpTransform.parse(offered);
    expect(offer.media[0]!.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(offer.media[0]!.rtp.map((r) => r.codec)).toEqual(['PCMA', 'PCMU', 'telephone-event']); // SIPp's, in its order
    const ack = await until('the ACK at SIPp', () => find(trunk, 'received', 'ACK'), 10_000);
    expectOurRtpSdp(ack.body, ['8', '0', '96']);
    expect(await until('RTP from SIPp at the gateway', () => packetsFrom(gw, 'none'), 10_000)).toBeGreaterThanOrEqual(10);
    expect((await call.bye()).status).toBe(200);
    expect((await trunk.exited).code).toBe(0);
  }, 40_000);

  it('a lateOffer trunk offering in a reliable 183: our PRACK carries the answer, early media flows, its 200 without SDP completes the call', async () => {
    const { trunk, gw, tab } = await trunkCall('uas-late-100rel', transport, { lateOffer: true, set: { early_ms: 1500 } });
    const call = tab.invite('5551234');
    const r183 = (await tab.waitFor((m) => m.kind === 'response' && m.status === 183 && getHeader(m, 'Call-ID') === call.callId)) as SipResponse;
    expect(sdpTransform.parse(r183.body.toString()).media[0]!.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(find(trunk, 'received', 'INVITE')!.body.length).toBe(0);
    const prack = await until('the PRACK at SIPp', () => find(trunk, 'received', 'PRACK'), 10_000);
    expectOurRtpSdp(prack.body, ['8', '0', '96']);
    expect(await until('early RTP from SIPp', () => packetsFrom(gw, 'none'), 10_000)).toBeGreaterThanOrEqual(10);
    expect(call.responses.some((r) => r.status === 200)).toBe(false); // still early (SIPp answers after early_ms)
    expect((await call.final).status).toBe(200);
    const ack = await until('the ACK at SIPp', () => find(trunk, 'received', 'ACK'), 10_000);
    expect(ack.body.length).toBe(0);
    expect((await call.bye()).status).toBe(200);
    expect((await trunk.exited).code).toBe(0);
  }, 40_000);

  it('a reliable 183 from the trunk is PRACKed (RAck); the browser offering 100rel gets it reliably, PRACKs it, early media flows, then 200', async () => {
    const { trunk, gw, tab } = await trunkCall('uas-100rel', transport, { set: { early_ms: 2000 } });
    const call = tab.invite('5551234', { headers: [{ name: 'Supported', value: '100rel' }] });
    const r183 = (await tab.waitFor((m) => m.kind === 'response' && m.status === 183 && getHeader(m, 'Call-ID') === call.callId)) as SipResponse;
    expect(getHeader(r183, 'Require')).toBe('100rel');
    const rseq = Number(getHeader(r183, 'RSeq'));
    expect(rseq).toBeGreaterThanOrEqual(1);
    expect(sdpTransform.parse(r183.body.toString()).media[0]!.protocol).toBe('UDP/TLS/RTP/SAVPF');
    // SIPp got our PRACK (its scenario checked the RAck); early media counted before anyone answered.
    const prack = await until('the PRACK at SIPp', () => find(trunk, 'received', 'PRACK'), 10_000);
    expect(getHeader(prack, 'RAck')).toBe(`1 ${getCSeq(find(trunk, 'received', 'INVITE')!).seq} INVITE`);
    expect(await until('early RTP from SIPp', () => packetsFrom(gw, 'none'), 10_000)).toBeGreaterThanOrEqual(10);
    expect(call.responses.some((r) => r.status === 200)).toBe(false);
    expect((await tab.transact(prackFor(tab, call.callId, r183, rseq))).status).toBe(200);
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(final.body.length).toBeGreaterThan(0);
    expect((await call.bye()).status).toBe(200);
    expect((await trunk.exited).code).toBe(0);
  }, 40_000);
});

/** The browser's PRACK for a reliable 1xx (RFC 3262 §7.2): in its early dialog, RAck "<RSeq> <CSeq> INVITE". */
function prackFor(tab: WsSipClient, callId: string, res: SipResponse, rseq: number): SipRequest {
  const target = /<([^>]+)>/.exec(getHeader(res, 'Contact') ?? '')![1]!;
  const rack = { name: 'RAck', value: `${rseq} ${getCSeq(res).seq} INVITE` };
  return tab.request('PRACK', target, { callId, to: getHeader(res, 'To')!, extra: [rack] });
}

describe('a caller that never PRACKs (RFC 3262 §3)', () => {
  it('our reliable 183 is retransmitted (T1 doubling) and the INVITE gets 504 after 64*T1; the trunk leg gets BYE', async () => {
    const { trunk, gw, tab } = await trunkCall('uas-100rel', 'udp', { set: { early_ms: 500 } });
    const call = tab.invite('5551234', { headers: [{ name: 'Require', value: '100rel' }] });
    const final = await call.final;
    expect(final.status).toBe(504);
    const copies = call.responses.filter((r) => r.status === 183);
    expect(copies.length).toBeGreaterThanOrEqual(6); // 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s
    expect(new Set(copies.map((r) => getHeader(r, 'RSeq'))).size).toBe(1);
    await until('the BYE at SIPp', () => find(trunk, 'received', 'BYE'), 5_000);
    expect((await trunk.exited).code).toBe(0);
    expect(gw.service.status().calls).toBe(0);
  }, 45_000);
});

describe('late offer with media.engine rtpengine', () => {
  it('toward a lateOffer trunk: our ACK answers SIPp\'s offer with rtpengine\'s port, the browser gets rtpengine\'s answer', async () => {
    const rtpengine = await startRtpengine();
    cleanups.push(() => rtpengine.stop());
    const inRange = (port: number) => port >= rtpengine.portMin && port < rtpengine.portMin + 200;
    const trunkPort = await freeSipPort();
    const trunk = await sipp('uas-late-offer', { localPort: trunkPort, transport: 'udp' });
    const config = configSchema.parse({
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'] },
      media: { engine: 'rtpengine', rtpengine: `127.0.0.1:${rtpengine.ngPort}` },
      users: [ALICE],
      trunks: [{ name: 'sipp', uri: `sip:127.0.0.1:${trunkPort}`, lateOffer: true, keepalive: false }],
      routes: [{ match: '^\\+?\\d{4,15}$', trunk: 'sipp' }],
      log: { level: 'silent' },
    });
    const gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
    await gw.start();
    cleanups.push(() => gw.stop());
    const tab = await WsSipClient.connect({ url: `${gw.httpUrl.replace(/^http/, 'ws')}sip`, user: ALICE.name, password: ALICE.password });
    cleanups.push(() => tab.close());
    // The caller offers (rtpengine makes the trunk offer we never send); the trunk offers in its 200.
    const call = tab.invite('5551234');
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(inRange(sdpTransform.parse(final.body.toString()).media[0]!.port)).toBe(true);
    expect(find(trunk, 'received', 'INVITE')!.body.length).toBe(0);
    const ack = await until('the ACK at SIPp', () => find(trunk, 'received', 'ACK'), 10_000);
    const answer = sdpTransform.parse(ack.body.toString()).media[0]!;
    expect(answer.protocol).toBe('RTP/AVP');
    expect(inRange(answer.port)).toBe(true);
    expect(String(answer.payloads).split(' ').every((pt) => ['8', '0', '96'].includes(pt))).toBe(true);
    expect((await call.bye()).status).toBe(200);
    expect((await trunk.exited).code).toBe(0);
  }, 40_000);
});
