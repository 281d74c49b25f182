// GET /api/me/calls on a running gateway (buildGateway, embedded engine) on 127.0.170.x: SIPp as alice's
// phone (127.0.170.4, its Call-ID chosen by -cid_str) calls a SIPp trunk (127.0.170.2); the media of both
// is the test's own UDP sockets (the SDPs name them). The trunk side drops 10 % of its RTP itself (seeded,
// two in every 20). Asked with alice's credentials the gateway lists her one call under her leg's Call-ID
// with its figures: from her 0 % lost, from the far side exactly the packets the trunk did not send. Bob
// (a user with no call) gets []; a wrong password 401, and such failures lock carol out (the lockout of
// GET /api/ice-servers): then even her right password gets 401, here and at /api/ice-servers.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/http/me-calls.test.ts'
import dgram from 'node:dgram';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import type { MyCall } from '../../../gateway/http/api/me.js';
import { rng } from '../../support/rng.js';
import { startSipp } from '../../support/sipp.js';

const GW = '127.0.170.1';
const CARRIER = '127.0.170.2';
const PHONE = '127.0.170.4';
const CLIENT = '127.0.170.5';
const ATTACKER = '127.0.170.6';
const ALICE = { name: 'alice', password: 'alice-secret-170' };
const BOB = { name: 'bob', password: 'bob-secret-170' };
const CAROL = { name: 'carol', password: 'carol-secret-170' };
const CALL_ID = 'me-calls-170-1@phone';
/** The engine in the gateway's own thread (media.workers 0: no worker's warm-up call moves the port cursor)
 *  takes ports from the start of media.rtpPorts in order: the phone's leg first (it offered). */
const [PHONE_SIDE, TRUNK_SIDE] = [47100, 47102];

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
const dir = (): string => mkdtempSync(join(tmpdir(), 'me-calls-it-'));

/** An RTP socket on `address` (its RTCP port above it stays unbound: the figures here are RTP's). */
async function rtpSocket(address: string): Promise<{ socket: dgram.Socket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = 30000 + 2 * Math.floor(Math.random() * 5000);
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, address, () => resolve());
      });
      cleanups.push(async () => socket.close());
      return { socket, port };
    } catch (err) {
      socket.close();
      if (attempt > 10) throw err;
    }
  }
}

function rtp(ssrc: number, seq: number): Buffer {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80;
  b[1] = 0; // PT 0 (PCMU)
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/** GET `path` with Basic credentials from `from` (node's fetch cannot choose its source address). */
function get(gw: Gateway, path: string, user: string, password: string, from = CLIENT): Promise<{ status: number; body: unknown; cacheControl?: string }> {
  const authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, gw.httpUrl), { headers: { authorization }, localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, cacheControl: res.headers['cache-control'] });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/me/calls', () => {
  it('lists only the signed-in user\'s call, under their leg\'s Call-ID, with the gateway\'s figures for both sides; others get [], wrong passwords 401 and lock out', async () => {
    const config = parseConfig({
      http: { listen: `${GW}:0` },
      sip: { listen: [`udp:${GW}:0`] },
      media: { rtpPorts: '47100-47199', address: GW, rtcp: 'generate', workers: 0 },
      users: [ALICE, BOB, CAROL],
      trunks: [{ name: 'carrier', uri: `sip:${CARRIER}:5060;transport=udp`, keepalive: false }],
      routes: [{ match: '^\\d{4,15}$', trunk: 'carrier' }],
      security: { authFailures: { max: 3, windowSeconds: 300, lockoutSeconds: 900 } },
    }, 'me-calls integration test');
    const gw = buildGateway(config, { logger: createLogger('silent') });
    cleanups.push(() => gw.stop());
    await gw.start();
    const sipPort = gw.sipAddress('udp')!.port;
    const [trunk, phone] = [await rtpSocket(CARRIER), await rtpSocket(PHONE)];

    expect(await get(gw, '/api/me/calls', ALICE.name, ALICE.password)).toMatchObject({ status: 200, body: [], cacheControl: 'no-store' });
    const carrier = startSipp({ scenarioFile: 'test/support/sipp/uas-answer-rtp.xml', localIp: CARRIER, localPort: 5060, traceDir: dir(), set: { trunk_rtp: trunk.port }, timeoutS: 30 });
    cleanups.push(() => carrier.stop());
    await carrier.ready;
    const caller = startSipp({
      scenarioFile: 'test/support/sipp/quality-uac.xml', localIp: PHONE, localPort: 5062, remote: `${GW}:${sipPort}`, traceDir: dir(), service: '5551234',
      auth: { username: ALICE.name, password: ALICE.password }, set: { hangup_ms: 20_000, phone_rtp: phone.port },
      args: ['-auth_uri', `5551234@${GW}:${sipPort}`, '-cid_str', CALL_ID], timeoutS: 40,
    });
    cleanups.push(() => caller.stop());
    const mine = async (): Promise<MyCall[]> => (await get(gw, '/api/me/calls', ALICE.name, ALICE.password)).body as MyCall[];
    await expect.poll(async () => (await mine())[0]?.state, { timeout: 10_000, interval: 100 }).toBe('answered');

    // 300 packets each way at 10 ms; the trunk leaves out two in every 20 (never the first 3 of a block)
    const N = 300;
    const random = rng(170);
    const dropped = new Set<number>();
    for (let block = 0; block < N / 20; block++) {
      const first = block * 20 + 3 + Math.floor(random() * 8);
      dropped.add(first).add(first + 1 + Math.floor(random() * 8));
    }
    for (let i = 0; i < N; i++) {
      if (!dropped.has(i)) trunk.socket.send(rtp(0x7a7a0170, 40000 + i), TRUNK_SIDE, GW);
      phone.socket.send(rtp(0x50500170, i), PHONE_SIDE, GW);
      await new Promise((r) => setTimeout(r, 10));
    }
    // the last packet of each stream has arrived: the figures cover both whole streams
    await expect.poll(async () => {
      const q = (await mine())[0]?.quality;
      return [q?.you?.in.packets, q?.far?.in.packets];
    }, { timeout: 5000, interval: 100 }).toEqual([N, N - dropped.size]);
    const [call, ...more] = await mine();
    expect(more).toEqual([]);
    expect(call).toMatchObject({ callId: CALL_ID, side: 'caller', state: 'answered', direction: 'outbound', peer: '5551234', quality: { source: 'embedded' } });
    expect(call!.quality!.you!.in).toMatchObject({ lost: 0, lossPercent: 0 });
    expect(call!.quality!.far!.in.lost).toBe(dropped.size);
    // RFC 3550 A.3: expected = highest − first + 1 (the trunk's last packet is never one it leaves out)
    expect(call!.quality!.far!.in.lossPercent).toBeCloseTo((100 * dropped.size) / N, 1);
    expect(call!.quality!.far!.in.mos!).toBeLessThan(call!.quality!.you!.in.mos!);
    // Nothing of the other leg: no trunk name, no far Call-ID or tag.
    expect(JSON.stringify(call)).not.toMatch(/carrier|SIPpTag/);

    // Bob is signed in fine but has no call: he sees nothing of Alice's.
    expect(await get(gw, '/api/me/calls', BOB.name, BOB.password)).toMatchObject({ status: 200, body: [] });
    // A wrong password: 401.
    expect((await get(gw, '/api/me/calls', ALICE.name, BOB.password)).status).toBe(401);
    // Wrong passwords count toward the lockout (security.authFailures max 3): then carol's right one fails too.
    expect((await get(gw, '/api/me/calls', CAROL.name, CAROL.password, ATTACKER)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(gw, '/api/me/calls', CAROL.name, `guess-${i}`, ATTACKER)).body).toEqual({ error: 'wrong user or password' });
    expect((await get(gw, '/api/me/calls', CAROL.name, CAROL.password, ATTACKER)).status).toBe(401);
    expect((await get(gw, '/api/ice-servers', CAROL.name, CAROL.password, ATTACKER)).status).toBe(401);
    // …while alice, from her own address, still gets her call.
    expect((await mine())[0]?.callId).toBe(CALL_ID);
  });
});
