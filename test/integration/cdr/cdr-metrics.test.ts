// Issue 11 items 1, 3, 5 through a real gateway (buildGateway) on loopback: SIPp as alice's phone
// (127.0.100.4, digest-authenticated) calls through the gateway (127.0.100.1) to a SIPp trunk
// (127.0.100.2). The CDR is read back from the SQLite file and from GET /api/cdrs (JSON and CSV); GET
// /metrics is parsed with a strict Prometheus text parser before and after, and its counters must move
// with the call; the "call ended" log line has its fixed format; api.token guards /metrics.
// Run:
//   unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/cdr/cdr-metrics.test.ts'
import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import sdpTransform from 'sdp-transform';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { parsePrometheusText, sampleSum, sampleValue, type Family } from '../../support/metrics-text.js';

const GW = '127.0.100.1';
const CARRIER = '127.0.100.2';
const PHONE = '127.0.100.4';
const TRUNK_PORT = 5060;
const PHONE_PORT = 5062;
const TOKEN = 'ops-test-token-0123456789';
const USER = { name: 'alice', password: 'alice-secret', callerId: '+15550001' };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
const traceDir = (): string => mkdtempSync(join(tmpdir(), 'cdr-it-'));

interface Rig {
  gw: Gateway;
  sipPort: number;
  db: string;
  logs: Array<Record<string, unknown>>;
}

async function startGateway(extra: Record<string, unknown> = {}): Promise<Rig> {
  const db = join(traceDir(), 'cdr.sqlite');
  const config = parseConfig({
    http: { listen: `${GW}:0` },
    sip: { listen: [`udp:${GW}:0`] },
    media: { rtpPorts: '20000-20099', address: GW },
    users: [USER],
    trunks: [{ name: 'carrier', uri: `sip:${CARRIER}:${TRUNK_PORT};transport=udp`, keepalive: false }],
    routes: [{ match: '^\\d{4,15}$', trunk: 'carrier' }],
    cdr: { path: db },
    log: { level: 'info' },
    ...extra,
  }, 'cdr integration test');
  const logs: Array<Record<string, unknown>> = [];
  const gw = buildGateway(config, { logger: createLogger('info', { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) }) });
  cleanups.push(() => gw.stop());
  await gw.start();
  return { gw, sipPort: gw.sipAddress('udp')!.port, db, logs };
}

function trunk(scenario: 'uas-answer' | 'uas-busy' | 'uas-answer-rtp', set: Record<string, number> = {}): SippHandle {
  const file = scenario === 'uas-answer-rtp' ? { scenarioFile: join(import.meta.dirname, '..', '..', 'support', 'sipp', 'uas-answer-rtp.xml') } : { scenario };
  const sipp = startSipp({ ...file, localPort: TRUNK_PORT, traceDir: traceDir(), args: ['-i', CARRIER], set, timeoutS: 30 });
  cleanups.push(() => sipp.stop());
  return sipp;
}

/** The trunk's media: a UDP socket on the trunk's address (its SDP names it: strict source holds). */
async function trunkMedia(): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, CARRIER, r));
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return sock;
}

/** The media address the gateway's INVITE to the trunk offered (SIPp's trace of it). */
function offeredTo(sipp: SippHandle): { address: string; port: number } | undefined {
  const invite = sipp.messages().find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'INVITE');
  if (!invite) return undefined;
  const sdp = sdpTransform.parse(invite.message.body.toString('utf8'));
  const audio = sdp.media.find((m) => m.type === 'audio');
  return audio && { address: (audio.connection ?? sdp.connection)!.ip, port: audio.port };
}

/** RTP, PCMU, 20 ms of silence. */
const rtpPacket = (seq: number): Buffer => {
  const b = Buffer.alloc(172, 0xff);
  b.writeUInt8(0x80, 0);
  b.writeUInt8(0, 1);
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(0x0c0ffee0, 8);
  return b;
}

/** alice's phone calls `number`, hangs up after holdMs (answered calls); resolves with SIPp's exit code. */
async function phone(rig: Rig, number: string, scenario: 'uac-auth' = 'uac-auth', holdMs = 400): Promise<number | null> {
  const sipp = startSipp({
    scenario, localPort: PHONE_PORT, remote: `${GW}:${rig.sipPort}`, traceDir: traceDir(), service: number,
    auth: { username: USER.name, password: USER.password }, set: { hangup_ms: holdMs },
    args: ['-i', PHONE, '-auth_uri', `${number}@${GW}:${rig.sipPort}`], timeoutS: 20,
  });
  cleanups.push(() => sipp.stop());
  return (await sipp.exited).code;
}

async function scrape(rig: Rig, headers: Record<string, string> = {}): Promise<Map<string, Family>> {
  const res = await fetch(`${rig.gw.httpUrl}metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

type Row = Record<string, unknown>;
const rows = (file: string): Row[] => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT * FROM cdr ORDER BY start_time').all() as Row[];
  } finally {
    db.close();
  }
};

describe('CDRs, metrics and the call-ended line', () => {
  it('an answered call: one CDR with the right fields, counters that moved, the fixed log line', async () => {
    const rig = await startGateway();
    const before = await scrape(rig);
    const media = await trunkMedia();
    const carrier = trunk('uas-answer-rtp', { trunk_rtp: media.address().port });
    await carrier.ready;
    const t0 = Date.now();
    const called = phone(rig, '5551234', 'uac-auth', 1500);
    // Once answered, the trunk sends 30 RTP packets to the gateway's trunk leg.
    await expect.poll(() => rows(rig.db)[0]?.answer_time ?? null, { timeout: 10_000, interval: 20 }).not.toBeNull();
    const to = offeredTo(carrier)!;
    for (let i = 0; i < 30; i++) media.send(rtpPacket(i), to.port, to.address);
    await expect.poll(async () => sampleSum(await scrape(rig), 'webphone_media_packets_total', { direction: 'in' }) - sampleSum(before, 'webphone_media_packets_total', { direction: 'in' }), { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(30);
    expect(await called).toBe(0);
    await expect.poll(() => rows(rig.db).filter((r) => r.closed === 1).length, { timeout: 5_000, interval: 50 }).toBe(1);
    const [row] = rows(rig.db);
    expect(row).toMatchObject({
      direction: 'outbound', caller_user: 'alice', caller_number: 'caller', callee_user: null, callee_number: '5551234', trunk: 'carrier',
      status: 200, reason: 'normal clearing', ended_by: 'caller', codec: 'PCMU', media_engine: 'embedded', closed: 1,
    });
    const r = row as { start_time: number; answer_time: number; end_time: number; duration: number };
    expect(r.start_time).toBeGreaterThanOrEqual(t0 - 1000);
    expect(r.answer_time).toBeGreaterThanOrEqual(r.start_time);
    expect(r.end_time).toBeGreaterThanOrEqual(r.answer_time);
    // SIPp held the call 1.5 s after its ACK; the gateway's answer-to-BYE time is that, give or take.
    expect(r.duration).toBeGreaterThanOrEqual(1.3);
    expect(r.duration).toBeLessThan(5);
    expect(r.duration).toBeCloseTo((r.end_time - r.answer_time) / 1000, 1);
    expect((await carrier.exited).code, carrier.errors()).toBe(0);

    // The same record from the API, as JSON and as CSV.
    const json = (await (await fetch(`${rig.gw.httpUrl}api/cdrs?user=alice&format=json`)).json()) as Row[];
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ callerUser: 'alice', calleeNumber: '5551234', status: 200, endedBy: 'caller', start: new Date(r.start_time).toISOString(), closed: true });
    const csv = await (await fetch(`${rig.gw.httpUrl}api/cdrs?number=5551234&format=csv`)).text();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split(',').slice(0, 4)).toEqual(['id', 'direction', 'callerUser', 'callerNumber']);
    expect(lines[1]).toContain(',outbound,alice,caller,,5551234,carrier,');
    expect((await (await fetch(`${rig.gw.httpUrl}api/cdrs?user=bob`)).json()) as Row[]).toEqual([]);
    expect((await fetch(`${rig.gw.httpUrl}api/cdrs?from=yesterday`)).status).toBe(400);

    // The counters moved with the call; labels are bounded (no call id, no user).
    const after = await scrape(rig);
    const delta = (name: string, labels: Record<string, string>): number => sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(delta('webphone_calls_started_total', { direction: 'outbound', trunk: 'carrier' })).toBe(1);
    expect(delta('webphone_calls_answered_total', { direction: 'outbound', trunk: 'carrier' })).toBe(1);
    expect(delta('webphone_calls_ended_total', { direction: 'outbound', trunk: 'carrier', status: '200', side: 'caller' })).toBe(1);
    expect(delta('webphone_call_setup_seconds_count', { direction: 'outbound' })).toBe(1);
    expect(delta('webphone_call_duration_seconds_count', { direction: 'outbound' })).toBe(1);
    // The phone's INVITE twice (407 challenge, then with credentials), the gateway's INVITE to the trunk.
    expect(delta('webphone_sip_requests_total', { direction: 'in', method: 'INVITE' })).toBe(2);
    expect(delta('webphone_sip_requests_total', { direction: 'out', method: 'INVITE' })).toBe(1);
    expect(delta('webphone_sip_responses_total', { direction: 'out', method: 'INVITE', code: '407' })).toBe(1);
    expect(delta('webphone_sip_responses_total', { direction: 'in', method: 'INVITE', code: '200' })).toBeGreaterThanOrEqual(1);
    expect(delta('webphone_sip_requests_total', { direction: 'in', method: 'BYE' })).toBe(1);
    expect(delta('webphone_sip_requests_total', { direction: 'out', method: 'BYE' })).toBe(1);
    expect(sampleValue(after, 'webphone_calls_active', { state: 'answered', direction: 'outbound' })).toBe(0);
    // The 30 packets (172 bytes each) came in from the trunk and went on toward the phone.
    expect(delta('webphone_media_packets_total', { direction: 'in' })).toBeGreaterThanOrEqual(30);
    expect(delta('webphone_media_bytes_total', { direction: 'in' })).toBeGreaterThanOrEqual(30 * 172);
    expect(delta('webphone_media_packets_total', { direction: 'out' })).toBeGreaterThanOrEqual(30);
    expect(sampleValue(after, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
    for (const f of after.values()) for (const s of f.samples) expect(Object.values(s.labels)).not.toContain('alice');

    // One line per call end, in the fixed format.
    const ended = rig.logs.filter((l) => String(l.msg).startsWith('call ended: '));
    expect(ended.map((l) => l.msg)).toEqual([expect.stringMatching(/^call ended: caller=alice callee=5551234 duration=\d+\.\d reason="normal clearing" status=200 side=caller direction=outbound trunk=carrier$/)]);
    expect(ended[0]).toMatchObject({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
  });

  it('a call the trunk refuses: status 486, ended by the callee, never answered', async () => {
    const rig = await startGateway();
    const carrier = trunk('uas-busy');
    await phone(rig, '5559876');
    await expect.poll(() => rows(rig.db).filter((r) => r.closed === 1).length, { timeout: 5_000, interval: 50 }).toBe(1);
    expect(rows(rig.db)[0]).toMatchObject({ callee_number: '5559876', status: 486, ended_by: 'callee', answer_time: null, duration: 0, trunk: 'carrier' });
    const after = await scrape(rig);
    expect(sampleSum(after, 'webphone_calls_ended_total', { status: '486', side: 'callee' })).toBe(1);
    expect(sampleSum(after, 'webphone_calls_answered_total')).toBe(0);
    await carrier.exited;
  });

  it('with api.token, /metrics and /api/cdrs need the bearer token, even from loopback', async () => {
    const rig = await startGateway({ api: { token: TOKEN } });
    for (const path of ['metrics', 'api/cdrs']) {
      const none = await fetch(`${rig.gw.httpUrl}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect((await fetch(`${rig.gw.httpUrl}${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      expect((await fetch(`${rig.gw.httpUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    }
    await scrape(rig, { authorization: `Bearer ${TOKEN}` });
  });
});
