// Every way a call can end frees every media port (issue 7, "What must be shown"): asserted on the
// embedded engine's real sockets (openSockets: UDP sockets, ICE-TCP listeners and connections), which
// hold something while the call is set up and nothing once it ended. SIPp plays the trunk, a WebSocket
// client the browser.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call/ports-freed.test.ts'
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import type { OutgoingCall } from '../../support/ws-sip-client.js';
import { stopAllProcesses } from '../../support/process.js';
import { allPortsFreed, endingRig, NO_SOCKETS, reasonOf, trunkBye, type EndingOptions, type EndingRig } from './endings.js';

let rig: EndingRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});
afterAll(stopAllProcesses);

const ringing = (m: SipMessage) => m.kind === 'response' && m.status === 180;

/** A rig whose engine starts with no socket at all. */
async function start(scenario: string, o: EndingOptions = {}): Promise<EndingRig> {
  rig = await endingRig(scenario, o);
  expect(rig.gw.engine.openSockets()).toEqual(NO_SOCKETS);
  return rig;
}

/** While the call is up (or ringing) the engine holds its sockets: what the end must free. */
function expectHeld(r: EndingRig): void {
  const open = r.gw.engine.openSockets();
  expect(open.udp).toBeGreaterThan(0);
  expect(open.tcpListeners).toBeGreaterThan(0); // the browser leg's ICE-TCP listener (media.iceTcp default on)
}

/** A call to the trunk, answered: the engine holds its sockets. */
async function answered(r: EndingRig): Promise<OutgoingCall> {
  const call = r.client.invite('5551234');
  expect((await call.final).status).toBe(200);
  expectHeld(r);
  return call;
}

async function expectFreed(r: EndingRig): Promise<void> {
  expect(await allPortsFreed(r.gw)).toEqual(NO_SOCKETS);
  expect(r.gw.service.status().calls).toBe(0);
}

describe('every way a call ends frees every media port', () => {
  it('BYE from the caller (browser)', async () => {
    const r = await start('uas-answer');
    const call = await answered(r);
    expect((await call.bye()).status).toBe(200);
    await expectFreed(r);
  });

  it('BYE from the callee (trunk)', async () => {
    const r = await start('uas-answer', { set: { hangup_ms: 300 } });
    const call = await answered(r);
    await call.byeReceived;
    await expectFreed(r);
  });

  it('CANCEL from the caller while ringing', async () => {
    const r = await start('uas-ring-cancel');
    const call = r.client.invite('5551234');
    await r.client.waitFor(ringing);
    expectHeld(r);
    call.cancel();
    expect((await call.final).status).toBe(487);
    await expectFreed(r);
  });

  it('ring timeout (the gateway CANCELs the trunk, 480 to the browser)', async () => {
    const r = await start('uas-ring-cancel', { ringTimeout: 5 });
    const call = r.client.invite('5551234');
    await r.client.waitFor(ringing);
    expectHeld(r);
    expect((await call.final).status).toBe(480);
    await expectFreed(r);
  });

  it('a failure response from the trunk (486)', async () => {
    const r = await start('uas-busy');
    const final = await r.client.invite('5551234').final;
    expect(final.status).toBe(486);
    await expectFreed(r);
    // The offer toward the trunk had allocated the ports: the engine was asked (and freed them).
    expect(r.gw.media.offers).toHaveLength(1);
  });

  it('a session refresh the trunk answers 481 (RFC 4028 §10: BYE with Reason on both legs)', async () => {
    const r = await start('uas-timer-refreshed', { sessionInterval: 4, set: { se: 4, fail_status: 481 } });
    const call = await answered(r);
    expect(reasonOf(await trunkBye(r.sipp, 10_000))).toMatch(/cause=481/);
    await call.byeReceived;
    await expectFreed(r);
  });

  it('media inactivity (BYE with Reason on both legs)', async () => {
    const r = await start('uas-answer', { inactivity: 2 });
    await answered(r);
    expect(reasonOf(await trunkBye(r.sipp, 6_000))).toMatch(/cause=408/);
    await expectFreed(r);
  });

  it('a lost WebSocket not back within the grace', async () => {
    const r = await start('uas-answer', { grace: 1 });
    await answered(r);
    r.client.drop();
    expect(reasonOf(await trunkBye(r.sipp, 4_000))).toMatch(/cause=480/);
    await expectFreed(r);
  });

  it('gateway shutdown (BYE to both sides, then the engine is empty before it closes)', async () => {
    const r = await start('uas-answer');
    const call = await answered(r);
    const closing = r.gw.service.close(); // the SIP service alone: the media engine keeps running
    await call.byeReceived;
    await trunkBye(r.sipp, 2_000);
    expect(await allPortsFreed(r.gw)).toEqual(NO_SOCKETS);
    await closing;
  });
});
