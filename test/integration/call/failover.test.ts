// Trunk failover and load sharing (issue 9 item 3) and number handling on the wire (item 4): a WebSocket
// client plays the browser, SIPp processes play the trunks, each on its own address of the lane's block
// (gateway 127.0.60.1, trunk A 127.0.60.2, trunk B 127.0.60.3). The caller's provisional responses are
// told apart by their reason phrase (SIPp's "Ringing Trunk A" / "Ringing Trunk B", relayed as sent).
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/call/failover.test.ts'
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../gateway/config/schema.js';
import type { SipMessage, SipResponse } from '../../../gateway/sip/message/types.js';
import type { TimerValues } from '../../../gateway/sip/transaction/types.js';
import { stopAllProcesses } from '../../support/process.js';
import { SCENARIO_DIR, sippWorkDir, startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { startGatewayWith, USER, type TestGateway } from './harness.js';
import { uacExpectFinal } from './scenarios.js';

const GW = '127.0.60.1';
const A = '127.0.60.2';
const B = '127.0.60.3';
const SIP_PORT = 5060;
const CAROL = { name: 'carol', password: 'carol-secret', callerId: '+15550009', privacy: true };
/** A DID written in E.164; trunk A calls it in its national-international form. */
const DAVE = { name: 'dave', password: 'dave-secret', dids: ['+4930111'] };
const traceDir = sippWorkDir('failover-it-');
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

type Trunk = Record<string, unknown> & { name: string };

/** Trunk `name` at `ip` (keepalive off unless given). */
const trunk = (name: string, ip: string, extra: Record<string, unknown> = {}): Trunk => ({ name, uri: `sip:${ip}:${SIP_PORT}`, keepalive: false, ...extra });

async function gateway(trunks: Trunk[], routes: unknown[], timers?: Partial<TimerValues>): Promise<TestGateway> {
  const config = configSchema.parse({
    sip: { listen: [`udp:${GW}:0`] },
    media: { rtpPorts: '44000-44999', address: '127.0.0.1' },
    users: [USER, CAROL, DAVE],
    trunks,
    routes,
    // Every number is allowed here: the dial rules are not what these tests are about.
    dialRules: { classes: [{ name: 'any', match: '.*' }], allow: ['any'] },
    log: { level: 'silent' },
  });
  const gw = await startGatewayWith(config, timers);
  cleanups.push(() => gw.close());
  return gw;
}

async function trunkSipp(file: string, ip: string, o: { calls?: number; set?: Record<string, number> } = {}): Promise<SippHandle> {
  const sipp = startSipp({ scenarioFile: join(SCENARIO_DIR, `${file}.xml`), localIp: ip, localPort: SIP_PORT, mediaPort: 6000, traceDir, calls: o.calls, set: o.set });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  return sipp;
}

async function browser(gw: TestGateway, user: { name: string; password: string } = USER): Promise<WsSipClient> {
  const client = await WsSipClient.connect({ url: gw.wsUrl, user: user.name, password: user.password });
  cleanups.push(() => client.close());
  return client;
}

const label = (m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status));
const received = (sipp: SippHandle) => sipp.messages().filter((e) => e.direction === 'received').map((e) => label(e.message));
const invites = (sipp: SippHandle) => sipp.messages().filter((e) => e.direction === 'received' && label(e.message) === 'INVITE').map((e) => e.message);
/** The caller's 18x as "code reason". */
const ringback = (responses: SipResponse[]) => responses.filter((r) => r.status > 100 && r.status < 200).map((r) => `${r.status} ${r.reason}`);

interface TrunkRow {
  name: string;
  health: string;
  keepalive?: { state: string };
  calls: { current: number; attempts: number; answered: number; failovers: number; failed: number; skippedDown: number; skippedLimit: number };
}
const trunkRow = (gw: TestGateway, name: string) => (gw.service.status().trunks as TrunkRow[]).find((t) => t.name === name)!;

async function exited(sipp: SippHandle): Promise<number | null> {
  const { code } = await sipp.exited;
  if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${sipp.errors().slice(-2000)}\n`);
  if (code !== 0) process.stderr.write(`SIPp trace: ${sipp.messages().map((e) => `${e.time} ${e.direction} ${label(e.message)} ${traceHeader(e.message, 'Call-ID')} ${traceHeader(e.message, 'CSeq')}`).join('\n')}\n`);
  return code;
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('trunk failover within one caller transaction', () => {
  it('503 from the first trunk: the call goes to the second; the caller hears only its ringing', async () => {
    const a = await trunkSipp('uas-failover-503', A);
    const b = await trunkSipp('uas-failover-answer', B);
    const gw = await gateway([trunk('a', A), trunk('b', B)], [{ match: '^\\d+$', trunks: ['a', 'b'] }]);
    const call = (await browser(gw)).invite('5551234');
    expect((await call.final).status).toBe(200);
    expect(ringback(call.responses)).toEqual(['180 Ringing Trunk B']);
    expect(trunkRow(gw, 'b').calls.current).toBe(1);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(a)).toBe(0);
    expect(await exited(b)).toBe(0);
    expect(received(a)).toEqual(['INVITE', 'ACK']);
    expect(received(b)).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(trunkRow(gw, 'a').calls).toMatchObject({ attempts: 1, failovers: 1, failed: 0, answered: 0, current: 0 });
    expect(trunkRow(gw, 'b').calls).toMatchObject({ attempts: 1, answered: 1, current: 0 });
  });

  it('a silent first trunk (no response at all within responseTimeout): the call goes to the second, no CANCEL to the first', async () => {
    const a = await trunkSipp('uas-silent', A, { set: { silent_ms: 4000 } });
    const b = await trunkSipp('uas-failover-answer', B);
    const gw = await gateway([trunk('a', A, { responseTimeout: 1 }), trunk('b', B)], [{ match: '^\\d+$', trunks: ['a', 'b'] }]);
    const started = Date.now();
    const call = (await browser(gw)).invite('5551234');
    expect((await call.final).status).toBe(200);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(4000);
    expect(ringback(call.responses)).toEqual(['180 Ringing Trunk B']);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(b)).toBe(0);
    // §9.1: no provisional from A, so no CANCEL — only the INVITE and its retransmissions reached it.
    expect(new Set(received(a))).toEqual(new Set(['INVITE']));
    expect(trunkRow(gw, 'a').calls).toMatchObject({ attempts: 1, failovers: 1 });
  });

  it('a first trunk marked down by its OPTIONS keep-alive is skipped up front: no INVITE reaches it', async () => {
    // Trunk A is a bare UDP socket that takes everything and answers nothing: its OPTIONS go unanswered.
    const seen: string[] = [];
    const sock: Socket = createSocket('udp4');
    sock.on('message', (m) => seen.push(m.toString('utf8').split(' ', 1)[0]!));
    await new Promise<void>((r) => sock.bind(SIP_PORT, A, r));
    cleanups.push(async () => sock.close());
    const b = await trunkSipp('uas-failover-answer', B);
    // T1 = 50 ms (real timers, only shorter): an unanswered OPTIONS ends after Timer F = 64*T1 = 3.2 s.
    const gw = await gateway([trunk('a', A, { keepalive: { interval: 5, failures: 1 } }), trunk('b', B)], [{ match: '^\\d+$', trunks: ['a', 'b'] }], { t1: 50 });
    await until('trunk a down', () => trunkRow(gw, 'a').health === 'down', 15_000);
    expect(trunkRow(gw, 'a').keepalive?.state).toBe('down');
    const call = (await browser(gw)).invite('5551234');
    expect((await call.final).status).toBe(200);
    expect(ringback(call.responses)).toEqual(['180 Ringing Trunk B']);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(b)).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['OPTIONS']));
    expect(trunkRow(gw, 'a').calls).toMatchObject({ attempts: 0, skippedDown: 1 });
  });

  it('a 180 then 503 still fails over (documented): the caller hears both trunks ring, the second answers', async () => {
    const a = await trunkSipp('uas-failover-503', A, { set: { ring: 1 } });
    const b = await trunkSipp('uas-failover-answer', B);
    const gw = await gateway([trunk('a', A), trunk('b', B)], [{ match: '^\\d+$', trunks: ['a', 'b'] }]);
    const call = (await browser(gw)).invite('5551234');
    expect((await call.final).status).toBe(200);
    expect(ringback(call.responses)).toEqual(['180 Ringing Trunk A', '180 Ringing Trunk B']);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(a)).toBe(0);
    expect(await exited(b)).toBe(0);
  });

  it('503 not in failoverOn goes straight to the caller; the second trunk never sees the call', async () => {
    const a = await trunkSipp('uas-failover-503', A);
    const b = await trunkSipp('uas-failover-answer', B);
    const gw = await gateway([trunk('a', A), trunk('b', B)], [{ match: '^\\d+$', trunks: ['a', 'b'], failoverOn: [408] }]);
    const final = await (await browser(gw)).invite('5551234').final;
    expect(final.status).toBe(503);
    expect(await exited(a)).toBe(0);
    expect(invites(b)).toHaveLength(0);
    expect(trunkRow(gw, 'a').calls).toMatchObject({ attempts: 1, failovers: 0, failed: 1 });
  });
});

describe('weighted load sharing', () => {
  it('weights 3:1 over 8 calls: exactly 6 to A and 2 to B (smooth weighted round robin)', async () => {
    const a = await trunkSipp('uas-failover-answer', A, { calls: 6 });
    const b = await trunkSipp('uas-failover-answer', B, { calls: 2 });
    const gw = await gateway([trunk('a', A), trunk('b', B)], [{ match: '^\\d+$', trunks: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }] }]);
    const client = await browser(gw);
    for (let i = 0; i < 8; i++) {
      const call = client.invite(`555000${i}`);
      expect((await call.final).status).toBe(200);
      expect((await call.bye()).status).toBe(200);
    }
    expect(await exited(a)).toBe(0);
    expect(await exited(b)).toBe(0);
    expect(invites(a)).toHaveLength(6);
    expect(invites(b)).toHaveLength(2);
    expect(trunkRow(gw, 'a').calls).toMatchObject({ attempts: 6, answered: 6, current: 0 });
    expect(trunkRow(gw, 'b').calls).toMatchObject({ attempts: 2, answered: 2, current: 0 });
  });
});

describe('number handling on the wire', () => {
  it('rewrite to E.164 then the carrier format, route caller ID, privacy with P-Asserted-Identity toward a trusted trunk', async () => {
    const a = await trunkSipp('uas-busy', A);
    const b = await trunkSipp('uas-busy', B, { calls: 2 });
    const gw = await gateway(
      [trunk('t', A, { trusted: true, rewrite: [{ match: '^\\+49', replace: '0049' }] }), trunk('u', B)],
      [
        { match: '^0[1-9]\\d+$', trunks: ['t'], rewrite: [{ strip: 1 }, { prepend: '+49' }], callerId: '+4930999', privacy: true },
        { match: '^9\\d+$', trunk: 'u', rewrite: [{ strip: 1 }] },
      ],
    );
    expect((await (await browser(gw)).invite('030-123456').final).status).toBe(486);
    expect(await exited(a)).toBe(0);
    const toTrusted = invites(a)[0]!;
    expect(toTrusted.kind === 'request' && toTrusted.uri).toBe(`sip:004930123456@${A}:${SIP_PORT}`);
    expect(traceHeader(toTrusted, 'From')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/);
    expect(traceHeader(toTrusted, 'P-Asserted-Identity')).toBe(`<sip:+4930999@${A}>`);
    expect(traceHeader(toTrusted, 'Privacy')).toBe('id');

    // An untrusted trunk: the user's own caller ID, never a P-Asserted-Identity nor Privacy.
    expect((await (await browser(gw)).invite('9555123').final).status).toBe(486);
    // carol withholds her number (users[].privacy): anonymous From, still no P-Asserted-Identity.
    expect((await (await browser(gw, CAROL)).invite('9555124').final).status).toBe(486);
    expect(await exited(b)).toBe(0);
    const [plain, withheld] = invites(b);
    expect(plain!.kind === 'request' && plain!.uri).toBe(`sip:555123@${B}:${SIP_PORT}`);
    expect(traceHeader(plain!, 'From')).toMatch(new RegExp(`^<sip:\\+15550001@${B.replace(/\./g, '\\.')}>;tag=`));
    expect(traceHeader(plain!, 'P-Asserted-Identity')).toBeUndefined();
    expect(traceHeader(plain!, 'Privacy')).toBeUndefined();
    expect(withheld!.kind === 'request' && withheld!.uri).toBe(`sip:555124@${B}:${SIP_PORT}`);
    expect(traceHeader(withheld!, 'From')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/);
    expect(traceHeader(withheld!, 'P-Asserted-Identity')).toBeUndefined();
    expect(JSON.stringify(withheld)).not.toContain('15550009');
  });
});

describe('inbound DID normalisation on the wire', () => {
  it('a trunk with inbound { country: "49" } calling 004930111 rings the user whose DID is +4930111 (480: no device); an unknown number is 404', async () => {
    const gw = await gateway([trunk('a', A, { inbound: { country: '49' } })], []);
    for (const [service, status] of [['004930111', 480], ['004930999', 404]] as const) {
      const sipp = startSipp({ scenarioFile: uacExpectFinal(traceDir, status), service, localIp: A, localPort: SIP_PORT, mediaPort: 6000, traceDir, remote: gw.udp });
      cleanups.push(() => sipp.stop());
      expect(await exited(sipp)).toBe(0);
    }
  });
});
