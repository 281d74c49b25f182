// Addresses on the wire with the gateway (buildGateway) bound to 0.0.0.0: SIPp plays the trunk, a
// WebSocket client the browser. With an advertise, every Via sent-by, Contact, SDP c=/o= and ICE
// candidate names the advertised address (127.0.0.9: inside `unshare -n` all of 127.0.0.0/8 is on lo,
// so it is reachable yet differs from anything bound); without one on a host with only lo, loopback.
// Never 0.0.0.0. Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call/advertise.test.ts'
import { mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sdpTransform from 'sdp-transform';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { candidateAddresses } from '../../../gateway/config/addresses.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { getHeaderValues } from '../../../gateway/sip/message/index.js';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { startProcess, stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle, type SippOptions } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { TRUNK_CREDENTIALS, USER } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const traceDir = mkdtempSync(join(tmpdir(), 'advertise-it-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await stopAllProcesses();
});

const DID = '+15550100';
const ALICE = { ...USER, dids: [DID] };

interface Rig {
  gw: Gateway;
  sipp: SippHandle;
  client: WsSipClient;
  /** The gateway's bound (and, here, advertised) SIP port. */
  port: number;
}

/** The gateway on udp:0.0.0.0 (trunk: SIPp's port), the browser registered, then SIPp. */
async function rig(sippOptions: Omit<SippOptions, 'traceDir' | 'localPort'>, o: { advertise?: string; httpListen?: string }): Promise<Rig> {
  const [trunkPort, media] = [await freeSipPort(), await freeUdpPortPair()];
  // Port 0: the kernel picks it (no race with other test files); the advertised port is the bound one.
  const listen = o.advertise ? { listen: 'udp:0.0.0.0:0', advertise: o.advertise } : 'udp:0.0.0.0:0';
  const config = configSchema.parse({
    http: { listen: o.httpListen ?? '127.0.0.1:0' },
    sip: { listen: [listen] },
    media: { rtpPorts: '44000-44999', address: '0.0.0.0', ...(o.advertise ? { advertiseAddress: o.advertise } : {}) },
    users: [ALICE],
    trunks: [{ name: 'sipp', uri: `sip:127.0.0.1:${trunkPort}`, ...TRUNK_CREDENTIALS }],
    routes: [{ match: '^\\+?\\d{4,15}$', trunk: 'sipp' }],
    log: { level: 'silent' },
  });
  const gw = buildGateway(config, { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
  await gw.start();
  cleanups.push(() => gw.stop());
  const port = gw.sipAddress('udp')!.port;
  const remote = sippOptions.remote !== undefined ? `127.0.0.1:${port}` : undefined;
  const client = await WsSipClient.connect({ url: `${gw.httpUrl.replace(/^http/, 'ws')}sip`, user: USER.name, password: USER.password });
  cleanups.push(() => client.close());
  expect((await client.register()).status).toBe(200);
  const sipp = startSipp({ mediaPort: media.rtp, traceDir, ...sippOptions, ...(remote ? { remote } : {}), localPort: trunkPort });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  return { gw, sipp, client, port };
}

const receivedBy = (sipp: SippHandle): SipMessage[] => sipp.messages().filter((e) => e.direction === 'received').map((e) => e.message);
const rawReceivedBy = (sipp: SippHandle): string => sipp.messages().filter((e) => e.direction === 'received').map((e) => e.raw).join('\n');

/** Our SDP names `host` in o= and c= (session or media level) and in every ICE candidate. */
function expectSdpAddress(sdp: string, host: string): void {
  const parsed = sdpTransform.parse(sdp);
  expect(parsed.origin?.address).toBe(host);
  const audio = parsed.media[0]!;
  expect((audio.connection ?? parsed.connection)?.ip).toBe(host);
  for (const c of audio.candidates ?? []) expect(c.ip).toBe(host);
  expect(sdp).not.toContain('0.0.0.0');
}

/** The trunk got an INVITE and an ACK whose Via sent-by, Contact and SDP name `host`:`port`, and nothing
 *  that reached it says 0.0.0.0. */
function expectTrunkSaw(sipp: SippHandle, host: string, port: number): void {
  const via = new RegExp(`^SIP/2\\.0/UDP ${host.replaceAll('.', '\\.')}:${port};`);
  const invite = receivedBy(sipp).find((m) => m.kind === 'request' && m.method === 'INVITE')!;
  expect(getHeaderValues(invite, 'Via')[0]).toMatch(via);
  expect(traceHeader(invite, 'Contact')).toBe(`<sip:gateway@${host}:${port}>`);
  expectSdpAddress(invite.body.toString(), host);
  const ack = receivedBy(sipp).find((m) => m.kind === 'request' && m.method === 'ACK')!;
  expect(getHeaderValues(ack, 'Via')[0]).toMatch(via);
  expect(rawReceivedBy(sipp)).not.toContain('0.0.0.0');
}

describe('a gateway bound to 0.0.0.0', () => {
  it('with advertise 127.0.0.9: the trunk INVITE, its ACK and the browser\'s answer carry it; the trunk\'s BYE reaches the browser', async () => {
    const { sipp, client, port } = await rig({ scenario: 'uas-answer', set: { hangup_ms: 300 }, keys: { auth_realm: 'trunk.test' } }, { advertise: '127.0.0.9' });
    const call = client.invite('5551234');
    const final = await call.final;
    expect(final.status).toBe(200);
    expectSdpAddress(final.body.toString(), '127.0.0.9');
    // One host candidate per transport (UDP, and TCP passive with media.iceTcp), each at the advertise.
    const candidates = sdpTransform.parse(final.body.toString()).media[0]!.candidates ?? [];
    expect(candidates.map((c) => c.transport.toLowerCase()).sort()).toEqual(['tcp', 'udp']);
    expect(candidates.map((c) => c.ip)).toEqual(['127.0.0.9', '127.0.0.9']);

    // SIPp hangs up: its BYE reaches the gateway (at the Contact it was given), the browser gets one.
    await call.byeReceived;
    expect((await sipp.exited).code).toBe(0);
    expectTrunkSaw(sipp, '127.0.0.9', port);
  }, 30_000);

  it('with advertise 127.0.0.9: a trunk call to a DID gets 180/200 whose Contact is it; the caller\'s BYE reaches the browser', async () => {
    const { sipp, client, port } = await rig({ scenario: 'uac-call', service: DID, remote: 'gateway', set: { hangup_ms: 300 } }, { advertise: '127.0.0.9' });
    const incoming = await client.incoming();
    expectSdpAddress(incoming.offer, '127.0.0.9');
    incoming.ringing();
    await incoming.accept();
    await incoming.waitBye();
    expect((await sipp.exited).code).toBe(0);
    const responses = receivedBy(sipp).filter((m) => m.kind === 'response' && (m.status === 180 || m.status === 200));
    expect(responses.map((r) => r.kind === 'response' && r.status)).toEqual([180, 200, 200]); // 180, 200 INVITE, 200 BYE
    for (const r of responses.slice(0, 2)) expect(traceHeader(r, 'Contact')).toBe(`<sip:gateway@127.0.0.9:${port}>`);
    expectSdpAddress(responses[1]!.body.toString(), '127.0.0.9');
    expect(rawReceivedBy(sipp)).not.toContain('0.0.0.0');
  }, 30_000);

  it('without advertise on a host with only lo: loopback on the wire and in the page URL', async () => {
    // The precondition of this test, checked rather than assumed: run inside `unshare -n` (only lo).
    expect(candidateAddresses(networkInterfaces(), 4), 'non-loopback IPv4 interfaces: run this test inside unshare -n').toEqual([]);
    const { gw, sipp, client, port } = await rig({ scenario: 'uas-answer', set: { hangup_ms: 300 }, keys: { auth_realm: 'trunk.test' } }, { httpListen: '0.0.0.0:0' });
    expect(gw.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(gw.sipAddress('udp')).toEqual({ address: '127.0.0.1', port });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    expectSdpAddress((await call.final).body.toString(), '127.0.0.1');
    await call.byeReceived;
    expect((await sipp.exited).code).toBe(0);
    expectTrunkSaw(sipp, '127.0.0.1', port);
  }, 30_000);

  it('main.ts prints the advertised page URL first; a wildcard advertise stops it naming the key', async () => {
    const yaml = (http: string, listen: string) =>
      [`http: ${http}`, `sip: { listen: [${listen}] }`, 'media: { rtpPorts: "44000-44099" }', 'log: { level: silent }', ''].join('\n');
    writeFileSync(join(traceDir, 'advertised.yaml'), yaml('{ listen: "0.0.0.0:0", advertise: "127.0.0.9:8443" }', '"udp:0.0.0.0:0"'));
    writeFileSync(join(traceDir, 'wildcard.yaml'), yaml('{ listen: "127.0.0.1:0" }', '{ listen: "udp:0.0.0.0:0", advertise: "0.0.0.0" }'));
    const run = (file: string) => startProcess(process.execPath, ['--import', 'tsx', 'gateway/main.ts', '--config', join(traceDir, file)], { cwd: ROOT, name: 'gateway' });

    const bad = run('wildcard.yaml');
    expect((await bad.exited).code).toBe(1);
    expect(bad.stderr()).toContain('sip.listen[0].advertise: a wildcard (0.0.0.0, ::) cannot be advertised');
    const good = run('advertised.yaml');
    cleanups.push(() => good.stop());
    await expect.poll(() => good.stdout(), { timeout: 20_000 }).toMatch(/\n/);
    expect(good.stdout().split('\n')[0]).toMatch(/^Gateway page: http:\/\/127\.0\.0\.9:8443\/ /);
    expect(good.running).toBe(true);
  }, 40_000);
});
