// The outbound B2BUA end to end: a WebSocket client plays the browser, SIPp plays the trunk.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sdpTransform from 'sdp-transform';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SipMessage, SipResponse } from '../../../gateway/sip/message/types.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { checkTraceDigest, startSipp, type SippHandle, type SippScenario } from '../../support/sipp.js';
import { traceHeader, type SippTraceEntry } from '../../support/sipp-trace.js';
import { chromeOffer, WsSipClient } from '../../support/ws-sip-client.js';
import { startTestGateway, TRUNK_CREDENTIALS, USER, type TestGateway, type TestGatewayOptions } from './harness.js';

const traceDir = mkdtempSync(join(tmpdir(), 'call-it-'));
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

interface Rig {
  gw: TestGateway;
  client: WsSipClient;
  sipp?: SippHandle;
}

type RigOptions = Partial<TestGatewayOptions> & { set?: Record<string, number>; tcp?: boolean };

async function rig(scenario: SippScenario | undefined, o: RigOptions = {}): Promise<Rig> {
  const trunkPort = await freeSipPort();
  const transport = o.tcp ? 'tcp' : 'udp';
  let sipp: SippHandle | undefined;
  if (scenario) {
    const media = await freeUdpPortPair();
    sipp = startSipp({ scenario, localPort: trunkPort, mediaPort: media.rtp, traceDir, transport, set: o.set, keys: { auth_realm: 'trunk.test' } });
    cleanups.push(() => sipp!.stop());
    await sipp.ready;
  }
  const gw = await startTestGateway({ trunkUri: `sip:127.0.0.1:${trunkPort}${o.tcp ? ';transport=tcp' : ''}`, ...o });
  cleanups.push(() => gw.close());
  const client = await WsSipClient.connect({ url: gw.wsUrl, user: USER.name, password: USER.password });
  cleanups.push(() => client.close());
  return { gw, client, sipp };
}

const received = (entries: SippTraceEntry[]) => entries.filter((e) => e.direction === 'received').map((e) => label(e.message));
const label = (m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status));
const statuses = (responses: SipResponse[]) => responses.map((r) => r.status);

function trunkInvite(sipp: SippHandle, n = 0): SipMessage {
  const invites = sipp.messages().filter((e) => e.direction === 'received' && label(e.message) === 'INVITE');
  return invites[n]!.message;
}

/** The INVITE SIPp saw: RTP/AVP with only G.711 + telephone-event, From = the configured callerId. */
function expectTrunkInvite(invite: SipMessage): void {
  const sdp = sdpTransform.parse(invite.body.toString());
  const audio = sdp.media[0]!;
  expect(audio.protocol).toBe('RTP/AVP');
  expect(audio.rtp.map((r) => r.codec).sort()).toEqual(['PCMA', 'PCMU', 'telephone-event']);
  expect(sdp.fingerprint ?? audio.fingerprint).toBeUndefined();
  expect(traceHeader(invite, 'From')).toMatch(/<sip:\+15550001@127\.0\.0\.1>/);
  expect(invite.kind === 'request' && invite.uri).toMatch(/^sip:5551234@127\.0\.0\.1:\d+$/);
}

/** The answer the browser got: WebRTC profile, ICE-lite at session level, a fingerprint, SIPp's codec. */
function expectWebRtcAnswer(res: SipResponse, viaTrunk = true): void {
  const sdp = sdpTransform.parse(res.body.toString());
  expect(sdp.icelite).toBe('ice-lite');
  const audio = sdp.media[0]!;
  expect(audio.protocol).toBe('UDP/TLS/RTP/SAVPF');
  expect((sdp.fingerprint ?? audio.fingerprint)?.hash).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i);
  expect(audio.rtp.map((r) => r.codec)).toContain('PCMU');
  // Through the trunk only what SIPp chose (PCMU) can come back; the echo line may keep any codec.
  if (viaTrunk) expect(audio.rtp.map((r) => r.codec)).not.toContain('opus');
}

async function exited(sipp: SippHandle): Promise<number | null> {
  const { code } = await sipp.exited;
  // SIPp's own account of a failure (unexpected message, timeout) makes a red test readable.
  if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${sipp.errors().slice(-2000)}\n`);
  return code;
}

describe('outbound calls through the gateway to a SIPp trunk', () => {
  it('INVITE/200/ACK, the browser hangs up', async () => {
    const { client, sipp, gw } = await rig('uas-answer');
    const call = client.invite('5551234');
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(statuses(call.responses)).toEqual([407, 180, 200]);
    expectWebRtcAnswer(final);
    expect(gw.service.status().calls).toBe(1);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(sipp!)).toBe(0);
    expect(received(sipp!.messages())).toEqual(['INVITE', 'ACK', 'BYE']);
    expectTrunkInvite(trunkInvite(sipp!));
    expect(gw.service.status().calls).toBe(0);
  });

  it('loop detection (RFC 7332): the trunk INVITE carries the browser\'s Max-Forwards less one', async () => {
    const { client, sipp } = await rig('uas-answer');
    const call = client.invite('5551234', { maxForwards: 23 });
    expect((await call.final).status).toBe(200);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(sipp!)).toBe(0);
    expect(traceHeader(trunkInvite(sipp!), 'Max-Forwards')).toBe('22');
  });

  it('the trunk hangs up: the browser gets BYE', async () => {
    const { client, sipp, gw } = await rig('uas-answer', { set: { hangup_ms: 300 } });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    const bye = await call.byeReceived;
    expect(bye.method).toBe('BYE');
    expect(await exited(sipp!)).toBe(0);
    expect(received(sipp!.messages())).toEqual(['INVITE', 'ACK', '200']);
    expect(gw.service.status().calls).toBe(0);
  });

  it('486 from the trunk reaches the browser', async () => {
    const { client, sipp } = await rig('uas-busy');
    const final = await client.invite('5551234').final;
    expect([final.status, final.reason]).toEqual([486, 'Busy Here']);
    expect(await exited(sipp!)).toBe(0);
    expect(received(sipp!.messages())).toEqual(['INVITE', 'ACK']);
  });

  it('407 from the trunk is answered with the trunk credentials', async () => {
    const { client, sipp } = await rig('uas-auth', { set: { hangup_ms: 300 } });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    await call.byeReceived;
    expect(await exited(sipp!)).toBe(0);
    const second = trunkInvite(sipp!, 1);
    const check = checkTraceDigest(second, TRUNK_CREDENTIALS.password);
    expect(check.ok, check.reason).toBe(true);
    expect(check.credentials!.username).toBe(TRUNK_CREDENTIALS.username);
    expect(traceHeader(second, 'Call-ID')).toBe(traceHeader(trunkInvite(sipp!, 0), 'Call-ID'));
    expect(statuses(call.responses).filter((s) => s === 407)).toHaveLength(1); // only the browser's own challenge
  });

  it('CANCEL before answer: the browser gets 487, SIPp sees the CANCEL', async () => {
    const { client, sipp, gw } = await rig('uas-ring-cancel');
    const call = client.invite('5551234');
    await client.waitFor((m) => m.kind === 'response' && m.status === 180);
    call.cancel();
    const final = await call.final;
    expect(final.status).toBe(487);
    expect(client.received.some((m) => m.kind === 'response' && m.status === 200 && traceHeader(m, 'CSeq')?.endsWith('CANCEL'))).toBe(true);
    expect(await exited(sipp!)).toBe(0);
    expect(received(sipp!.messages())).toEqual(['INVITE', 'CANCEL', 'ACK']);
    expect(gw.service.status().calls).toBe(0);
  });

  it('a silent trunk: 408 after Timer B (t1 = 100 ms → 6.4 s)', async () => {
    const { client, sipp } = await rig('uas-silent', { timers: { t1: 100 }, set: { silent_ms: 15_000 } });
    const started = Date.now();
    const final = await client.invite('5551234').final;
    expect(final.status).toBe(408);
    expect(Date.now() - started).toBeGreaterThan(6_000);
    expect(received(sipp!.messages()).filter((l) => l === 'INVITE').length).toBeGreaterThan(1); // retransmitted over UDP
  });

  it('an unreachable UDP trunk (closed port): 408 after Timer B, never a hang', async () => {
    const { client } = await rig(undefined, { timers: { t1: 100 } });
    const final = await client.invite('5551234').final;
    // ICMP port-unreachable is not reported on an unconnected UDP socket: Timer B decides.
    expect(final.status).toBe(408);
  });

  it('an unreachable TCP trunk (connection refused): 503 at once', async () => {
    const { client } = await rig(undefined, { tcp: true });
    const started = Date.now();
    const final = await client.invite('5551234').final;
    expect(final.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a TCP trunk: INVITE/200/ACK/BYE over TCP', async () => {
    const { client, sipp } = await rig('uas-answer', { tcp: true });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(sipp!)).toBe(0);
    expect(received(sipp!.messages())).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(traceHeader(trunkInvite(sipp!), 'Via')).toMatch(/^SIP\/2\.0\/TCP /);
  });
});

describe('calls the gateway refuses', () => {
  it('an unauthenticated INVITE gets 407 and nothing reaches SIPp', async () => {
    const { client, sipp } = await rig('uas-answer');
    const final = await client.invite('5551234', { auth: false }).final;
    expect(final.status).toBe(407);
    expect(traceHeader(final, 'Proxy-Authenticate')).toMatch(/^Digest /);
    await new Promise((r) => setTimeout(r, 300));
    expect(sipp!.messages()).toHaveLength(0);
  });

  it('Max-Forwards 0 gets 483 Too Many Hops', async () => {
    const { client } = await rig(undefined);
    const final = await client.invite('5551234', { maxForwards: 0 }).final;
    expect([final.status, final.reason]).toEqual([483, 'Too Many Hops']);
  });

  it('a number with no route gets 404', async () => {
    const { client } = await rig(undefined);
    const final = await client.invite('12').final;
    expect([final.status, final.reason]).toEqual([404, 'No Route']);
  });

  it('a browser offer without G.711 gets 488 and nothing reaches SIPp', async () => {
    const { client, sipp } = await rig('uas-answer');
    const final = await client.invite('5551234', { sdp: chromeOffer(['opus', 'telephone-event']) }).final;
    expect(final.status).toBe(488);
    await new Promise((r) => setTimeout(r, 300));
    expect(sipp!.messages()).toHaveLength(0);
  });

  it('REGISTER over WebSocket with digest, then the echo line', async () => {
    const { client, gw } = await rig(undefined);
    const reg = await client.register(600);
    expect(reg.status).toBe(200);
    expect(gw.service.status().registrations).toBe(1);
    const call = client.invite('*43');
    const final = await call.final;
    expect(final.status).toBe(200);
    expectWebRtcAnswer(final, false);
    expect((await call.bye()).status).toBe(200);
    await client.close();
    // The binding dies with its WebSocket (RFC 7118 §5): wait for the server side to see the close.
    for (let i = 0; i < 100 && gw.service.status().registrations !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(gw.service.status().registrations).toBe(0);
  });
});
