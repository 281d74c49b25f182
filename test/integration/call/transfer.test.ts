// Call transfer end to end (gateway/call/transfer*.ts, sip/ua/refer.ts): the WebSocket phone (plain RTP)
// talks to a SIPp far party through trunk 'sipp'; a second SIPp is the target (numbers 7xxx, trunk
// 'target'). Media is counted at UDP sockets at each end (numbered frames), so "the far party now talks to
// the target" is measured at both, and "the original call resumes" too.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call/transfer.test.ts'
import { describe, expect, it } from 'vitest';
import { getHeader } from '../../../gateway/sip/message/index.js';
import { until } from '../media/peers.js';
import { RtpEnd } from './rtp-end.js';
import { exitedCleanly, flowing, inviteTo, partyBed, Phone, received, startTransferGateway, text } from './transfer-rig.js';

const { cleanups, party } = partyBed('transfer-it-');

async function bed(farScenario: string, targetScenario: string, refer: 'honour' | 'refuse' = 'refuse', set: Record<string, string | number> = {}) {
  const far = await party(farScenario, 100_000, set);
  const target = await party(targetScenario, 200_000);
  const gw = await startTransferGateway(far.port, target.port, refer);
  cleanups.push(() => gw.close());
  const phone = await Phone.connect(gw.wsUrl);
  cleanups.push(() => phone.close());
  const mic = await RtpEnd.open(0);
  cleanups.push(() => mic.close());
  return { far, target, gw, phone, mic };
}

describe('blind transfer from the phone (REFER without Replaces)', () => {
  it('202, NOTIFY 100 then 200 (sipfrag), BYE to the phone; the far party and the target hear each other; Referred-By on the target\'s INVITE; no re-INVITE to the far party', async () => {
    const { far, target, gw, phone, mic } = await bed('uas-answer-rtp', 'uas-answer-rtp');
    const { call, ok } = await phone.call('5551234', mic);
    await flowing(mic, text(ok), far.rtp, text(await inviteTo(far.sipp)), 'phone ⇄ far party');
    const res = await phone.refer(call, ok, '<sip:7001@127.0.0.1>');
    expect(res.status).toBe(202);
    await phone.waitSipfrag(call.callId, 'SIP/2.0 200 OK');
    expect(phone.sipfrags(call.callId)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    const notifies = phone.notifies.filter((n) => getHeader(n, 'Call-ID') === call.callId);
    expect(notifies.map((n) => getHeader(n, 'Event'))).toEqual([expect.stringMatching(/^refer;id=\d+$/), expect.stringMatching(/^refer;id=\d+$/)]);
    expect(getHeader(notifies[0]!, 'Subscription-State')).toMatch(/^active;expires=\d+$/);
    expect(getHeader(notifies[1]!, 'Subscription-State')).toBe('terminated;reason=noresource');
    expect(getHeader(notifies[1]!, 'Content-Type')).toBe('message/sipfrag;version=2.0');
    await until(() => phone.byes(call.callId).length === 1, 5000, 'BYE to the phone');
    const invite = await inviteTo(target.sipp);
    expect(getHeader(invite, 'Referred-By')).toBe('<sip:alice@127.0.0.1>');
    // the far party keeps sending to the same gateway port; the target where its INVITE said
    const phoneAfter = mic.next;
    target.rtp.start((await import('../../support/ws-session.js')).mediaAddress(text(invite)));
    await target.rtp.waitFrames(far.rtp, far.rtp.next, 25, 'far party → target');
    await far.rtp.waitFrames(target.rtp, 200_000, 25, 'target → far party');
    // nothing the phone sent after it left reached either
    mic.stop();
    expect(far.rtp.got(phoneAfter + 5, mic.next)).toBe(0);
    expect(target.rtp.got(0, mic.next)).toBe(0);
    await gw.service.close();
    await exitedCleanly(far.sipp);
    await exitedCleanly(target.sipp);
    expect(gw.engine.openSockets().udp).toBe(0);
  });

  it('a busy target: NOTIFY 486, the phone is not hung up and its call to the far party goes on', async () => {
    const { far, target, gw, phone, mic } = await bed('uas-answer-rtp', 'uas-busy');
    const { call, ok } = await phone.call('5551234', mic);
    const farSdp = text(await inviteTo(far.sipp));
    await flowing(mic, text(ok), far.rtp, farSdp, 'phone ⇄ far party');
    expect((await phone.refer(call, ok, '<sip:7002@127.0.0.1>')).status).toBe(202);
    await phone.waitSipfrag(call.callId, 'SIP/2.0 486 Busy Here');
    expect(phone.sipfrags(call.callId)).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 486 Busy Here']);
    await exitedCleanly(target.sipp);
    // the original call resumes: media both ways again, no BYE
    await far.rtp.waitFrames(mic, mic.next, 25, 'phone → far party after the failed transfer');
    await mic.waitFrames(far.rtp, far.rtp.next, 25, 'far party → phone after the failed transfer');
    expect(phone.byes(call.callId)).toHaveLength(0);
    expect((await call.bye()).status).toBe(200);
    await exitedCleanly(far.sipp);
    await until(() => gw.engine.openSockets().udp === 0, 5000, 'ports freed');
  });

  it('a REFER without Refer-To is answered 400 and changes nothing', async () => {
    const { far, gw, phone, mic } = await bed('uas-answer-rtp', 'uas-answer-rtp');
    const { call, ok } = await phone.call('5551234', mic);
    const refer = phone.client.request('REFER', /<([^>]+)>/.exec(getHeader(ok, 'Contact')!)![1]!, { callId: call.callId, to: getHeader(ok, 'To')! });
    expect((await phone.client.transact(refer)).status).toBe(400);
    expect(phone.notifies).toHaveLength(0);
    expect((await call.bye()).status).toBe(200);
    await exitedCleanly(far.sipp);
    void gw;
  });
});

describe('REFER from the trunk', () => {
  it('refused by default (trunks[].refer: refuse): 403, the call goes on', async () => {
    const { far, target, phone, mic } = await bed('uas-refer-refused', 'uas-answer-rtp', 'refuse', { refer_to: '7001' });
    const { call, ok } = await phone.call('5551234', mic);
    await flowing(mic, text(ok), far.rtp, text(await inviteTo(far.sipp)), 'phone ⇄ far party');
    await until(() => received(far.sipp, '403').length === 1, 10_000, '403 to the REFER');
    await far.rtp.waitFrames(mic, mic.next, 25, 'phone → far party after the refusal');
    expect(received(target.sipp, 'INVITE')).toHaveLength(0);
    expect((await call.bye()).status).toBe(200);
    await exitedCleanly(far.sipp);
  });

  it('honoured (trunks[].refer: honour): the gateway calls the target, the phone now talks to it, the trunk gets NOTIFY 100/200 and BYE', async () => {
    const { far, target, phone, mic } = await bed('uas-refer-honoured', 'uas-answer-rtp', 'honour', { refer_to: '7003' });
    const { call, ok } = await phone.call('5551234', mic);
    const farSdp = text(await inviteTo(far.sipp));
    const invite = await inviteTo(target.sipp);
    expect(getHeader(invite, 'Referred-By')).toBe('<sip:carrier@127.0.0.1>');
    await exitedCleanly(far.sipp); // REFER 202, NOTIFY 100 + 200 answered, BYE from the gateway
    const notified = received(far.sipp, 'NOTIFY').map((n) => text(n).trim());
    expect(notified).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    void farSdp;
    await flowing(mic, text(ok), target.rtp, text(invite), 'phone ⇄ target');
    expect(phone.byes(call.callId)).toHaveLength(0);
    expect((await call.bye()).status).toBe(200);
    await exitedCleanly(target.sipp);
  });
});

describe('attended transfer from the phone (REFER with Replaces)', () => {
  it('the phone\'s two calls: the far party and the target are joined, both of the phone\'s legs get BYE', async () => {
    const { far, target, gw, phone, mic } = await bed('uas-answer-rtp', 'uas-answer-rtp');
    const mic2 = await RtpEnd.open(50_000);
    cleanups.push(() => mic2.close());
    const first = await phone.call('5551234', mic);
    await flowing(mic, text(first.ok), far.rtp, text(await inviteTo(far.sipp)), 'phone ⇄ far party');
    const second = await phone.call('7004', mic2);
    const targetInvite = await inviteTo(target.sipp);
    await flowing(mic2, text(second.ok), target.rtp, text(targetInvite), 'phone ⇄ target (consultation)');
    const toTag = /tag=([^;>\s]+)/.exec(getHeader(second.ok, 'To')!)![1]!;
    const fromTag = /tag=([^;>\s]+)/.exec(getHeader(second.ok, 'From')!)![1]!;
    const replaces = encodeURIComponent(`${second.call.callId};to-tag=${toTag};from-tag=${fromTag}`);
    expect((await phone.refer(first.call, first.ok, `<sip:7004@127.0.0.1?Replaces=${replaces}>`)).status).toBe(202);
    await phone.waitSipfrag(first.call.callId, 'SIP/2.0 200 OK');
    await until(() => phone.byes(first.call.callId).length === 1 && phone.byes(second.call.callId).length === 1, 5000, 'BYE on both of the phone\'s calls');
    const marks = { far: far.rtp.next, target: target.rtp.next };
    await target.rtp.waitFrames(far.rtp, marks.far, 25, 'far party → target');
    await far.rtp.waitFrames(target.rtp, marks.target, 25, 'target → far party');
    // neither SIPp got a re-INVITE (uas-answer-rtp fails on one): the gateway joined the legs as they were
    await gw.service.close();
    await exitedCleanly(far.sipp);
    await exitedCleanly(target.sipp);
  });
});
