// Media admission control on a running gateway (media.admission, gateway/media/admission.ts): the media
// engine's own thread is really overloaded — busy in 120 ms slices with 10 ms gaps, through the engine's
// test hook (AdmissionOptions.loadTestChannel), in whichever thread it runs (the gateway's own with
// media.workers 0, the worker thread when sharded) — while a call is up with RTP flowing both ways.
// On the wire: a browser's (WebSocket) new INVITE and a UDP phone's (SIPp, digest auth) get 503 with
// Retry-After and never reach the trunk (SIPp); the call up keeps its media (frames counted at both far
// ends) and a re-INVITE of it is answered; once the load stops a new call connects.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/media/admission.test.ts'
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSipService, type SipService } from '../../../gateway/call/index.js';
import { parsePortRange, parseSipListen } from '../../../gateway/config/load.js';
import type { GatewayConfig } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import type { TestLoad } from '../../../gateway/media/admission.js';
import { createEmbeddedMediaEngine, createShardedMediaEngine, type EmbeddedMediaEngine, type EmbeddedMediaEngineOptions } from '../../../gateway/media/index.js';
import { getHeader } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { createTransactionLayer } from '../../../gateway/sip/transaction/index.js';
import { createTransport } from '../../../gateway/sip/transport/index.js';
import { until } from '../../support/netbed/wait.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { SCENARIO_DIR, startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { mediaAddress, rtpSdp } from '../../support/ws-session.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { gatewayConfig, USER } from '../call/harness.js';
import { RtpEnd } from '../call/rtp-end.js';

const traceDir = mkdtempSync(join(tmpdir(), 'admit-'));
/** The UDP phone's address: not the trunk's (127.0.0.1), whose calls are never challenged. */
const PHONE_IP = '127.0.0.2';

interface Rig {
  /** The gateway's UDP SIP address (host:port). */
  udp: string;
  engine: EmbeddedMediaEngine;
  service: SipService;
  client: WsSipClient;
  sipp: SippHandle;
  load: BroadcastChannel;
  close(): Promise<void>;
}

/** The gateway wired as buildGateway does (transport, transactions, engine, SIP service; WebSocket on an
 *  http.Server), with the engine's load test hook on a channel of its own. */
async function startRig(workers: number, trunkRtp: number): Promise<Rig> {
  const trunkPort = await freeSipPort();
  const media = await freeUdpPortPair();
  const sipp = startSipp({ scenarioFile: join(SCENARIO_DIR, 'uas-answer-rtp.xml'), localPort: trunkPort, mediaPort: media.rtp, traceDir, calls: 2, set: { trunk_rtp: trunkRtp } });
  const base = gatewayConfig({ trunkUri: `sip:127.0.0.1:${trunkPort}`, rtpPorts: '43000-43399' });
  const config: GatewayConfig = { ...base, trunks: base.trunks.map((t) => ({ ...t, keepalive: false as const })), media: { ...base.media, inactivityTimeout: 0 } };
  const channel = `admit-${randomUUID()}`;
  const logger = createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent');
  const server = new Server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const transport = await createTransport({ listen: config.sip.listen.map(parseSipListen), ws: { server, path: '/sip' }, logger });
  const transactions = createTransactionLayer({ transport, logger });
  const options: EmbeddedMediaEngineOptions = {
    bindAddress: '127.0.0.1',
    portRange: parsePortRange(config.media.rtpPorts),
    logger,
    admission: { ...config.media.admission, loadTestChannel: channel },
  };
  const engine = workers === 0 ? await createEmbeddedMediaEngine(options) : await createShardedMediaEngine({ ...options, workers });
  const service = startSipService({ config, transport, transactions, media: engine, logger });
  const load = new BroadcastChannel(channel);
  const close = async () => {
    load.postMessage({ stop: true } satisfies TestLoad);
    load.close();
    await client?.close().catch(() => undefined);
    await service.close();
    await engine.close();
    transactions.close();
    await transport.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sipp.stop();
  };
  let client: WsSipClient | undefined;
  try {
    await sipp.ready;
    client = await WsSipClient.connect({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/sip`, user: USER.name, password: USER.password });
    const udp = transport.localAddress('udp')!;
    return { udp: `${udp.address}:${udp.port}`, engine, service, client, sipp, load, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The INVITEs SIPp (the trunk) received so far. */
const trunkInvites = (sipp: SippHandle): SipRequest[] =>
  sipp.messages().filter((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'INVITE').map((e) => e.message as SipRequest);

/** A UDP phone (SIPp, admission-uac.xml) calls through the gateway and must get a 503: that response. */
async function refusedUdpPhone(gateway: string): Promise<SipResponse> {
  const localPort = await freeSipPort();
  const media = await freeUdpPortPair();
  const scenarioFile = join(import.meta.dirname, 'admission-uac.xml');
  // -auth_uri: SIPp's digest uri is remote_ip:remote_port by default, not the Request-URI (RFC 3261 §22.4)
  const phone = startSipp({ scenarioFile, localIp: PHONE_IP, localPort, mediaPort: media.rtp, remote: gateway, service: '5552222', auth: { username: USER.name, password: USER.password }, traceDir, timeoutS: 20, args: ['-auth_uri', `5552222@${gateway}`] });
  try {
    const { code } = await phone.exited;
    if (code !== 0) process.stderr.write(`SIPp phone: ${phone.errors().slice(-1500)}\n`);
    expect(code).toBe(0);
    const final = phone.messages().find((e) => e.direction === 'received' && e.message.kind === 'response' && e.message.status === 503);
    return final!.message as SipResponse;
  } finally {
    await phone.stop();
  }
}

/** Waits until every engine thread admits new calls. */
async function admitting(engine: EmbeddedMediaEngine, what: string): Promise<void> {
  await until(what, () => (engine.load().every((l) => l.admitting) ? true : undefined), 10_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(engine.load())}`);
  });
}

let rig: Rig | undefined;
const ends: RtpEnd[] = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  await Promise.all(ends.splice(0).map((e) => e.close()));
});
afterAll(stopAllProcesses);

// workers 1: the engine in a worker thread of its own (refusal, load and the test hook across the thread
// boundary). With more workers an idle one takes the new call instead — as it should — unless the caller's
// calls are bound to the busy one (placement groups, media/workers/placement.ts).
describe.each([0, 1])('media.admission with media.workers %i', (workers) => {
  it('the engine thread overloaded: a new call gets 503 + Retry-After, the call up keeps its media and its re-INVITE; after the load a new call connects', async () => {
    const [phone, trunk] = await Promise.all([RtpEnd.open(0), RtpEnd.open(100_000)]);
    ends.push(phone, trunk);
    rig = await startRig(workers, trunk.port);
    const { client, sipp, engine, load } = rig;

    // A call up, numbered frames flowing both ways.
    const up = client.invite('5551234', { sdp: rtpSdp(phone.port) });
    const answered = await up.final;
    expect(answered.status).toBe(200);
    trunk.start(mediaAddress((await until('SIPp to receive the INVITE', () => trunkInvites(sipp)[0], 5_000)).body.toString()));
    phone.start(mediaAddress(answered.body.toString()));
    await trunk.waitFrames(phone, phone.base, 20, 'phone → trunk');
    await phone.waitFrames(trunk, trunk.base, 20, 'trunk → phone');
    await admitting(engine, 'the engine to admit at rest'); // a busy start-up (module loading, a loaded machine) passes

    // Overload every engine thread (bounded: 20 s at most, stopped below).
    load.postMessage({ busyMs: 120, idleMs: 10, forMs: 20_000 } satisfies TestLoad);
    const [phoneFrom, trunkFrom] = [phone.next, trunk.next];
    await until('every engine thread to refuse new calls', () => (engine.load().every((l) => !l.admitting) ? true : undefined), 10_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(engine.load())}`);
    });
    const refused = await client.invite('5559876', { sdp: rtpSdp(phone.port + 10) }).final;
    expect(refused.status).toBe(503);
    expect(refused.reason).toBe('Service Unavailable: Media Overloaded');
    expect(getHeader(refused, 'Retry-After')).toBe('5'); // media.admission.retryAfter's default
    expect(trunkInvites(sipp)).toHaveLength(1); // the refused call never reached the trunk
    // A UDP phone's INVITE (SIPp, through the 407) gets the same 503 on the wire.
    const phone503 = await refusedUdpPhone(rig.udp);
    expect(phone503).toMatchObject({ status: 503, reason: 'Service Unavailable: Media Overloaded' });
    expect(traceHeader(phone503, 'Retry-After')).toBe('5');
    expect(trunkInvites(sipp)).toHaveLength(1);
    expect(engine.load().reduce((n, l) => n + (l.refused ?? 0), 0)).toBe(2);

    // The call up: its re-INVITE (a refresh, answered by the engine alone) and its media go on.
    const re = await up.reinvite(rtpSdp(phone.port, { version: 2 }));
    expect(re.status).toBe(200);
    // (with media.workers 0 both RTP ends share the overloaded thread: they send less often, not less surely)
    await trunk.waitFrames(phone, phoneFrom, 30, 'phone → trunk while overloaded');
    await phone.waitFrames(trunk, trunkFrom, 30, 'trunk → phone while overloaded');
    expect(engine.load().every((l) => !l.admitting)).toBe(true); // all of that while still refusing

    // The load stops: within a few windows new calls are taken again, and one connects through the trunk.
    load.postMessage({ stop: true } satisfies TestLoad);
    await admitting(engine, 'the engine to admit again');
    const later = await client.invite('5551111', { sdp: rtpSdp(phone.port + 20) }).final;
    expect(later.status).toBe(200);
    expect(trunkInvites(sipp)).toHaveLength(2);
  });
});
