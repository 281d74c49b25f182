// Mid-call session changes end to end (call/modify.ts), on UDP and TCP toward the trunk: SIPp plays the
// trunk (test/support/sipp/uas-{hold,modify,reinvite,reject,glare}.xml), the WebSocket client plays a
// phone offering plain RTP, and a UDP socket at each end sends numbered frames and counts what arrives,
// so "media stops and resumes" is measured at both ends.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call/modify.test.ts'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sdpTransform from 'sdp-transform';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { glareRetryDelay } from '../../../gateway/sip/ua/offer-answer.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { getCSeq } from '../../../gateway/sip/message/index.js';
import { until } from '../media/peers.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle, type SippScenario } from '../../support/sipp.js';
import { chromeAnswer, chromeOffer, WsSipClient, type OutgoingCall } from '../../support/ws-sip-client.js';
import { directionOf, mediaAddress, mirror, rtpSdp, WsDialog } from '../../support/ws-session.js';
import { gatewayConfig, startGatewayWith, USER, type TestGateway } from './harness.js';
import { RtpEnd } from './rtp-end.js';

const traceDir = mkdtempSync(join(tmpdir(), 'modify-it-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

const text = (m: { body: Buffer }) => m.body.toString('utf8');

interface Rig {
  gw: TestGateway;
  sipp: SippHandle;
  call: OutgoingCall;
  dialog: WsDialog;
  phone: RtpEnd;
  trunk: RtpEnd;
  /** The phone's next SDP version (RFC 3264 §8: each new offer or answer of ours increments it). */
  version: number;
}

/** A phone (WebSocket client, plain RTP; with `webrtc` a browser's offer) calls the SIPp trunk running
 *  `scenario` over `transport`. */
async function rig(scenario: SippScenario, transport: 'udp' | 'tcp', webrtc = false): Promise<Rig> {
  const trunkPort = await freeSipPort();
  const phone = await RtpEnd.open(0);
  const trunk = await RtpEnd.open(100_000);
  cleanups.push(() => phone.close(), () => trunk.close());
  const sippMedia = await freeUdpPortPair();
  // uas-answer (no mid-call requests of its own) names SIPp's media port; ours name the trunk end's socket
  const set: Record<string, number> = scenario === 'uas-answer' ? {} : { trunk_rtp: trunk.port };
  const sipp = startSipp({ scenario, localPort: trunkPort, mediaPort: sippMedia.rtp, traceDir, transport, set });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  const config = gatewayConfig({ trunkUri: `sip:127.0.0.1:${trunkPort}${transport === 'tcp' ? ';transport=tcp' : ''}` });
  config.trunks[0]!.keepalive = false;
  const gw = await startGatewayWith(config);
  cleanups.push(() => gw.close());
  const client = await WsSipClient.connect({ url: gw.wsUrl, user: USER.name, password: USER.password });
  cleanups.push(() => client.close());
  const call = client.invite('5551234', { sdp: webrtc ? chromeOffer(['PCMU', 'PCMA', 'telephone-event']) : rtpSdp(phone.port) });
  const dialog = await WsDialog.of(client, call);
  cleanups.push(async () => dialog.close());
  return { gw, sipp, call, dialog, phone, trunk, version: 2 };
}

/** Both ends start sending to the gateway (the phone where the 200 said, the trunk where the INVITE
 *  said); resolves once each end has counted 20 frames of the other. */
async function startMedia(r: Rig): Promise<void> {
  const invite = await until(() => trunkReceived(r.sipp, 'INVITE').length > 0, 5000, 'the INVITE in the SIPp trace').then(() => trunkReceived(r.sipp, 'INVITE')[0]!);
  r.phone.start(mediaAddress(text(await r.call.final)));
  r.trunk.start(mediaAddress(text(invite)));
  await r.trunk.waitFrames(r.phone, 0, 20, 'phone → trunk');
  await r.phone.waitFrames(r.trunk, 100_000, 20, 'trunk → phone');
}

/** Messages of `label` (a method or a status) SIPp received, in order. */
function trunkReceived(sipp: SippHandle, label: string): SipMessage[] {
  return sipp
    .messages()
    .filter((e) => e.direction === 'received')
    .map((e) => e.message)
    .filter((m) => (m.kind === 'request' ? m.method : String(m.status)) === label);
}

/** The phone answers each offer of the gateway with the mirrored direction; `marks` get the phone's
 *  next frame number at the moment each answer went out. */
function answerMirrored(r: Rig, marks: number[]): void {
  r.dialog.answerWith((req) => {
    marks.push(r.phone.next);
    return { status: 200, sdp: rtpSdp(r.phone.port, { version: r.version++, direction: mirror(directionOf(text(req))) }) };
  });
}

async function hangUp(r: Rig): Promise<void> {
  expect((await r.call.bye()).status).toBe(200);
  const { code } = await r.sipp.exited;
  if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${r.sipp.errors().slice(-2000)}\n`);
  expect(code).toBe(0);
}

describe.each(['udp', 'tcp'] as const)('mid-call changes with the trunk over %s', (transport) => {
  it('hold and resume from the trunk: the phone is offered sendonly then sendrecv; phone → trunk stops and resumes, the trunk\'s audio keeps coming', async () => {
    const r = await rig('uas-hold', transport);
    const marks: number[] = [];
    answerMirrored(r, marks);
    await startMedia(r);
    await until(() => r.dialog.requests.length >= 1, 10_000, 'the hold re-INVITE at the phone');
    const trunkDuringHold = r.trunk.next;
    await until(() => r.dialog.requests.length >= 2, 10_000, 'the resume re-INVITE at the phone');
    expect(r.dialog.requests.map((q) => `${q.method} ${directionOf(text(q))}`)).toEqual(['INVITE sendonly', 'INVITE sendrecv']);
    const [held, resumed] = [marks[0]! + 5, marks[1]! - 3];
    expect(resumed - held).toBeGreaterThan(40);
    // phone → trunk: nothing of what the phone sent while held reached the trunk …
    expect(r.trunk.got(held, resumed)).toBe(0);
    // … while the trunk's own audio (music on hold) reached the phone all along
    expect(r.phone.got(trunkDuringHold, r.trunk.next)).toBeGreaterThan(40);
    await r.trunk.waitFrames(r.phone, marks[1]! + 5, 20, 'phone → trunk after resume');
    const stats = r.gw.media.stats(r.gw.media.offers[0]!.callId)!;
    expect(Object.values(stats.legs).some((l) => (l.packetsHeld ?? 0) > 0)).toBe(true);
    // SIPp's two re-INVITEs got 200s with the phone's answers converted (recvonly, then sendrecv)
    expect(trunkReceived(r.sipp, '200').map((m) => directionOf(text(m)))).toEqual(['recvonly', 'sendrecv']);
    await hangUp(r);
  });

  it.each([
    ['a=sendonly', { direction: 'sendonly' as const }],
    ['c=0.0.0.0 (RFC 2543)', { hold2543: true }],
  ])('hold and resume from the phone with %s: the trunk is offered sendonly; trunk → phone stops and resumes', async (_name, hold) => {
    const r = await rig('uas-reinvite', transport);
    await startMedia(r);
    const held = await r.dialog.send('INVITE', rtpSdp(r.phone.port, { version: r.version++, ...hold }));
    expect(held.status).toBe(200);
    expect(directionOf(text(held))).toBe('recvonly');
    const from = r.trunk.next + 5;
    // the phone's own audio still reaches the trunk while it holds
    await r.trunk.waitFrames(r.phone, r.phone.next, 40, 'phone → trunk during hold');
    const to = r.trunk.next - 3;
    const resumed = await r.dialog.send('INVITE', rtpSdp(r.phone.port, { version: r.version++ }));
    expect(resumed.status).toBe(200);
    expect(directionOf(text(resumed))).toBe('sendrecv');
    expect(to - from).toBeGreaterThan(20);
    expect(r.phone.got(from, to)).toBe(0);
    await r.phone.waitFrames(r.trunk, r.trunk.next + 5, 20, 'trunk → phone after resume');
    const offers = trunkReceived(r.sipp, 'INVITE').slice(1);
    expect(offers.map((m) => directionOf(text(m)))).toEqual(['sendonly', 'sendrecv']);
    await hangUp(r);
  });

  it('the trunk refuses the hold (488): the phone gets 488 and media keeps flowing both ways', async () => {
    const r = await rig('uas-reject', transport);
    await startMedia(r);
    const res = await r.dialog.send('INVITE', rtpSdp(r.phone.port, { version: r.version++, direction: 'sendonly' }));
    expect(res.status).toBe(488);
    const [p, t] = [r.phone.next + 5, r.trunk.next + 5];
    await r.trunk.waitFrames(r.phone, p, 20, 'phone → trunk after the refused hold');
    await r.phone.waitFrames(r.trunk, t, 20, 'trunk → phone after the refused hold');
    await hangUp(r);
  });

  it('refresh with the same SDP and a re-INVITE without SDP are answered without the phone; UPDATEs with SDP reach it', async () => {
    const r = await rig('uas-modify', transport);
    answerMirrored(r, []);
    await until(() => r.dialog.requests.length >= 2, 10_000, 'the two UPDATEs carried to the phone');
    // the hang-up only once the trunk has the 200 to its last UPDATE (else the BYE may overtake it)
    await until(() => trunkReceived(r.sipp, '200').some((m) => getCSeq(m).seq === 5), 10_000, 'the 200 to the second UPDATE at the trunk');
    await hangUp(r);
    // the phone heard only the two changes (its INVITE listed no Allow: UPDATE → carried as re-INVITEs)
    expect(r.dialog.requests.map((q) => `${q.method} ${directionOf(text(q))}`)).toEqual(['INVITE sendonly', 'INVITE sendrecv']);
    const oks = new Map(trunkReceived(r.sipp, '200').map((m) => [getCSeq(m).seq, m]));
    expect([...oks.keys()].sort()).toEqual([2, 3, 4, 5]);
    // the 200 to the refresh and to the SDP-less re-INVITE: the gateway's trunk-side address as in its INVITE
    const ours = mediaAddress(text(trunkReceived(r.sipp, 'INVITE')[0]!));
    expect(mediaAddress(text(oks.get(2)!))).toEqual(ours);
    expect(mediaAddress(text(oks.get(3)!))).toEqual(ours);
    expect([4, 5].map((n) => directionOf(text(oks.get(n)!)))).toEqual(['recvonly', 'sendrecv']);
  });

  it('a browser\'s ICE restart with a new DTLS certificate is answered by the gateway; the trunk hears nothing', async () => {
    const r = await rig('uas-answer', transport, true);
    const first = text(await r.call.final);
    const restart = chromeOffer(['PCMU', 'PCMA', 'telephone-event']);
    const res = await r.dialog.send('INVITE', restart);
    expect(res.status).toBe(200);
    const answer = sdpTransform.parse(text(res));
    expect(answer.media[0]!.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect((answer.fingerprint ?? answer.media[0]!.fingerprint)?.hash).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i);
    // the same leg (port) of the relay answers the new ICE/DTLS session
    expect(answer.media[0]!.port).toBe(sdpTransform.parse(first).media[0]!.port);
    await hangUp(r);
    expect(r.sipp.messages().filter((e) => e.direction === 'received').map((e) => (e.message.kind === 'request' ? e.message.method : e.message.status))).toEqual(['INVITE', 'ACK', 'BYE']);
  });

  it('glare: both sides re-INVITE at once → 491 to each; the gateway retries within 2 s, the phone after its 2.1–4 s timer', async () => {
    const r = await rig('uas-glare', transport);
    const at: number[] = [];
    let own: Promise<SipResponse> | undefined;
    r.dialog.answerWith((req: SipRequest) => {
      at.push(Date.now());
      if (at.length === 1) {
        // our own re-INVITE goes out before our 491 to theirs: the gateway sees both in flight
        own = r.dialog.send('INVITE', rtpSdp(r.phone.port, { version: r.version++, direction: 'sendonly' }));
        return { status: 491 };
      }
      return { status: 200, sdp: rtpSdp(r.phone.port, { version: r.version++, direction: mirror(directionOf(text(req))) }) };
    });
    await until(() => own !== undefined, 10_000, 'the trunk\'s re-INVITE at the phone');
    expect((await own!).status).toBe(491);
    await until(() => at.length >= 2, 10_000, 'the gateway\'s retry');
    expect(at[1]! - at[0]!).toBeLessThan(2000 + 500);
    // RFC 3261 §14.1: we own the Call-ID of our call, so our retry waits 2.1–4 s
    await new Promise((resolve) => setTimeout(resolve, glareRetryDelay(true, Math.random)));
    const retried = await r.dialog.send('INVITE', rtpSdp(r.phone.port, { version: r.version++, direction: 'sendonly' }));
    expect(retried.status).toBe(200);
    expect(directionOf(text(retried))).toBe('recvonly');
    await hangUp(r);
    expect(trunkReceived(r.sipp, 'INVITE').slice(1).map((m) => directionOf(text(m)))).toEqual(['sendonly']);
  });
});

describe.each(['udp', 'tcp'] as const)('a SIP phone over %s (SIPp as the phone and as the trunk)', (transport) => {
  it('holds (a=sendonly) and resumes: the trunk is offered sendonly then sendrecv; trunk → phone stops and resumes', async () => {
    const [trunkPort, phonePort, gwTcp] = [await freeSipPort(), await freeSipPort(), await freeSipPort()];
    const phone = await RtpEnd.open(0);
    const trunk = await RtpEnd.open(100_000);
    cleanups.push(() => phone.close(), () => trunk.close());
    const trunkSipp = startSipp({ scenario: 'uas-reinvite', localPort: trunkPort, mediaPort: (await freeUdpPortPair()).rtp, traceDir, transport, set: { trunk_rtp: trunk.port } });
    cleanups.push(() => trunkSipp.stop());
    await trunkSipp.ready;
    const config = gatewayConfig({ trunkUri: `sip:127.0.0.1:${trunkPort}${transport === 'tcp' ? ';transport=tcp' : ''}` });
    config.trunks[0]!.keepalive = false;
    config.sip.listen = ['udp:127.0.0.1:0', `tcp:127.0.0.1:${gwTcp}`];
    const gw = await startGatewayWith(config);
    cleanups.push(() => gw.close());
    // The phone on 127.0.0.2: 127.0.0.1 is the trunk's address, and an INVITE from a trunk is no user's call.
    const remote = transport === 'udp' ? gw.udp : `127.0.0.1:${gwTcp}`;
    const phoneSipp = startSipp({
      scenario: 'uac-hold', localPort: phonePort, mediaPort: (await freeUdpPortPair()).rtp, traceDir, transport, service: '5551234',
      remote, auth: { username: USER.name, password: USER.password }, set: { phone_rtp: phone.port, phone_user: USER.name },
      // -auth_uri: SIPp's digest uri is remote_ip:remote_port by default, not the Request-URI (RFC 3261 §22.4)
      args: ['-i', '127.0.0.2', '-auth_uri', `5551234@${remote}`],
    });
    cleanups.push(() => phoneSipp.stop());
    await until(() => trunkReceived(phoneSipp, '200').length > 0 && trunkReceived(trunkSipp, 'INVITE').length > 0, 10_000, 'the call answered');
    phone.start(mediaAddress(text(trunkReceived(phoneSipp, '200')[0]!)));
    trunk.start(mediaAddress(text(trunkReceived(trunkSipp, 'INVITE')[0]!)));
    await phone.waitFrames(trunk, 100_000, 20, 'trunk → phone');
    await until(() => trunkReceived(trunkSipp, 'INVITE').length >= 2, 10_000, 'the hold re-INVITE at the trunk');
    const hold = trunk.next + 10;
    await until(() => trunk.next >= hold + 30 || trunkReceived(trunkSipp, 'INVITE').length >= 3, 10_000, 'hold time');
    await until(() => trunkReceived(trunkSipp, 'INVITE').length >= 3, 10_000, 'the resume re-INVITE at the trunk');
    const resume = trunk.next;
    // the hold window must lie before the resume for the count below to mean anything
    expect(resume).toBeGreaterThan(hold + 35);
    expect(phone.got(hold, hold + 30)).toBe(0);
    expect(trunk.got(0, phone.next)).toBeGreaterThan(60); // the phone's own audio reached the trunk all along
    await phone.waitFrames(trunk, resume + 5, 20, 'trunk → phone after resume');
    const { code } = await phoneSipp.exited;
    expect(code).toBe(0);
    expect((await trunkSipp.exited).code).toBe(0);
    expect(trunkReceived(trunkSipp, 'INVITE').slice(1).map((m) => directionOf(text(m)))).toEqual(['sendonly', 'sendrecv']);
    const phoneOks = trunkReceived(phoneSipp, '200').filter((m) => getCSeq(m).method === 'INVITE');
    expect(phoneOks.map((m) => directionOf(text(m)))).toEqual(['sendrecv', 'recvonly', 'sendrecv']);
  });
});

describe.each(['udp', 'tcp'] as const)('a call from the trunk (over %s) to a browser', (transport) => {
  it('the trunk holds and resumes: the browser is offered sendonly then sendrecv; its answers reach the trunk', async () => {
    const trunkPort = await freeSipPort();
    const gwTcp = await freeSipPort();
    const config = gatewayConfig({ trunkUri: `sip:127.0.0.1:${trunkPort}${transport === 'tcp' ? ';transport=tcp' : ''}` });
    config.trunks[0]!.keepalive = false;
    config.users[0]!.dids = ['+15550100'];
    config.sip.listen = ['udp:127.0.0.1:0', `tcp:127.0.0.1:${gwTcp}`];
    const gw = await startGatewayWith(config);
    cleanups.push(() => gw.close());
    const client = await WsSipClient.connect({ url: gw.wsUrl, user: USER.name, password: USER.password });
    cleanups.push(() => client.close());
    expect((await client.register()).status).toBe(200);
    const sipp = startSipp({
      scenario: 'uac-trunk-hold', localPort: trunkPort, mediaPort: (await freeUdpPortPair()).rtp, traceDir, transport, service: '+15550100',
      remote: transport === 'udp' ? gw.udp : `127.0.0.1:${gwTcp}`, set: { trunk_rtp: (await freeUdpPortPair()).rtp },
    });
    cleanups.push(() => sipp.stop());
    const incoming = await client.incoming();
    const dialog = WsDialog.incoming(client, incoming.callId);
    cleanups.push(async () => dialog.close());
    dialog.answerWith((req) => ({ status: 200, sdp: chromeAnswer(text(req)).replace('a=sendrecv', `a=${mirror(directionOf(text(req)))}`) }));
    await incoming.accept();
    const { code } = await sipp.exited;
    if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${sipp.errors().slice(-2000)}\n`);
    expect(code).toBe(0);
    expect(dialog.requests.map((q) => `${q.method} ${directionOf(text(q))}`)).toEqual(['INVITE sendonly', 'INVITE sendrecv']);
    const oks = trunkReceived(sipp, '200').filter((m) => getCSeq(m).method === 'INVITE');
    expect(oks.map((m) => directionOf(text(m)))).toEqual(['sendrecv', 'recvonly', 'sendrecv']);
  });
});
