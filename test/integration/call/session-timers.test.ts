// RFC 4028 session timers through the gateway, on UDP and TCP toward a SIPp trunk, with a WebSocket client
// playing the browser: the gateway as refresher and as refreshee on each leg, 422 and a retry, a failed
// refresh and an unrefreshed interval ending both legs with BYE + Reason. Intervals of a few seconds: the
// parsed config is built here with a Min-SE below RFC 4028's 90 s (a config file cannot do that).
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/call/session-timers.test.ts'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../../gateway/config/schema.js';
import { createResponse, getCSeq, getHeader } from '../../../gateway/sip/message/index.js';
import type { HeaderField, SipMessage, SipRequest } from '../../../gateway/sip/message/types.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { SCENARIO_DIR, startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader, type SippTraceEntry } from '../../support/sipp-trace.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { gatewayConfig, startGatewayWith, USER, type TestGateway } from './harness.js';

const traceDir = mkdtempSync(join(tmpdir(), 'timers-it-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

const EXPIRED = 'SIP ;cause=408 ;text="Session expired"';
const failed = (status: number) => `SIP ;cause=${status} ;text="Session refresh failed"`;

/** The test config: session interval 4 s, Min-SE 2 s; no OPTIONS keep-alive toward the SIPp trunk. */
function timerConfig(trunkUri: string): GatewayConfig {
  const base = gatewayConfig({ trunkUri });
  return {
    ...base,
    trunks: base.trunks.map((t) => ({ ...t, keepalive: false as const })),
    calls: { ...base.calls, sessionTimers: { interval: 4, minSE: 2, refresher: 'uas', trunks: true, users: false } },
  };
}

interface Rig {
  gw: TestGateway;
  client: WsSipClient;
  sipp: SippHandle;
}

async function rig(scenario: string, tcp: boolean, set: Record<string, number>): Promise<Rig> {
  const trunkPort = await freeSipPort();
  const media = await freeUdpPortPair();
  const transport = tcp ? 'tcp' : 'udp';
  const sipp = startSipp({ scenarioFile: join(SCENARIO_DIR, `${scenario}.xml`), localPort: trunkPort, mediaPort: media.rtp, traceDir, transport, set, timeoutS: 60 });
  cleanups.push(() => sipp.stop());
  await sipp.ready;
  const gw = await startGatewayWith(timerConfig(`sip:127.0.0.1:${trunkPort}${tcp ? ';transport=tcp' : ''}`));
  cleanups.push(() => gw.close());
  const client = await WsSipClient.connect({ url: gw.wsUrl, user: USER.name, password: USER.password });
  cleanups.push(() => client.close());
  return { gw, client, sipp };
}

async function exited(sipp: SippHandle): Promise<number | null> {
  const { code } = await sipp.exited;
  if (code !== 0) process.stderr.write(`SIPp exited ${code}: ${sipp.errors().slice(-2000)}\n`);
  return code;
}

const label = (m: SipMessage) => (m.kind === 'request' ? m.method : String(m.status));
const got = (sipp: SippHandle, what: string): SippTraceEntry[] => sipp.messages().filter((e) => e.direction === 'received' && label(e.message) === what);
/** SIPp's trace time of an entry, ms ("2026-12-07 14:20:01.123456" or seconds since the epoch). */
const at = (e: SippTraceEntry): number => (/^\d+(\.\d+)?$/.test(e.time.trim()) ? Number(e.time) * 1000 : Date.parse(e.time.trim().replace(' ', 'T')));

/** Waits for a gateway request `method` in the call (other than those `seen`) and answers it 200 with `headers`. */
async function answerNext(client: WsSipClient, method: string, seen: Set<number>, headers: HeaderField[]): Promise<SipRequest> {
  const req = (await client.waitFor((m) => m.kind === 'request' && m.method === method && !seen.has(getCSeq(m).seq), 10_000)) as SipRequest;
  seen.add(getCSeq(req).seq);
  client.send(createResponse(req, 200, 'OK', { headers }));
  return req;
}

describe.each([['UDP', false], ['TCP', true]] as const)('session timers toward a SIPp trunk over %s', (_name, tcp) => {
  it('gateway as refresher: our INVITE offers timers; the trunk gets UPDATE at ~interval/2, twice', async () => {
    const { client, sipp } = await rig('uas-timer-refreshed', tcp, { se: 4, fail_status: 0 });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    await call.byeReceived; // SIPp hangs up after the second refresh
    expect(await exited(sipp)).toBe(0);
    const invite = got(sipp, 'INVITE')[0]!.message;
    expect(traceHeader(invite, 'Session-Expires')).toBe('4');
    expect(traceHeader(invite, 'Min-SE')).toBe('2');
    expect(invite.headers.filter((h) => h.name.toLowerCase() === 'supported').map((h) => h.value).join(',')).toMatch(/\btimer\b/);
    const [ack, ...rest] = [...got(sipp, 'ACK'), ...got(sipp, 'UPDATE')];
    expect(rest).toHaveLength(2);
    const gaps = [at(rest[0]!) - at(ack!), at(rest[1]!) - at(rest[0]!)];
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(1500);
      expect(gap).toBeLessThan(3000);
    }
  });

  it('a trunk without UPDATE in Allow is refreshed by re-INVITE repeating our offer unchanged, twice', async () => {
    const { client, sipp } = await rig('uas-timer-reinvite', tcp, { se: 4 });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    await call.byeReceived; // SIPp hangs up after the second refresh
    expect(await exited(sipp)).toBe(0);
    const [initial, ...refreshes] = got(sipp, 'INVITE').map((e) => e.message);
    expect(refreshes).toHaveLength(2);
    for (const r of refreshes) {
      expect(r.body.toString()).toBe(initial!.body.toString()); // RFC 3264 §8: the same o= version, unchanged
      expect(traceHeader(r, 'Session-Expires')).toBe('4;refresher=uac');
    }
    expect(got(sipp, 'UPDATE')).toHaveLength(0);
    expect(got(sipp, 'ACK')).toHaveLength(3);
  });

  it.each([481, 408])('a refresh the trunk answers %i → BYE with Reason on both legs', async (status) => {
    const { client, sipp, gw } = await rig('uas-timer-refreshed', tcp, { se: 4, fail_status: status });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    const bye = await call.byeReceived;
    expect(getHeader(bye, 'Reason')).toBe(failed(status));
    expect(await exited(sipp)).toBe(0);
    expect(traceHeader(got(sipp, 'BYE')[0]!.message, 'Reason')).toBe(failed(status));
    expect(gw.service.status().calls).toBe(0);
  });

  it('gateway as refreshee: the trunk refreshes twice, then stops → BYE with "Session expired" on both legs at interval − interval/3', async () => {
    const { client, sipp, gw } = await rig('uas-timer-refresher', tcp, { se: 4, refresh_ms: 1500 });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    const bye = await call.byeReceived;
    expect(getHeader(bye, 'Reason')).toBe(EXPIRED);
    expect(await exited(sipp)).toBe(0);
    const refreshOk = sipp.messages().filter((e) => e.direction === 'received' && label(e.message) === '200' && getCSeq(e.message).method === 'UPDATE');
    expect(refreshOk).toHaveLength(2);
    for (const ok of refreshOk) expect(traceHeader(ok.message, 'Session-Expires')).toBe('4;refresher=uac');
    const trunkBye = got(sipp, 'BYE')[0]!;
    expect(traceHeader(trunkBye.message, 'Reason')).toBe(EXPIRED);
    // 4 − min(32, 4/3) ≈ 2.67 s after the last refresh, not earlier.
    const gap = at(trunkBye) - at(refreshOk[1]!);
    expect(gap).toBeGreaterThan(2400);
    expect(gap).toBeLessThan(4000);
    expect(gw.service.status().calls).toBe(0);
  });

  it('422 from the trunk → the INVITE again with Session-Expires and Min-SE raised, and the call is answered', async () => {
    const { client, sipp } = await rig('uas-timer-422', tcp, { min_se: 6 });
    const call = client.invite('5551234');
    expect((await call.final).status).toBe(200);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(sipp)).toBe(0);
    const [first, retry] = got(sipp, 'INVITE').map((e) => e.message);
    expect(traceHeader(first!, 'Session-Expires')).toBe('4');
    expect(traceHeader(retry!, 'Session-Expires')).toBe('6');
    expect(traceHeader(retry!, 'Min-SE')).toBe('6');
    expect(getCSeq(retry!).seq).toBe(getCSeq(first!).seq + 1);
  });

  it('browser leg as refresher (Supported: timer, refresher=uac): its UPDATEs are answered with Session-Expires; when they stop, BYE on both legs', async () => {
    const { client, sipp } = await rig('uas-answer', tcp, {});
    const call = client.invite('5551234', { headers: [{ name: 'Supported', value: 'timer' }, { name: 'Session-Expires', value: '4;refresher=uac' }] });
    const ok = await call.final;
    expect(ok.status).toBe(200);
    expect(getHeader(ok, 'Session-Expires')).toBe('4;refresher=uac');
    expect(getHeader(ok, 'Require')).toBe('timer');
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1500)); // the browser's refresh schedule (the test plays its timer)
      const res = await call.update([{ name: 'Supported', value: 'timer' }, { name: 'Session-Expires', value: '4;refresher=uac' }]);
      expect(res.status).toBe(200);
      expect(getHeader(res, 'Session-Expires')).toBe('4;refresher=uac');
    }
    const refreshedAt = Date.now();
    const bye = await call.byeReceived;
    expect(Date.now() - refreshedAt).toBeGreaterThan(2400);
    expect(getHeader(bye, 'Reason')).toBe(EXPIRED);
    expect(await exited(sipp)).toBe(0);
    expect(traceHeader(got(sipp, 'BYE')[0]!.message, 'Reason')).toBe(EXPIRED);
  });
});

describe('session timers toward the browser (WebSocket)', () => {
  it('browser leg as refreshee (Supported: timer, no refresher): the gateway UPDATEs it at ~interval/2, twice', async () => {
    const { client, sipp } = await rig('uas-answer', false, {});
    const call = client.invite('5551234', {
      headers: [{ name: 'Supported', value: 'timer' }, { name: 'Session-Expires', value: '4' }, { name: 'Allow', value: 'INVITE, ACK, CANCEL, BYE, UPDATE' }],
    });
    const ok = await call.final;
    expect(getHeader(ok, 'Session-Expires')).toBe('4;refresher=uas');
    const answeredAt = Date.now();
    const seen = new Set<number>();
    const timerOk = [{ name: 'Session-Expires', value: '4;refresher=uac' }, { name: 'Require', value: 'timer' }];
    const first = await answerNext(client, 'UPDATE', seen, timerOk);
    const firstAt = Date.now();
    expect(firstAt - answeredAt).toBeGreaterThan(1500);
    expect(getHeader(first, 'Session-Expires')).toBe('4;refresher=uac');
    await answerNext(client, 'UPDATE', seen, timerOk);
    expect(Date.now() - firstAt).toBeGreaterThan(1500);
    expect((await call.bye()).status).toBe(200);
    expect(await exited(sipp)).toBe(0);
  });
});
