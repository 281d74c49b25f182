// The HTTP API on a running gateway (buildGateway), from a loopback client and from one that is not: inside
// the test's private network namespace 192.0.2.140/24 (TEST-NET-1) is added to lo, the gateway's web server
// listens on every address, and the "foreign" client binds 192.0.2.141 — its requests arrive from a
// non-loopback source. Then a call between two SIPp instances (a user's phone authenticating as alice, the
// trunk answering) is listed and hung up through the API: BYE with the operator Reason at both SIPp ends.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/http/api.test.ts'
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { until } from '../../support/netbed/wait.js';
import { freePort, freeUdpPortPair } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { sippWorkDir, startSipp } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { getHeader } from '../../../gateway/sip/message/index.js';

const GW = '127.0.140.1';
const TRUNK = '127.0.140.2';
const PHONE = '127.0.140.3';
const FOREIGN_GW = '192.0.2.140';
const FOREIGN_CLIENT = '192.0.2.141';
const TOKEN = 'api-token-0123456789abcdef';
const ALICE = { name: 'alice', password: 'alice-secret-140' };
const OPERATOR_REASON = 'Q.850;cause=16;text="Ended by operator"';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** One HTTP request from `localAddress` (node's fetch cannot choose its source address). */
function request(url: string, o: { method?: string; token?: string; from?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const req = http.request(url, { method: o.method ?? 'GET', headers, localAddress: o.from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: kept as text (a test expecting JSON fails on it)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

async function gatewayWith(o: { token?: string; trunkPort?: number; rtp: string }): Promise<{ gw: Gateway; port: number; sip: number }> {
  const [port, sip] = await Promise.all([freePort('tcp'), freePort('udp')]);
  const config = parseConfig(
    {
      http: { listen: `0.0.0.0:${port}`, advertise: `${GW}:${port}` },
      sip: { listen: [`udp:${GW}:${sip}`] },
      media: { rtpPorts: o.rtp, address: GW },
      users: [ALICE, { name: 'bob', password: 'bob-secret-140', upstream: { registrar: 'sip:pbx.example.net', username: 'bob-account', password: 'pbx-secret' } }],
      trunks: [{ name: 'sipp', uri: `sip:${TRUNK}:${o.trunkPort ?? 5999}`, keepalive: false }],
      routes: [{ match: '^\\d{4,15}$', trunk: 'sipp' }],
      ...(o.token && { api: { token: o.token } }),
    },
    'api-test.yaml',
  );
  const gw = buildGateway(config, { logger: pino({ level: process.env.API_TEST_LOG ?? 'silent' }) });
  await gw.start();
  return { gw, port, sip };
}

beforeAll(() => {
  // The test runs in its own network namespace (unshare -n): the address exists only there.
  try {
    execFileSync('ip', ['addr', 'add', `${FOREIGN_GW}/24`, 'dev', 'lo']);
  } catch (err) {
    if (!/File exists/.test(String((err as { stderr?: Buffer }).stderr ?? err))) throw err;
  }
});
afterAll(stopAllProcesses);

describe('with api.token configured', () => {
  let rig: Awaited<ReturnType<typeof gatewayWith>>;
  beforeAll(async () => {
    rig = await gatewayWith({ token: TOKEN, rtp: '44000-44099' });
  });
  afterAll(() => rig?.gw.stop());
  const at = (path: string) => `http://${FOREIGN_GW}:${rig.port}${path}`;

  it('refuses every operator endpoint without the token (401, WWW-Authenticate: Bearer, JSON error) from a non-loopback address, and from loopback too', async () => {
    for (const [method, path] of [['GET', '/api/calls'], ['GET', '/api/calls/x'], ['DELETE', '/api/calls/x'], ['POST', '/api/calls'], ['GET', '/api/registrations'], ['GET', '/api/trunks']] as const) {
      for (const token of [undefined, 'wrong-token-0123456789abcdef']) {
        const res = await request(at(path), { method, token, from: FOREIGN_CLIENT, body: method === 'POST' ? '{"user":"alice","number":"5551234"}' : undefined });
        expect(res.status, `${method} ${path} token ${token}`).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
        expect(res.body).toEqual({ error: expect.stringMatching(/token/) });
      }
    }
    const loopback = await request(`http://${GW}:${rig.port}/api/calls`, { from: GW });
    expect(loopback.status).toBe(401);
  });

  it('answers with the token from anywhere', async () => {
    const calls = await request(at('/api/calls'), { token: TOKEN, from: FOREIGN_CLIENT });
    expect(calls.status).toBe(200);
    expect(calls.body).toEqual([]);
    const trunks = await request(at('/api/trunks'), { token: TOKEN, from: FOREIGN_CLIENT });
    expect(trunks.body).toEqual([expect.objectContaining({ name: 'sipp', uri: `sip:${TRUNK}:5999`, up: true, health: expect.any(String), calls: expect.objectContaining({ attempts: 0 }) })]);
    const regs = await request(at('/api/registrations'), { token: TOKEN, from: FOREIGN_CLIENT });
    expect(regs).toMatchObject({ status: 200, body: [] });
    const doc = await request(at('/api/openapi.json'), { from: FOREIGN_CLIENT });
    expect(doc).toMatchObject({ status: 200, body: { openapi: '3.1.0' } });
  });

  it('GET /api/status: counts only without the token (no user name, PBX account or trunk URI); everything with it', async () => {
    const anon = await request(at('/api/status'), { from: FOREIGN_CLIENT });
    expect(anon.status).toBe(200);
    expect(anon.body).toEqual({ version: expect.any(String), uptimeSeconds: expect.any(Number), calls: 0, registrations: 0, trunks: { total: 1, up: 1 } });
    for (const secret of ['alice', 'bob', 'pbx.example.net', 'sipp', TRUNK]) expect(JSON.stringify(anon.body)).not.toContain(secret);
    const full = await request(at('/api/status'), { token: TOKEN, from: FOREIGN_CLIENT });
    expect(full.body).toMatchObject({ calls: 0, version: expect.any(String), trunks: [expect.objectContaining({ name: 'sipp' })], upstream: [expect.objectContaining({ user: 'bob' })] });
  });

  it('click-to-call: 400 naming the field, 404 unknown user, 403 a dial rule (its reason), 409 not registered — JSON errors', async () => {
    const post = (body: string) => request(at('/api/calls'), { method: 'POST', token: TOKEN, from: FOREIGN_CLIENT, body });
    expect(await post('{"user": "alice", "number":')).toMatchObject({ status: 400, body: { error: 'body: not valid JSON' } });
    expect(await post('{"user":"alice"}')).toMatchObject({ status: 400, body: { error: 'number: required' } });
    expect(await post('{"user":"alice","number":"55x"}')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^number: /) } });
    expect(await post('{"user":"mallory","number":"5551234"}')).toMatchObject({ status: 404, body: { error: 'no user mallory' } });
    // dialRules' default allow is local, national and mobile: an international number is refused (403, the rule's reason).
    expect(await post('{"user":"alice","number":"0044201234567"}')).toMatchObject({ status: 403, body: { error: expect.stringMatching(/international/i) } });
    expect(await post('{"user":"alice","number":"5551234"}')).toMatchObject({ status: 409, body: { error: expect.stringMatching(/no registered phone/) } });
    expect((await request(at('/api/calls/no-such-call'), { method: 'DELETE', token: TOKEN, from: FOREIGN_CLIENT })).status).toBe(404);
  });
});

describe('without api.token', () => {
  let rig: Awaited<ReturnType<typeof gatewayWith>>;
  beforeAll(async () => {
    rig = await gatewayWith({ rtp: '44100-44199' });
  });
  afterAll(() => rig?.gw.stop());

  it('answers loopback clients only: 403 from a non-loopback address, 200 from 127.0.140.x; status still counts-only there', async () => {
    const foreign = await request(`http://${FOREIGN_GW}:${rig.port}/api/calls`, { from: FOREIGN_CLIENT });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toEqual({ error: expect.stringMatching(/loopback/) });
    const local = await request(`http://${GW}:${rig.port}/api/calls`, { from: PHONE });
    expect(local).toMatchObject({ status: 200, body: [] });
    const anon = await request(`http://${FOREIGN_GW}:${rig.port}/api/status`, { from: FOREIGN_CLIENT });
    expect(JSON.stringify(anon.body)).not.toContain('bob');
    const localStatus = await request(`http://${GW}:${rig.port}/api/status`, { from: PHONE });
    expect(localStatus.body).toMatchObject({ upstream: [expect.objectContaining({ user: 'bob' })] });
  });
});

describe('a SIPp call listed and hung up through the API', () => {
  it('GET /api/calls shows it answered; DELETE ends it: BYE with Reason "Ended by operator" at both SIPp ends', async () => {
    const traceDir = sippWorkDir('api-hangup');
    const [trunkPort, phonePort] = await Promise.all([freePort('udp'), freePort('udp')]);
    const [trunkMedia, phoneMedia] = await Promise.all([freeUdpPortPair(), freeUdpPortPair()]);
    const trunk = startSipp({ scenario: 'uas-answer', localIp: TRUNK, localPort: trunkPort, mediaPort: trunkMedia.rtp, traceDir, timeoutS: 60 });
    await trunk.ready;
    const rig = await gatewayWith({ token: TOKEN, trunkPort, rtp: '44200-44299' });
    try {
      const phone = startSipp({
        scenario: 'uac-auth',
        localIp: PHONE,
        localPort: phonePort,
        mediaPort: phoneMedia.rtp,
        remote: `${GW}:${rig.sip}`,
        service: '5551234',
        auth: { username: ALICE.name, password: ALICE.password },
        set: { hangup_ms: 0 },
        // SIPp's digest uri is remote_ip:remote_port by default, not the Request-URI (RFC 3261 §22.4)
        args: ['-auth_uri', `5551234@${GW}:${rig.sip}`],
        traceDir,
        timeoutS: 60,
      });
      const api = (path: string, method = 'GET') => request(`http://${FOREIGN_GW}:${rig.port}${path}`, { method, token: TOKEN, from: FOREIGN_CLIENT });
      type Listed = { id: string; state: string; direction: string; caller: { user?: string }; callee: { number: string }; trunk?: string; answeredAt?: string };
      const listed = await until('the call to be listed answered', async () => ((await api('/api/calls')).body as Listed[]).find((c) => c.state === 'answered'), 15_000);
      expect(listed).toMatchObject({ direction: 'outbound', caller: { user: 'alice' }, callee: { number: '5551234' }, trunk: 'sipp', answeredAt: expect.any(String) });
      const detail = await api(`/api/calls/${listed.id}`);
      expect(detail).toMatchObject({ status: 200, body: { id: listed.id, parties: { caller: { kind: 'user', user: 'alice' }, callee: { kind: 'trunk', trunk: 'sipp' } }, media: { key: expect.any(String), packets: expect.any(Object), quality: { caller: expect.any(Object), callee: expect.any(Object) } } } });
      expect((await api(`/api/calls/${listed.id}`, 'DELETE')).status).toBe(204);
      const byeAt = (h: typeof trunk) => until('BYE at SIPp', () => h.messages().find((e) => e.direction === 'received' && e.message.kind === 'request' && e.message.method === 'BYE')?.message, 10_000);
      const [trunkBye, phoneBye] = (await Promise.all([byeAt(trunk), byeAt(phone)])) as SipMessage[];
      expect(traceHeader(trunkBye!, 'Reason')).toBe(OPERATOR_REASON);
      expect(traceHeader(phoneBye!, 'Reason')).toBe(OPERATOR_REASON);
      expect((await trunk.exited).code).toBe(0);
      expect((await phone.exited).code).toBe(0);
      await until('the call to leave the list', async () => (((await api('/api/calls')).body as unknown[]).length === 0 ? true : undefined), 5_000);
      expect((await api(`/api/calls/${listed.id}`)).status).toBe(404);
    } finally {
      await rig.gw.stop();
      await trunk.stop();
    }
  });
});

describe('click-to-call whose number is busy', () => {
  it('the user\'s phone rings first ("Call to 5551234"); the trunk is dialled only after it answers; its 486 reaches the user as BYE with Reason cause=486', async () => {
    const traceDir = sippWorkDir('api-busy');
    const trunkPort = await freePort('udp');
    const trunk = startSipp({ scenario: 'uas-busy', localIp: TRUNK, localPort: trunkPort, traceDir, timeoutS: 60 });
    await trunk.ready;
    const rig = await gatewayWith({ token: TOKEN, trunkPort, rtp: '44300-44399' });
    const client = await WsSipClient.connect({ url: `ws://${GW}:${rig.port}/sip`, user: ALICE.name, password: ALICE.password });
    try {
      expect((await client.register(600)).status).toBe(200);
      const api = (path: string, method = 'GET', body?: string) => request(`http://${FOREIGN_GW}:${rig.port}${path}`, { method, token: TOKEN, from: FOREIGN_CLIENT, body });
      const regs = await api('/api/registrations');
      expect(regs.body).toEqual([expect.objectContaining({ user: 'alice', transport: 'ws', expiresInSeconds: expect.any(Number) })]);
      const started = await api('/api/calls', 'POST', JSON.stringify({ user: 'alice', number: '5551234' }));
      expect(started).toMatchObject({ status: 202, body: { id: expect.any(String), href: expect.stringMatching(/^\/api\/calls\//) } });
      expect(started.headers.location).toBe((started.body as { href: string }).href);
      const incoming = await client.incoming();
      expect(getHeader(incoming.invite, 'From')).toMatch(/^"Call to 5551234" <sip:5551234@/);
      expect(trunk.messages()).toEqual([]); // nothing dialled while the user's phone rings
      await incoming.accept();
      const bye = await incoming.waitBye();
      expect(getHeader(bye, 'Reason')).toBe('SIP;cause=486;text="Busy Here"');
      expect((await trunk.exited).code).toBe(0); // INVITE, 486, ACK
      await until('the call to leave the list', async () => (((await api('/api/calls')).body as unknown[]).length === 0 ? true : undefined), 5_000);
    } finally {
      await client.close().catch(() => undefined);
      await rig.gw.stop();
      await trunk.stop();
    }
  });
});
