// An INVITE with Replaces (RFC 3891) takes over a call in progress (gateway/call/transfer-replaces.ts):
//  - from a phone: alice's second phone (another WebSocket) names the dialog of her first phone's call to
//    a SIPp far party → 200, the first phone gets BYE, the far party now talks to the second phone (frames
//    counted at both ends), and the far party never gets a re-INVITE (uas-answer-rtp fails on one);
//  - from the trunk: a SIPp UAC at the trunk's address names the gateway ⇄ far party dialog → the far
//    party gets BYE and the phone talks to the new party;
//  - refusals on the wire: no such dialog 481, early-only on a confirmed dialog 486, another user 403,
//    two Replaces 400 — and the call goes on.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/call/transfer-replaces.test.ts'
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../gateway/config/schema.js';
import { getHeader } from '../../../gateway/sip/message/index.js';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { until } from '../media/peers.js';
import { freeSipPort } from '../../support/ports.js';
import { SCENARIO_DIR, startSipp } from '../../support/sipp.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';
import { startGatewayWith, TRUNK_CREDENTIALS, USER } from './harness.js';
import { RtpEnd } from './rtp-end.js';
import { inviteTo, partyBed, phoneCallToFar, received, text, type Party } from './transfer-rig.js';

const BOB = { name: 'bob', password: 'bob-secret', callerId: '+15550002' };
const { traceDir, cleanups, party } = partyBed('replaces-it-');

const tagOf = (m: SipMessage, header: 'To' | 'From'): string => /tag=([^;>\s]+)/.exec(getHeader(m, header) ?? '')![1]!;

async function bed() {
  const far = await party('uas-answer-rtp', 100_000);
  const config = configSchema.parse({
    sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
    media: { rtpPorts: '44000-44999', address: '127.0.0.1' },
    users: [USER, BOB],
    trunks: [{ name: 'sipp', uri: `sip:127.0.0.1:${far.port}`, ...TRUNK_CREDENTIALS, keepalive: false }],
    routes: [{ match: '^\\+?\\d{4,15}$', trunk: 'sipp' }],
    log: { level: 'silent' },
  });
  const gw = await startGatewayWith(config);
  cleanups.push(() => gw.close());
  const { phone, mic, call, ok } = await phoneCallToFar(gw, far, cleanups);
  return { far, gw, phone, mic, call, ok };
}

async function client(url: string, user: { name: string; password: string }): Promise<WsSipClient> {
  const c = await WsSipClient.connect({ url, user: user.name, password: user.password });
  cleanups.push(() => c.close());
  return c;
}

async function exitedCleanly(p: Party): Promise<void> {
  const { code } = await p.sipp.exited;
  if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${p.sipp.errors().slice(-2000)}\n`);
  expect(code).toBe(0);
}

describe('INVITE with Replaces (RFC 3891)', () => {
  it('from the same user\'s second phone: 200, BYE to the first phone, the far party talks to the second; no re-INVITE to the far party', async () => {
    const { far, gw, phone, call, ok } = await bed();
    const second = await client(gw.wsUrl, USER);
    const mic2 = await RtpEnd.open(50_000);
    cleanups.push(() => mic2.close());
    const replaces = `${call.callId};to-tag=${tagOf(ok, 'To')};from-tag=${tagOf(ok, 'From')}`;
    const taken = second.invite('5551234', { sdp: rtpSdp(mic2.port), headers: [{ name: 'Replaces', value: replaces }] });
    const res = await taken.final;
    expect(res.status).toBe(200);
    await until(() => phone.byes(call.callId).length === 1, 5000, 'BYE to the first phone');
    const marks = { far: far.rtp.next, mic2: mic2.next };
    mic2.start(mediaAddress(text(res)));
    await far.rtp.waitFrames(mic2, marks.mic2, 25, 'second phone → far party');
    await mic2.waitFrames(far.rtp, marks.far, 25, 'far party → second phone');
    expect(received(far.sipp, 'INVITE')).toHaveLength(1); // only the call's own INVITE
    expect((await taken.bye()).status).toBe(200);
    await exitedCleanly(far); // BYE relayed to the far party, nothing unexpected before it
    await until(() => gw.engine.openSockets().udp === 0, 5000, 'ports freed');
  });

  it('refused: no such dialog 481, early-only on a confirmed dialog 486, another user 403, two Replaces 400 — the call goes on', async () => {
    const { far, gw, phone, mic, call, ok } = await bed();
    const alice2 = await client(gw.wsUrl, USER);
    const bob = await client(gw.wsUrl, BOB);
    const id = `${call.callId};to-tag=${tagOf(ok, 'To')};from-tag=${tagOf(ok, 'From')}`;
    const status = async (c: WsSipClient, values: string[]): Promise<number> =>
      (await c.invite('5551234', { sdp: rtpSdp(50_000), headers: values.map((value) => ({ name: 'Replaces', value })) }).final).status;
    expect(await status(alice2, ['no-such-call;to-tag=a;from-tag=b'])).toBe(481);
    expect(await status(alice2, [`${id};early-only`])).toBe(486);
    expect(await status(bob, [id])).toBe(403);
    expect(await status(alice2, [id, id])).toBe(400);
    expect(phone.byes(call.callId)).toHaveLength(0);
    expect(received(far.sipp, 'INVITE')).toHaveLength(1);
    await far.rtp.waitFrames(mic, mic.next, 25, 'phone → far party after the refusals');
    expect((await call.bye()).status).toBe(200);
    await exitedCleanly(far);
  });

  it('from the trunk: a new party at the trunk\'s address replaces the far party, which gets BYE; the phone talks to the new party', async () => {
    const { far, gw, phone, mic, call, ok } = await bed();
    const farInvite = await inviteTo(far.sipp);
    const farOk = far.sipp.messages().find((e) => e.direction === 'sent' && e.message.kind === 'response' && e.message.status === 200)!.message;
    const rtp = await RtpEnd.open(150_000);
    cleanups.push(() => rtp.close());
    const port = await freeSipPort();
    const uac = startSipp({
      scenarioFile: join(SCENARIO_DIR, 'uac-replaces.xml'),
      localPort: port,
      remote: gw.udp,
      service: '5550100',
      traceDir,
      set: { replaces_callid: getHeader(farInvite, 'Call-ID')!, replaces_to: tagOf(farInvite, 'From'), replaces_from: tagOf(farOk, 'To'), trunk_rtp: rtp.port },
    });
    cleanups.push(() => uac.stop());
    await exitedCleanly(far); // BYE from the gateway answered, no re-INVITE before it
    await until(() => received(uac, '200').length === 1, 10_000, 'our 200 at the new party');
    const answer = text(received(uac, '200')[0]!);
    const marks = { mic: mic.next, rtp: rtp.next };
    rtp.start(mediaAddress(answer));
    await rtp.waitFrames(mic, marks.mic, 25, 'phone → new party');
    await mic.waitFrames(rtp, marks.rtp, 25, 'new party → phone');
    expect(phone.byes(call.callId)).toHaveLength(0);
    void ok;
    expect((await call.bye()).status).toBe(200);
    const { code } = await uac.exited;
    expect(code).toBe(0);
  });
});
