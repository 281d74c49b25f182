// A blind transfer's new leg goes out like any call the transferring user places (transfer-route.ts,
// dial.ts walkTrunks): the route's trunks in order with failover, the number rewrite, the route's caller ID
// and P-Asserted-Identity toward a trusted trunk, the user's limits (users[].maxCalls) and the trunks'
// slots; and DTMF between the two joined parties is worked out again after the splice (call/dtmf.ts
// rejoin): an INFO becomes RFC 4733 toward a new party with telephone-event, RFC 4733 becomes INFO toward
// a new trunks[].dtmf: info party — checked on the wire at SIPp and at UDP sockets playing the RTP ends.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/call/transfer-dialplan.test.ts'
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../gateway/config/schema.js';
import { eventPacket } from '../../../gateway/media/dtmf/rfc4733.js';
import { getFrom, getHeader } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { SCENARIO_DIR, startSipp, type SippHandle } from '../../support/sipp.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { until } from '../media/peers.js';
import { byEvent, End, expectEvent, phoneInfo } from './dtmf-rig.js';
import { startGatewayWith, TRUNK_CREDENTIALS, USER, type TestGateway } from './harness.js';
import { RtpEnd } from './rtp-end.js';
import { exitedCleanly, flowing, inviteTo, partyBed, Phone, received, text } from './transfer-rig.js';

const { traceDir, cleanups, party } = partyBed('transfer-dialplan-it-');

/** A SIPp trunk whose SDP names `end`'s socket (the RTP end the test reads DTMF at). */
async function dtmfParty(scenario: string, end: End, set: Record<string, number> = {}): Promise<{ sipp: SippHandle; port: number }> {
  const port = await freeSipPort();
  const media = await freeUdpPortPair();
  const sipp = startSipp({ scenarioFile: join(SCENARIO_DIR, `${scenario}.xml`), localPort: port, mediaPort: media.rtp, traceDir, set: { trunk_rtp: end.sock.port, ...set } });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  return { sipp, port };
}

/** Trunk `sipp` (the far party) and the trunks the transfer targets go to; `user` overrides alice's keys. */
async function gateway(o: { far: number; refer?: 'honour' | 'refuse'; trunks: Array<Record<string, unknown>>; routes: unknown[]; user?: Record<string, unknown>; others?: unknown[] }): Promise<TestGateway> {
  const config = configSchema.parse({
    sip: { listen: ['udp:127.0.0.1:0'] },
    media: { rtpPorts: '45000-45999', address: '127.0.0.1' },
    users: [{ ...USER, ...o.user }, ...(o.others ?? [])],
    trunks: [{ name: 'sipp', uri: `sip:127.0.0.1:${o.far}`, ...TRUNK_CREDENTIALS, keepalive: false, refer: o.refer ?? 'refuse' }, ...o.trunks],
    routes: [...o.routes, { match: '^\\+?\\d{4,15}$', trunk: 'sipp' }],
    // Every number is allowed: the class rules are not what this file is about (the limits are).
    dialRules: { classes: [{ name: 'any', match: '.*' }], allow: ['any'] },
    calls: { ringTimeout: 10 },
    log: { level: 'silent' },
  });
  const gw = await startGatewayWith(config);
  cleanups.push(() => gw.close());
  return gw;
}

async function phoneOf(gw: TestGateway): Promise<Phone> {
  const phone = await Phone.connect(gw.wsUrl);
  cleanups.push(() => phone.close());
  return phone;
}

async function rtpEnd(base: number): Promise<RtpEnd> {
  const end = await RtpEnd.open(base);
  cleanups.push(() => end.close());
  return end;
}

interface PolicyActive {
  active: { users: Record<string, number>; trunks: Record<string, number> };
}
interface TrunkRow {
  name: string;
  calls: Record<string, number>;
}
const policyOf = (gw: TestGateway) => gw.service.status().policy as PolicyActive;
const trunkRow = (gw: TestGateway, name: string) => (gw.service.status().trunks as TrunkRow[]).find((t) => t.name === name)!.calls;
const userPart = (uri: string) => /^sips?:([^@]+)@/.exec(uri)?.[1];

/** Route "0…" (national) → trunks a then b, rewritten to +49…, presented as the route's caller ID. */
const NATIONAL = { match: '^0\\d{5,}$', trunks: ['a', 'b'], rewrite: [{ strip: 1 }, { prepend: '+49' }], callerId: '+4930999' };

describe('a blind transfer through the dial plan', () => {
  it('the route lists two trunks, the first answers 503: the target INVITE lands at the second with the rewritten Request-URI, the route\'s caller ID and PAI; both slots held while the call runs', async () => {
    const far = await party('uas-answer-rtp', 100_000);
    const a = await party('uas-failover-503', 300_000);
    const b = await party('uas-answer-rtp', 200_000);
    const gw = await gateway({
      far: far.port,
      trunks: [
        { name: 'a', uri: `sip:127.0.0.1:${a.port}`, keepalive: false },
        { name: 'b', uri: `sip:127.0.0.1:${b.port}`, keepalive: false, trusted: true },
      ],
      routes: [NATIONAL],
    });
    const phone = await phoneOf(gw);
    const mic = await rtpEnd(0);
    const { call, ok } = await phone.call('5551234', mic);
    await flowing(mic, text(ok), far.rtp, text(await inviteTo(far.sipp)), 'phone ⇄ far party');
    expect(policyOf(gw).active.users).toEqual({ alice: 1 });

    expect((await phone.refer(call, ok, '<sip:030123456@127.0.0.1>')).status).toBe(202);
    await phone.waitSipfrag(call.callId, 'SIP/2.0 200 OK');
    // the 503 of trunk a is not the transferor's business: NOTIFY 100, then the 200 of trunk b
    expect(phone.sipfrags(call.callId)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    await exitedCleanly(a.sipp); // INVITE, 503, ACK
    const [atA] = received(a.sipp, 'INVITE') as SipRequest[];
    const atB = await inviteTo(b.sipp);
    for (const invite of [atA!, atB]) {
      expect(userPart(invite.uri)).toBe('+4930123456');
      expect(getFrom(invite).uri.user).toBe('+4930999');
      expect(getHeader(invite, 'Referred-By')).toBe('<sip:alice@127.0.0.1>');
    }
    // RFC 3325: only the trusted trunk b gets the asserted identity
    expect(getHeader(atA!, 'P-Asserted-Identity')).toBeUndefined();
    expect(getHeader(atB, 'P-Asserted-Identity')).toBe('<sip:+4930999@127.0.0.1>');
    expect(trunkRow(gw, 'a')).toMatchObject({ attempts: 1, failovers: 1, answered: 0, current: 0 });
    expect(trunkRow(gw, 'b')).toMatchObject({ attempts: 1, answered: 1, current: 1 });
    // alice's call and her transfer's outside leg both count (users[].maxCalls), trunk b holds a slot
    await until(() => phone.byes(call.callId).length === 1, 5000, 'BYE to the phone');
    expect(policyOf(gw).active).toEqual({ users: { alice: 2 }, trunks: { sipp: 1, b: 1 } });
    // the far party and the target hear each other
    b.rtp.start(mediaAddress(text(atB)));
    await b.rtp.waitFrames(far.rtp, far.rtp.next, 25, 'far party → target');
    await far.rtp.waitFrames(b.rtp, 200_000, 25, 'target → far party');
    await gw.service.close();
    await exitedCleanly(far.sipp);
    await exitedCleanly(b.sipp);
    expect(policyOf(gw).active).toEqual({ users: {}, trunks: {} });
    expect(trunkRow(gw, 'b').current).toBe(0);
  });

  it('a user at users[].maxCalls cannot transfer to an outside number: NOTIFY 486 (the policy\'s limit), no INVITE anywhere, the call goes on', async () => {
    const far = await party('uas-answer-rtp', 100_000);
    const b = await party('uas-answer-rtp', 200_000);
    const gw = await gateway({ far: far.port, trunks: [{ name: 'b', uri: `sip:127.0.0.1:${b.port}`, keepalive: false }], routes: [{ ...NATIONAL, trunks: ['b'] }], user: { maxCalls: 1 } });
    const phone = await phoneOf(gw);
    const mic = await rtpEnd(0);
    const { call, ok } = await phone.call('5551234', mic);
    await flowing(mic, text(ok), far.rtp, text(await inviteTo(far.sipp)), 'phone ⇄ far party');
    expect((await phone.refer(call, ok, '<sip:030123456@127.0.0.1>')).status).toBe(202);
    await until(() => phone.sipfrags(call.callId).length === 2, 10_000, 'the final NOTIFY');
    expect(phone.sipfrags(call.callId)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 486 Busy Here: limit of 1 concurrent calls reached']);
    expect(policyOf(gw).active.users).toEqual({ alice: 1 });
    // the original call goes on: media both ways, no BYE; nothing reached trunk b
    await far.rtp.waitFrames(mic, mic.next, 25, 'phone → far party after the refusal');
    await mic.waitFrames(far.rtp, far.rtp.next, 25, 'far party → phone after the refusal');
    expect(phone.byes(call.callId)).toHaveLength(0);
    expect(received(b.sipp, 'INVITE')).toHaveLength(0);
    expect((await call.bye()).status).toBe(200);
    await exitedCleanly(far.sipp);
    expect(policyOf(gw).active.users).toEqual({});
  });
});

describe('the calls each user is in follow a transfer to a local user', () => {
  it('alice passes her trunk call to bob (maxCalls: 1): bob is busy for the next call (486), alice (callWaiting: false) is free and rung', async () => {
    const BOB = { name: 'bob', password: 'bob-secret', extension: '202', maxCalls: 1 };
    const CAROL = { name: 'carol', password: 'carol-secret' };
    const far = await party('uas-answer-rtp', 100_000);
    const gw = await gateway({ far: far.port, trunks: [], routes: [], user: { extension: '201', callWaiting: false }, others: [BOB, CAROL] });
    const phone = await phoneOf(gw);
    expect((await phone.client.register()).status).toBe(200);
    const bob = await WsSipClient.connect({ url: gw.wsUrl, user: BOB.name, password: BOB.password });
    cleanups.push(() => bob.close());
    expect((await bob.register()).status).toBe(200);
    const carol = await WsSipClient.connect({ url: gw.wsUrl, user: CAROL.name, password: CAROL.password });
    cleanups.push(() => carol.close());
    const mic = await rtpEnd(0);
    const { call, ok } = await phone.call('5551234', mic);
    await flowing(mic, text(ok), far.rtp, text(await inviteTo(far.sipp)), 'phone ⇄ far party');
    expect((await phone.refer(call, ok, '<sip:202@127.0.0.1>')).status).toBe(202);
    const atBob = await bob.incoming();
    await atBob.accept();
    await phone.waitSipfrag(call.callId, 'SIP/2.0 200 OK');
    await until(() => phone.byes(call.callId).length === 1, 5000, 'BYE to alice\'s phone');
    // bob is in the transferred call: his one call (users[].maxCalls) is taken — 486 without ringing him
    const toBob = carol.invite('202');
    expect((await toBob.final).status).toBe(486);
    expect(bob.invitesReceived).toHaveLength(1);
    // alice left it: with call waiting off she is rung again (she would get 486 while still counted in it)
    const toAlice = carol.invite('201');
    const atAlice = await phone.client.incoming();
    atAlice.reject(603, 'Decline');
    expect((await toAlice.final).status).toBe(603);
    await gw.service.close();
    await exitedCleanly(far.sipp);
  });
});

describe('DTMF after a transfer (the trunk\'s REFER honoured: the phone now talks to the target)', () => {
  /** The phone calls the far trunk, which REFERs it to `number`; resolves once the phone hears the target. */
  async function transferred(number: string, target: string, targetTrunk: Record<string, unknown>, set: Record<string, number> = {}) {
    const far = await party('uas-refer-honoured', 100_000, { refer_to: number });
    const phoneEnd = await End.open(0x0a0a0a0a, cleanups);
    const targetEnd = await End.open(0x0b0b0b0b, cleanups);
    const t = await dtmfParty(target, targetEnd, set);
    const gw = await gateway({ far: far.port, refer: 'honour', trunks: [{ name: 'target', uri: `sip:127.0.0.1:${t.port}`, keepalive: false, ...targetTrunk }], routes: [{ match: '^7\\d{3}$', trunk: 'target' }] });
    const phone = await phoneOf(gw);
    const call = phone.client.invite('5551234', { sdp: rtpSdp(phoneEnd.sock.port) });
    const final = await call.final;
    expect(final.status).toBe(200);
    const invite = await inviteTo(t.sipp);
    await exitedCleanly(far.sipp); // REFER 202, NOTIFY 100 + 200, BYE: the far party left
    phoneEnd.start(mediaAddress(text(final)));
    targetEnd.start(mediaAddress(text(invite)));
    await until(() => phoneEnd.sock.rtp.length >= 10 && targetEnd.sock.rtp.length >= 10, 10_000, 'audio both ways between the phone and the target');
    return { gw, sipp: t.sipp, dialog: { client: phone.client, call, final }, phoneEnd, targetEnd };
  }

  it('the target negotiated telephone-event (as 96): the phone\'s INFO reaches it as RFC 4733 PT 96, its INFO reaches the phone as PT 101', async () => {
    const r = await transferred('7001', 'uas-dtmf-answer', {}, { te_pt: 96 });
    expect((await phoneInfo(r.dialog, 'application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).status).toBe(200);
    await until(() => r.targetEnd.events(96).filter((p) => p.end).length === 3, 10_000, 'the 5 ended at the target');
    expectEvent(byEvent(r.targetEnd.events(96))[0]!, 5, 1280);
    // uas-dtmf-answer sends INFO Signal=# (200 ms) 1.5 s after its ACK: the phone hears it in its numbering
    await until(() => r.phoneEnd.events(101).filter((p) => p.end).length === 3, 10_000, 'the # ended at the phone');
    expectEvent(byEvent(r.phoneEnd.events(101))[0]!, 11, 1600);
    expect((await r.dialog.call.bye()).status).toBe(200);
    await exitedCleanly(r.sipp);
  });

  it('the target is a trunks[].dtmf: info trunk without telephone-event: the phone\'s RFC 4733 events and INFO reach it as INFO', async () => {
    const r = await transferred('7002', 'uas-dtmf-info', { dtmf: 'info' });
    expect((await phoneInfo(r.dialog, 'application/dtmf-relay', 'Signal=1\r\nDuration=100\r\n')).status).toBe(200);
    await until(() => received(r.sipp, 'INFO').length === 1, 5000, 'the first INFO at the target');
    // "7" for 100 ms in the phone's RTP (PT 101): updates, then the E packet three times
    let seq = 40_000;
    const send = (duration: number, end: boolean) => r.phoneEnd.send(eventPacket({ pt: 101, marker: duration === 160, seq: seq++, timestamp: 999_000, ssrc: 0x0c0c0c0c }, { event: 7, end, volume: 10, duration }));
    for (const d of [160, 320, 480, 640]) send(d, false);
    for (let i = 0; i < 3; i++) send(800, true);
    await until(() => received(r.sipp, 'INFO').length === 2, 5000, 'the second INFO at the target');
    expect(received(r.sipp, 'INFO').map(text)).toEqual(['Signal=1\r\nDuration=100\r\n', 'Signal=7\r\nDuration=100\r\n']);
    expect((await r.dialog.call.bye()).status).toBe(200);
    await exitedCleanly(r.sipp);
  });
});
