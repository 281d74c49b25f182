// A lost browser connection and dead media, end to end (issue 7 items 7 and 8): SIPp plays the trunk, a
// WebSocket client the browser. Short grace and timeout, real sockets, waits on conditions.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call/liveness.test.ts'
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getHeader } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { until } from '../../support/netbed/wait.js';
import type { OutgoingCall } from '../../support/ws-sip-client.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';
import { RtpEnd } from './rtp-end.js';
import { stopAllProcesses } from '../../support/process.js';
import { allPortsFreed, endingRig, reasonOf, trunkBye, type EndingRig } from './endings.js';

const LOST = 'SIP;cause=480;text="Connection lost"';
const MEDIA_TIMEOUT = 'SIP;cause=408;text="Media timeout"';

let rig: EndingRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});
afterAll(stopAllProcesses);

describe('the browser\'s WebSocket is lost mid-call', () => {
  it('no reconnect: the trunk gets BYE with Reason "Connection lost" after the grace (not before), every port freed', async () => {
    rig = await endingRig('uas-answer', { grace: 2 });
    const { client, sipp, gw } = rig;
    expect((await client.invite('5551234').final).status).toBe(200);
    expect(gw.engine.openSockets().udp).toBeGreaterThan(0);
    const lost = Date.now();
    client.drop();
    const bye = await trunkBye(sipp, 2_000 + 2_000 + 1_000);
    const after = Date.now() - lost;
    expect(after).toBeGreaterThanOrEqual(1_900);
    expect(after).toBeLessThan(4_000); // within the grace + 2 s
    expect(reasonOf(bye)).toBe(LOST);
    expect((await sipp.exited).code).toBe(0); // SIPp answered the BYE and its scenario ended
    await allPortsFreed(gw);
    expect(gw.service.status().calls).toBe(0);
  });

  it('a reconnect within the grace (same Contact) re-REGISTERs and re-INVITEs: 200, the call goes on; the later BYE arrives over the new connection', async () => {
    // SIPp hangs up itself 5 s after the answer: well after the 2 s grace.
    rig = await endingRig('uas-answer', { grace: 2, set: { hangup_ms: 5_000 } });
    const { client, sipp, gw } = rig;
    expect((await client.register(600)).status).toBe(200);
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    client.drop();
    const dropped = Date.now();
    await until('the gateway to see the connection close', () => (gw.service.status().registrations === 0 ? true : undefined), 3_000);
    await client.reconnect();
    const seenBefore = client.received.length;
    expect((await client.register(600)).status).toBe(200);
    expect(gw.service.status().registrations).toBe(1); // the binding is back once, on the new connection
    const re = await call.reinvite(); // an ICE restart: new ufrag/pwd and fingerprint
    expect(re.status).toBe(200);
    expect(getHeader(re, 'Content-Type')).toBe('application/sdp');
    // SIPp's own BYE (5 s after the answer, well past the grace) reaches the browser over the new WebSocket.
    const bye = (await call.byeReceived) as SipRequest;
    expect(Date.now() - dropped).toBeGreaterThan(2_000);
    expect(client.received.indexOf(bye)).toBeGreaterThanOrEqual(seenBefore);
    expect((await sipp.exited).code).toBe(0);
    // The gateway never ended the call itself: the trunk received no BYE, only the 200 to its own.
    expect(sipp.messages().filter((e) => e.direction === 'received').map((e) => (e.message.kind === 'request' ? e.message.method : e.message.status))).toEqual(['INVITE', 'ACK', 200]);
    await allPortsFreed(gw);
  });

  it('a phone that comes back from a new network (new connection, new RTP port): media flows both ways again, the trunk hears nothing of it', async () => {
    const [oldEnd, newEnd, trunk] = await Promise.all([RtpEnd.open(0), RtpEnd.open(50_000), RtpEnd.open(100_000)]);
    try {
      // uas-answer-rtp takes nothing but INVITE, ACK and BYE: a re-INVITE reaching the trunk would fail it.
      rig = await endingRig('uas-answer-rtp', { grace: 3, set: { trunk_rtp: trunk.port } });
      const { client, sipp, gw } = rig;
      expect((await client.register(600)).status).toBe(200);
      const call = await rtpCall(rig, oldEnd, trunk);
      client.drop();
      oldEnd.stop();
      await until('the gateway to see the connection close', () => (gw.service.status().registrations === 0 ? true : undefined), 3_000);
      await client.reconnect();
      expect((await client.register(600)).status).toBe(200);
      const re = await call.reinvite(rtpSdp(newEnd.port, { version: 2 }));
      expect(re.status).toBe(200);
      const fromTrunk = trunk.next;
      newEnd.start(mediaAddress(re.body.toString()));
      await newEnd.waitFrames(trunk, fromTrunk, 20, 'trunk → phone at its new port');
      await trunk.waitFrames(newEnd, 50_000, 20, 'phone → trunk from its new port');
      expect((await call.bye()).status).toBe(200); // over the new connection
      const { code } = await sipp.exited;
      if (code !== 0) process.stderr.write(`SIPp: ${sipp.errors().slice(-1500)}\n${JSON.stringify(sipp.messages().map((e) => [e.direction, e.message.kind === 'request' ? e.message.method : e.message.status]))}\n`);
      expect(code).toBe(0);
      expect(sipp.messages().filter((e) => e.direction === 'received').map((e) => (e.message.kind === 'request' ? e.message.method : e.message.status))).toEqual(['INVITE', 'ACK', 'BYE']);
      await allPortsFreed(gw);
    } finally {
      await Promise.all([oldEnd.close(), newEnd.close(), trunk.close()]);
    }
  });
});

/** A phone (plain RTP at `phone`) calls the trunk (RTP at `trunk`): answered, numbered frames flowing both
 *  ways (20 counted at each end). */
async function rtpCall(r: EndingRig, phone: RtpEnd, trunk: RtpEnd): Promise<OutgoingCall> {
  const call = r.client.invite('5551234', { sdp: rtpSdp(phone.port) });
  const final = await call.final;
  expect(final.status).toBe(200);
  trunk.start(mediaAddress((await trunkReceived(r.sipp, 'INVITE')).body.toString()));
  phone.start(mediaAddress(final.body.toString()));
  await trunk.waitFrames(phone, phone.base, 20, 'phone → trunk');
  await phone.waitFrames(trunk, trunk.base, 20, 'trunk → phone');
  return call;
}

/** The first `method` request SIPp received, waited for. */
function trunkReceived(sipp: EndingRig['sipp'], method: string): Promise<SipRequest> {
  const first = () => sipp.messages().find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === method)?.message as SipRequest | undefined;
  return until(`SIPp to receive ${method}`, first, 5_000);
}

describe('media inactivity', () => {
  it('no RTP or RTCP from either leg: BYE with Reason "Media timeout" to the trunk and to the browser after the timeout, ports freed', async () => {
    rig = await endingRig('uas-answer', { inactivity: 2 });
    const { client, sipp, gw } = rig;
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    const answered = Date.now();
    const [toTrunk, toBrowser] = await Promise.all([trunkBye(sipp, 2_000 + 3_000), call.byeReceived]);
    expect(Date.now() - answered).toBeGreaterThanOrEqual(1_900);
    expect(reasonOf(toTrunk)).toBe(MEDIA_TIMEOUT);
    expect(getHeader(toBrowser, 'Reason')).toBe(MEDIA_TIMEOUT);
    expect((await sipp.exited).code).toBe(0);
    await allPortsFreed(gw);
  });

  it('the trunk stops sending RTP while the phone goes on: BYE with Reason "Media timeout" on both legs after the timeout', async () => {
    const [phone, trunk] = await Promise.all([RtpEnd.open(0), RtpEnd.open(100_000)]);
    try {
      rig = await endingRig('uas-answer-rtp', { inactivity: 2, set: { trunk_rtp: trunk.port } });
      const call = await rtpCall(rig, phone, trunk);
      trunk.stop();
      const silent = Date.now();
      const [toTrunk, toPhone] = await Promise.all([trunkBye(rig.sipp, 2_000 + 3_000), call.byeReceived]);
      expect(Date.now() - silent).toBeGreaterThanOrEqual(1_900);
      expect(Date.now() - silent).toBeLessThan(2_000 + 2_000);
      expect(reasonOf(toTrunk)).toBe(MEDIA_TIMEOUT);
      expect(getHeader(toPhone, 'Reason')).toBe(MEDIA_TIMEOUT);
      expect((await rig.sipp.exited).code).toBe(0);
      await allPortsFreed(rig.gw);
    } finally {
      await Promise.all([phone.close(), trunk.close()]);
    }
  });
});
