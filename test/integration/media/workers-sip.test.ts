// Media workers under the SIP service (gateway/media/workers, call/liveness.ts): a phone's call through the
// gateway (media.workers: 2) whose media worker dies ends with BYE on both legs; the next call connects and
// its media flows (a replacement worker, or the other). Media counted at UDP sockets at each end.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/media/workers-sip.test.ts'
import { describe, expect, it } from 'vitest';
import { getHeader } from '../../../gateway/sip/message/index.js';
import { ShardedMediaEngine } from '../../../gateway/media/index.js';
import { until } from './peers.js';
import { RtpEnd } from '../call/rtp-end.js';
import { exitedCleanly, flowing, inviteTo, partyBed, phoneCallToFar, startTransferGateway, text } from '../call/transfer-rig.js';

const { cleanups, party } = partyBed('workers-it-');

describe('a media worker dies under calls', () => {
  it('its call ends with BYE to the phone and the far party; a new call connects and carries media', async () => {
    const far = await party('uas-answer-rtp', 100_000);
    const next = await party('uas-answer-rtp', 200_000);
    const gw = await startTransferGateway(far.port, next.port);
    cleanups.push(() => gw.close());
    const engine = gw.engine;
    expect(engine).toBeInstanceOf(ShardedMediaEngine);
    const sharded = engine as ShardedMediaEngine;
    expect(sharded.workerCount).toBe(2);
    const { phone, mic, call } = await phoneCallToFar(gw, far, cleanups);
    const key = gw.media.offers[0]!.callId;
    const worker = sharded.workerOf(key)!;
    expect(worker).toBeGreaterThanOrEqual(0);
    await sharded.killWorker(worker);

    await until(() => phone.byes(call.callId).length === 1, 10_000, 'BYE to the phone');
    expect(getHeader(phone.byes(call.callId)[0]!, 'Reason')).toMatch(/Media timeout/);
    await exitedCleanly(far.sipp); // its scenario ends with the BYE it got
    expect(sharded.workerOf(key)).toBeUndefined();
    // both ends stop sending, as peers do on BYE (a replacement worker starts its ports at a random point)
    mic.stop();
    far.rtp.stop();

    const mic2 = await RtpEnd.open(300_000);
    cleanups.push(() => mic2.close());
    const second = await phone.call('7001', mic2);
    await flowing(mic2, text(second.ok), next.rtp, text(await inviteTo(next.sipp)), 'phone ⇄ the next party');
    expect(sharded.workerOf(gw.media.offers.at(-1)!.callId)).toBeDefined();
    expect((await second.call.bye()).status).toBe(200);
    await exitedCleanly(next.sipp);
    await until(() => engine.openSockets().udp === 0, 5000, 'ports freed');
  });
});
