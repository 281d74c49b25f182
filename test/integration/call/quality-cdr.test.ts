// Per-call quality through a real gateway (buildGateway, embedded engine, media.rtcp generate) on
// 127.0.120.2x: SIPp as alice's phone (127.0.120.24) calls a SIPp trunk (127.0.120.22); the media of both
// is the test's own UDP sockets (the SDPs name them). The trunk side drops 5 % of its RTP itself (seeded,
// one in every 20). The gateway's own RTCP receiver report arrives at the trunk's RTCP socket with the
// trunk's SSRC and exactly that loss; the call record (SQLite) gets the final figures per side: the
// callee (trunk) leg 5 % lost, the caller (phone) leg none.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/call/quality-cdr.test.ts'
import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { parseRtcp, type ReportBlock } from '../../../gateway/media/rtcp/packet.js';
import { rng } from '../../support/rng.js';
import { startSipp } from '../../support/sipp.js';

const GW = '127.0.120.21';
const CARRIER = '127.0.120.22';
const PHONE = '127.0.120.24';
const USER = { name: 'alice', password: 'alice-secret', callerId: '+15550001' };
/** The engine in the gateway's own thread (media.workers 0: no worker's warm-up call moves the port cursor)
 *  takes ports from the start of media.rtpPorts in order: the phone's leg first (it offered). */
const [PHONE_SIDE, TRUNK_SIDE] = [49100, 49102];

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
const dir = (): string => mkdtempSync(join(tmpdir(), 'quality-it-'));

/** An RTP socket and its RTCP socket on the port above (RFC 3550 §11), on `address`. */
async function mediaPair(address: string): Promise<{ rtp: dgram.Socket; rtcp: dgram.Socket; port: number; rtcpIn: Buffer[] }> {
  for (let attempt = 0; ; attempt++) {
    const port = 30000 + 2 * Math.floor(Math.random() * 5000);
    const bind = (p: number) =>
      new Promise<dgram.Socket>((resolve, reject) => {
        const s = dgram.createSocket('udp4');
        s.once('error', reject);
        s.bind(p, address, () => resolve(s));
      });
    try {
      const rtp = await bind(port);
      const rtcp = await bind(port + 1).catch((err) => {
        rtp.close();
        throw err;
      });
      const rtcpIn: Buffer[] = [];
      rtcp.on('message', (m) => rtcpIn.push(m));
      cleanups.push(async () => [rtp, rtcp].forEach((s) => s.close()));
      return { rtp, rtcp, port, rtcpIn };
    } catch (err) {
      if (attempt > 10) throw err;
    }
  }
}

function rtp(ssrc: number, seq: number): Buffer {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80;
  b[1] = 0; // PT 0 (PCMU), no marker
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

type Row = Record<string, unknown>;
function rows(file: string): Row[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT * FROM cdr').all() as Row[];
  } finally {
    db.close();
  }
}

describe('per-call quality through the gateway, final in the call record', () => {
  it('5 % dropped on the trunk leg: the gateway\'s RR at the trunk says so, the CDR has 5 % on the callee leg and none on the caller\'s', async () => {
    const db = join(dir(), 'cdr.sqlite');
    const config = parseConfig({
      http: { listen: `${GW}:0` },
      sip: { listen: [`udp:${GW}:0`] },
      media: { rtpPorts: '49100-49199', address: GW, rtcp: 'generate', workers: 0 },
      users: [USER],
      trunks: [{ name: 'carrier', uri: `sip:${CARRIER}:5060;transport=udp`, keepalive: false }],
      routes: [{ match: '^\\d{4,15}$', trunk: 'carrier' }],
      cdr: { path: db },
    }, 'quality integration test');
    const gw = buildGateway(config, { logger: createLogger('silent') });
    cleanups.push(() => gw.stop());
    await gw.start();
    const sipPort = gw.sipAddress('udp')!.port;
    const [trunk, phone] = [await mediaPair(CARRIER), await mediaPair(PHONE)];

    const carrier = startSipp({ scenarioFile: 'test/support/sipp/uas-answer-rtp.xml', localIp: CARRIER, localPort: 5060, traceDir: dir(), set: { trunk_rtp: trunk.port }, timeoutS: 30 });
    cleanups.push(() => carrier.stop());
    await carrier.ready;
    const caller = startSipp({
      scenarioFile: 'test/support/sipp/quality-uac.xml', localIp: PHONE, localPort: 5062, remote: `${GW}:${sipPort}`, traceDir: dir(), service: '5551234',
      auth: { username: USER.name, password: USER.password }, set: { hangup_ms: 14_000, phone_rtp: phone.port },
      args: ['-auth_uri', `5551234@${GW}:${sipPort}`], timeoutS: 30,
    });
    cleanups.push(() => caller.stop());
    await expect.poll(() => rows(db).some((r) => r.answer_time !== null), { timeout: 10_000, interval: 50 }).toBe(true);

    // 300 packets each way at 10 ms; the trunk drops one in every 20 (never the first 3 or a block's last)
    const N = 300;
    const [TRUNK_SSRC, PHONE_SSRC] = [0x7a7a0020, 0x50500020];
    const random = rng(123);
    const dropped = new Set<number>();
    for (let block = 0; block < N / 20; block++) dropped.add(block * 20 + 3 + Math.floor(random() * 16));
    for (let i = 0; i < N; i++) {
      if (!dropped.has(i)) trunk.rtp.send(rtp(TRUNK_SSRC, 40000 + i), TRUNK_SIDE, GW);
      phone.rtp.send(rtp(PHONE_SSRC, i), PHONE_SIDE, GW);
      await new Promise((r) => setTimeout(r, 10));
    }
    // the gateway's RR at the trunk's RTCP socket: the trunk's SSRC, all 15 lost once it covers the stream
    const blocks = (): ReportBlock[] => trunk.rtcpIn.flatMap((m) => parseRtcp(m)).flatMap((p) => (p.type === 'other' ? [] : p.reports)).filter((b) => b.ssrc === TRUNK_SSRC);
    // reports every 2.5–7.5 s (RFC 3550 §6.2, 5 s minimum): the phone hangs up 14 s after the answer
    await expect.poll(() => blocks().some((b) => b.highestSeq === 40000 + N - 1), { timeout: 9000, interval: 100 }).toBe(true);
    const last = blocks().find((b) => b.highestSeq === 40000 + N - 1)!;
    expect(last.cumulativeLost).toBe(dropped.size);

    expect((await caller.exited).code, caller.errors()).toBe(0);
    await expect.poll(() => rows(db).filter((r) => r.closed === 1).length, { timeout: 15_000, interval: 50 }).toBe(1);
    const [row] = rows(db);
    expect(row).toMatchObject({ caller_user: 'alice', callee_number: '5551234', trunk: 'carrier', caller_packets: N, caller_lost: 0, callee_packets: N - dropped.size, callee_lost: dropped.size });
    const calleeLoss = (100 * (row!.callee_lost as number)) / (N - 1); // RFC 3550 A.1: the first packet starts the count
    expect(Math.abs(calleeLoss - 5)).toBeLessThanOrEqual(1);
    expect(row!.callee_mos as number).toBeLessThan(row!.caller_mos as number);
    expect(row!.caller_mos as number).toBeGreaterThan(4);
    expect((await carrier.exited).code, carrier.errors()).toBe(0);
  });
});
