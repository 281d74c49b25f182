// DTMF across the B2BUA (call/dtmf.ts, media/dtmf/, sip/ua/info.ts) with SIPp as the trunk and the
// WebSocket client as a SIP phone offering plain RTP (PCMU + telephone-event 101). A UDP socket at each end
// plays the RTP endpoint: it sends numbered PCMU frames every 20 ms and keeps every packet it receives, so
// the RFC 4733 events the gateway generates are decoded from what arrived (PT, timestamps, durations, M,
// E × 3, volume, SSRC and SEQ continuity with the relayed audio). The trunk answers telephone-event as 96:
// events toward it must be 96, toward the phone 101.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/call/dtmf.test.ts'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventPacket } from '../../../gateway/media/dtmf/rfc4733.js';
import { getHeader, getHeaderValues } from '../../../gateway/sip/message/index.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { WsSipClient, type OutgoingCall } from '../../support/ws-sip-client.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';
import { until } from '../media/peers.js';
import { byEvent, End, expectEvent, expectGapFree, phoneInfo, received, text } from './dtmf-rig.js';
import { gatewayConfig, startGatewayWith, USER, type TestGateway } from './harness.js';

const traceDir = mkdtempSync(join(tmpdir(), 'dtmf-it-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

const SCENARIOS = join(import.meta.dirname, '../../support/sipp');

interface Rig {
  gw: TestGateway;
  sipp: SippHandle;
  client: WsSipClient;
  call: OutgoingCall;
  final: SipResponse;
  phone: End;
  trunk: End;
}

async function rig(scenario: string, set: Record<string, number>, dtmf: 'rfc4733' | 'info' = 'rfc4733'): Promise<Rig> {
  const trunkPort = await freeSipPort();
  const phone = await End.open(0x0a0a0a0a, cleanups);
  const trunk = await End.open(0x0b0b0b0b, cleanups);
  const sippMedia = await freeUdpPortPair();
  const sipp = startSipp({ scenarioFile: join(SCENARIOS, `${scenario}.xml`), localPort: trunkPort, mediaPort: sippMedia.rtp, traceDir, set: { trunk_rtp: trunk.sock.port, ...set } });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  const config = gatewayConfig({ trunkUri: `sip:127.0.0.1:${trunkPort}` });
  config.trunks[0]!.keepalive = false;
  config.trunks[0]!.dtmf = dtmf;
  const gw = await startGatewayWith(config);
  cleanups.push(() => gw.close());
  const client = await WsSipClient.connect({ url: gw.wsUrl, user: USER.name, password: USER.password });
  cleanups.push(() => client.close());
  const call = client.invite('5551234', { sdp: rtpSdp(phone.sock.port) });
  const final = await call.final;
  expect(final.status).toBe(200);
  const invite = await until(() => received(sipp, 'INVITE').length > 0, 5000, 'the INVITE at SIPp').then(() => received(sipp, 'INVITE')[0]!);
  phone.start(mediaAddress(text(final)));
  trunk.start(mediaAddress(text(invite)));
  await until(() => phone.sock.rtp.length >= 10 && trunk.sock.rtp.length >= 10, 10_000, 'audio both ways');
  return { gw, sipp, client, call, final, phone, trunk };
}

async function hangUp(r: Rig): Promise<void> {
  expect((await r.call.bye()).status).toBe(200);
  const { code } = await r.sipp.exited;
  if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${r.sipp.errors().slice(-2000)}\n`);
  expect(code).toBe(0);
}

describe('DTMF between a SIP phone and a trunk', () => {
  it('INFO from the phone → RFC 4733 at the trunk as PT 96; INFO from the trunk → RFC 4733 at the phone as PT 101; in the relayed stream, gap-free', async () => {
    const r = await rig('uas-dtmf-answer', { te_pt: 96 });
    // RFC 6086 §4.2.2 on the wire: an Info Package we never announced → 469, a body that is no DTMF → 415,
    // an empty INFO → 200
    expect((await phoneInfo(r, 'application/dtmf-relay', 'Signal=1\r\nDuration=100\r\n', [{ name: 'Info-Package', value: 'foo' }])).status).toBe(469);
    const unsupported = await phoneInfo(r, 'text/plain', 'hello');
    expect(unsupported.status).toBe(415);
    expect(getHeaderValues(unsupported, 'Accept').join(', ')).toBe('application/dtmf-relay, application/dtmf');
    expect((await phoneInfo(r, undefined, '')).status).toBe(200);
    expect((await phoneInfo(r, 'application/dtmf-relay', 'Signal=X\r\n')).status).toBe(400);
    expect(r.trunk.events(96)).toEqual([]);

    expect((await phoneInfo(r, 'application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).status).toBe(200);
    expect((await phoneInfo(r, 'application/dtmf', '9')).status).toBe(200);
    await until(() => byEvent(r.trunk.events(96)).filter((e) => e.filter((p) => p.end).length === 3).length === 2, 10_000, 'two events ended at the trunk');
    const [five, nine] = byEvent(r.trunk.events(96));
    expectEvent(five!, 5, 1280); // 160 ms at 8 kHz
    expectEvent(nine!, 9, 2000); // application/dtmf: 250 ms
    // no overlap (RFC 4733 §2.5.1.2): "9" starts at or after the end of "5" on the stream's clock
    expect(nine![0]!.timestamp - five![0]!.timestamp).toBeGreaterThanOrEqual(1280);
    // the events ride the phone's relayed stream: its SSRC, its SEQ (no gap, no duplicate), its clock
    expect(new Set([...five!, ...nine!].map((p) => p.ssrc))).toEqual(new Set([r.phone.ssrc]));
    expectGapFree(r.trunk, r.phone.ssrc);
    const audioTs = r.trunk.sock.rtp.filter((p) => (p[1]! & 0x7f) === 0).map((p) => p.readUInt32BE(4));
    expect(five![0]!.timestamp).toBeGreaterThanOrEqual(Math.min(...audioTs));
    expect(five![0]!.timestamp).toBeLessThanOrEqual(Math.max(...audioTs) + 160 * 10);
    expect(r.trunk.payloadTypes().filter((pt) => pt !== 0 && pt !== 96)).toEqual([]);

    // the trunk's INFO (Signal=#, Duration=200) → the phone, in the phone's numbering (101)
    await until(() => r.phone.events(101).filter((p) => p.end).length === 3, 10_000, 'the # event ended at the phone');
    const [hash] = byEvent(r.phone.events(101));
    expectEvent(hash!, 11, 1600);
    expectGapFree(r.phone, r.trunk.ssrc);
    expect(r.phone.payloadTypes().filter((pt) => pt !== 0 && pt !== 101)).toEqual([]);
    await hangUp(r);
  });

  it('a trunk with dtmf: info and no telephone-event gets INFO for both an INFO and RFC 4733 events from the phone; the events do not reach its RTP', async () => {
    const r = await rig('uas-dtmf-info', {}, 'info');
    // the trunk answered without telephone-event; the phone's answer keeps it (the gateway takes the events)
    expect(text(received(r.sipp, 'INVITE')[0]!)).toMatch(/telephone-event/);
    expect(text(r.final)).toMatch(/a=rtpmap:101 telephone-event\/8000/);
    expect((await phoneInfo(r, 'application/dtmf-relay', 'Signal=1\r\nDuration=100\r\n')).status).toBe(200);
    await until(() => received(r.sipp, 'INFO').length === 1, 5000, 'the first INFO at the trunk');
    // the phone sends "7" for 100 ms in its RTP (PT 101): updates, then the E packet three times
    const ts = 999_000;
    let seq = 40_000;
    const send = (duration: number, end: boolean) => r.phone.send(eventPacket({ pt: 101, marker: duration === 160, seq: seq++, timestamp: ts, ssrc: 0x0c0c0c0c }, { event: 7, end, volume: 10, duration }));
    for (const d of [160, 320, 480, 640]) send(d, false);
    for (let i = 0; i < 3; i++) send(800, true);
    await until(() => received(r.sipp, 'INFO').length === 2, 5000, 'the second INFO at the trunk');
    const infos = received(r.sipp, 'INFO');
    expect(infos.map((m) => getHeader(m, 'Content-Type'))).toEqual(['application/dtmf-relay', 'application/dtmf-relay']);
    expect(infos.map(text)).toEqual(['Signal=1\r\nDuration=100\r\n', 'Signal=7\r\nDuration=100\r\n']);
    // nothing of the event reached the trunk's RTP, while the phone's audio did
    expect(r.trunk.payloadTypes().filter((pt) => pt !== 0)).toEqual([]);
    const audio = r.trunk.sock.rtp.length;
    await until(() => r.trunk.sock.rtp.length > audio + 5, 5000, 'more audio at the trunk');
    await hangUp(r);
  });
});
