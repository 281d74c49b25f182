// Issue 8 item 4 (dial rules per user) and item 6's maximum call duration, through a real gateway
// (buildGateway) on loopback: SIPp as the user's phone (127.0.10.4, digest-authenticated), SIPp as the
// carrier trunk (127.0.10.2) and as the emergency trunk (127.0.10.3), the gateway on 127.0.10.1. Every
// figure is read from SIPp's own message traces: what reached each trunk and what the phone was answered.
// Run:
//   unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/policy/dial-rules.test.ts'
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { REASON_MAX_DURATION } from '../../../gateway/policy/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader, type SippTraceEntry } from '../../support/sipp-trace.js';

const GW = '127.0.10.1';
const CARRIER = '127.0.10.2';
const SOS = '127.0.10.3';
const PHONE = '127.0.10.4';
const TRUNK_PORT = 5060;
const PHONE_PORT = 5062;
const SCENARIO = join(dirname(fileURLToPath(import.meta.url)), 'uac-policy.xml');

const USERS = [
  { name: 'alice', password: 'alice-secret', callerId: '+15550001', maxCalls: 2 },
  { name: 'globe', password: 'globe-secret', callerId: '+15550002', classes: ['local', 'international', 'premium'] },
  { name: 'nobody', password: 'nobody-secret', callerId: '+15550003', classes: [], maxCalls: 1 },
];

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Rig {
  gw: Gateway;
  sipPort: number;
  /** Messages the gateway logged at warn and above. */
  warnings: string[];
}

async function startGateway(calls: Record<string, unknown> = {}): Promise<Rig> {
  const config = parseConfig(
    {
      http: { listen: `${GW}:0` },
      sip: { listen: [`udp:${GW}:0`] },
      media: { rtpPorts: '47000-47199', address: GW },
      users: USERS,
      trunks: [
        { name: 'carrier', uri: `sip:${CARRIER}:${TRUNK_PORT};transport=udp`, keepalive: false },
        { name: 'sos', uri: `sip:${SOS}:${TRUNK_PORT};transport=udp`, keepalive: false },
      ],
      // 112 matches no route: only dialRules.emergency sends it out.
      routes: [{ match: '^\\+?\\d{4,15}$', trunk: 'carrier' }],
      dialRules: { emergency: { trunk: 'sos' } },
      calls,
      log: { level: 'info' },
    },
    'policy integration test',
  );
  const warnings: string[] = [];
  const stream = {
    write(line: string) {
      const l = JSON.parse(line) as { level: string; msg: string };
      if (['warn', 'error', 'fatal'].includes(l.level)) warnings.push(l.msg);
    },
  };
  const gw = buildGateway(config, { logger: createLogger('info', stream) });
  cleanups.push(() => gw.stop());
  await gw.start();
  return { gw, sipPort: gw.sipAddress('udp')!.port, warnings };
}

const traceDir = (): string => mkdtempSync(join(tmpdir(), 'policy-'));

/** A trunk SIPp answering `calls` calls (uas-answer: 100, 180, 200; BYE from either side). */
function trunk(address: string, calls: number, set: Record<string, number> = {}): SippHandle {
  const sipp = startSipp({ scenario: 'uas-answer', localPort: TRUNK_PORT, traceDir: traceDir(), calls, set, args: ['-i', address], timeoutS: 60 });
  cleanups.push(() => sipp.stop());
  return sipp;
}

/** The user's phone: `calls` calls to `number` (at most `parallel` at once), each held `holdMs` (0: until
 *  the gateway's BYE). Resolves when SIPp has finished them all. */
async function phone(rig: Rig, user: (typeof USERS)[number], number: string, o: { calls?: number; parallel?: number; holdMs?: number } = {}): Promise<SippTraceEntry[]> {
  const calls = o.calls ?? 1;
  const sipp = startSipp({
    scenarioFile: SCENARIO,
    localPort: PHONE_PORT,
    remote: `${GW}:${rig.sipPort}`,
    traceDir: traceDir(),
    service: number,
    calls,
    auth: { username: user.name, password: user.password },
    set: { hangup_ms: o.holdMs ?? 200 },
    // -auth_uri: SIPp's digest uri is remote_ip:remote_port by default, not the Request-URI (RFC 3261 §22.4)
    args: ['-i', PHONE, '-l', String(o.parallel ?? 1), '-r', '20', '-auth_uri', `${number}@${GW}:${rig.sipPort}`],
    timeoutS: 30,
  });
  cleanups.push(() => sipp.stop());
  const exit = await sipp.exited;
  const seen = (): string => sipp.messages().map((e) => `${e.direction} ${e.message.kind === 'request' ? e.message.method : `${e.message.status} ${e.message.reason}`}`).join(', ');
  expect(exit.code, `phone SIPp: ${sipp.errors()}\n${seen()}`).toBe(0);
  return sipp.messages();
}

/** Final responses (≥ 200) to INVITEs the phone received: "403 Forbidden: …". */
function finals(trace: SippTraceEntry[]): string[] {
  return trace
    .filter((e) => e.direction === 'received' && e.message.kind === 'response' && e.message.status >= 200 && /INVITE/.test(traceHeader(e.message, 'CSeq') ?? ''))
    .map((e) => e.message as SipResponse)
    .filter((r) => r.status !== 407)
    .map((r) => `${r.status} ${r.reason}`);
}

/** Request-URIs of the INVITEs a trunk received. */
function invitesAt(sipp: SippHandle): string[] {
  return sipp
    .messages()
    .filter((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'INVITE')
    .map((e) => (e.message as SipRequest).uri);
}

/** A BYE `sipp` received, its Reason and when (SIPp's trace timestamp, s). */
function byeAt(trace: SippTraceEntry[]): { reason: string | undefined; at: number } | undefined {
  const bye = trace.find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'BYE');
  return bye && { reason: traceHeader(bye.message, 'Reason'), at: traceSeconds(bye) };
}

/** SIPp 3.6 stamps each trace entry "YYYY-MM-DD hh:mm:ss.uuuuuu" (local time): in seconds. */
function traceSeconds(e: SippTraceEntry): number {
  const m = /(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})(\.\d+)/.exec(e.time);
  if (!m) throw new Error(`unreadable SIPp trace time "${e.time}"`);
  return new Date(`${m[1]}T${m[2]}`).getTime() / 1000 + Number(m[3]);
}

async function until<T>(what: string, probe: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('dial rules (issue 8 item 4)', () => {
  it('a premium number from a user without the class → 403 naming it, 0 INVITEs at the trunk; with the class → the trunk', async () => {
    const rig = await startGateway();
    const carrier = trunk(CARRIER, 1);
    await carrier.ready;
    for (const number of ['+882123456789', '+19005550199', '0044900123456', '011882123456']) {
      const refused = await phone(rig, USERS[0]!, number);
      expect(finals(refused)).toEqual([`403 Forbidden: premium numbers not allowed`]);
    }
    expect(invitesAt(carrier)).toEqual([]);
    // the same number from a user whose classes list premium goes out (the trunk's first INVITE is it)
    const allowed = await phone(rig, USERS[1]!, '+882123456789');
    expect(finals(allowed)).toEqual(['200 OK']);
    await carrier.exited;
    expect(invitesAt(carrier)).toEqual([`sip:+882123456789@${CARRIER}:${TRUNK_PORT};transport=udp`]);
    expect(rig.warnings.filter((w) => w.startsWith('call refused:'))).toEqual([
      'call refused: user=alice number=+882123456789 class=premium rule=classes status=403',
      'call refused: user=alice number=+19005550199 class=premium rule=classes status=403',
      'call refused: user=alice number=0044900123456 class=premium rule=classes status=403',
      'call refused: user=alice number=011882123456 class=premium rule=classes status=403',
    ]);
    expect(rig.gw.status()).toMatchObject({ policy: { refused: { classes: 4 } } });
  });

  it('the 3rd concurrent call of a user limited to 2 → 486 naming the limit; 2 INVITEs at the trunk', async () => {
    const rig = await startGateway();
    const carrier = trunk(CARRIER, 2);
    await carrier.ready;
    const trace = await phone(rig, USERS[0]!, '5551234', { calls: 3, parallel: 3, holdMs: 2500 });
    expect(finals(trace).sort()).toEqual(['200 OK', '200 OK', '486 Busy Here: limit of 2 concurrent calls reached']);
    await carrier.exited;
    expect(invitesAt(carrier)).toHaveLength(2);
    expect(rig.warnings).toContain('call refused: user=alice number=5551234 class=local rule=maxCalls limit=2 status=486');
    // every slot given back once the calls ended
    expect(rig.gw.status()).toMatchObject({ policy: { active: { users: {}, trunks: {} }, refused: { maxCalls: 1 } } });
  });

  it('an emergency number goes out on the emergency trunk for a user with no classes, past its limit of 1', async () => {
    const rig = await startGateway();
    const sos = trunk(SOS, 2);
    const carrier = trunk(CARRIER, 1);
    await Promise.all([sos.ready, carrier.ready]);
    // no class: an ordinary number is refused …
    expect(finals(await phone(rig, USERS[2]!, '5551234'))).toEqual(['403 Forbidden: local numbers not allowed']);
    // … 112 twice at once (maxCalls 1), though no route matches it
    const trace = await phone(rig, USERS[2]!, '112', { calls: 2, parallel: 2, holdMs: 1500 });
    expect(finals(trace)).toEqual(['200 OK', '200 OK']);
    await sos.exited;
    expect(invitesAt(sos)).toEqual([`sip:112@${SOS}:${TRUNK_PORT};transport=udp`, `sip:112@${SOS}:${TRUNK_PORT};transport=udp`]);
    expect(invitesAt(carrier)).toEqual([]);
    expect(rig.warnings.filter((w) => w.startsWith('emergency call:'))).toEqual(['emergency call: user=nobody number=112', 'emergency call: user=nobody number=112']);
    expect(rig.gw.status()).toMatchObject({ policy: { emergencyCalls: 2 } });
  });
});

describe('maximum call duration (issue 8 item 6)', () => {
  it('an answered call ends after calls.maxDuration with BYE and Reason at both ends', async () => {
    const rig = await startGateway({ maxDuration: 3 });
    const carrier = trunk(CARRIER, 1, { hangup_ms: 0 });
    await carrier.ready;
    // neither the phone nor the trunk hangs up: only the gateway's BYEs end the call
    const trace = await phone(rig, USERS[0]!, '5551234', { holdMs: 0 });
    const ok = trace.find((e) => e.direction === 'received' && e.message.kind === 'response' && e.message.status === 200);
    expect(ok).toBeDefined();
    const atPhone = byeAt(trace);
    const atTrunk = await until('the BYE at the trunk', () => byeAt(carrier.messages()), 5000);
    for (const bye of [atPhone!, atTrunk]) {
      expect(bye.reason).toBe(REASON_MAX_DURATION);
      const after = bye.at - traceSeconds(ok!);
      expect(after).toBeGreaterThanOrEqual(2.9);
      expect(after).toBeLessThan(4.5);
    }
    await carrier.exited;
    expect(rig.warnings.filter((w) => w.startsWith('call refused:'))).toEqual([]);
    expect(rig.gw.status()).toMatchObject({ policy: { maxDurationEnded: 1, active: { users: {} } } });
  });
});
