// The registrar through a real gateway (buildGateway) on loopback: a WebSocket client plays the browser,
// SIPp plays a UDP desk phone. Run:
//   unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/registrar'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { createRegistrar } from '../../../gateway/registrar/index.js';
import { answerChallenge, createDigestServer, pickBestChallenge } from '../../../gateway/sip/auth/index.js';
import { getHeaderValues, newCallId } from '../../../gateway/sip/message/index.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';
import { freeSipPort } from '../../support/ports.js';
import { stopAllProcesses } from '../../support/process.js';
import { startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { WsSipClient } from '../../support/ws-sip-client.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCENARIO = join(HERE, 'register-auth.xml');
const ALICE = { name: 'alice', password: 'alice-secret' };
const work = mkdtempSync(join(tmpdir(), 'registrar-it-'));
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(stopAllProcesses);

function config(store?: string) {
  return parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
      media: { rtpPorts: '42000-42099', address: '127.0.0.1' },
      users: [ALICE, { name: 'bob', password: 'bob-secret' }],
      registrar: { minExpires: 60, maxExpires: 3600, ...(store ? { store } : {}) },
      log: { level: 'silent' },
    },
    'registrar integration test',
  );
}

async function startGateway(store?: string): Promise<Gateway> {
  const gw = buildGateway(config(store), { logger: createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent') });
  cleanups.push(() => gw.stop());
  await gw.start();
  return gw;
}

async function connect(gw: Gateway, user = ALICE.name, password = ALICE.password): Promise<WsSipClient> {
  const url = `${gw.httpUrl.replace(/^http/, 'ws')}sip`;
  const client = await WsSipClient.connect({ url, user, password });
  cleanups.push(() => client.close());
  return client;
}

/** REGISTER as `user` (whatever the client's own user) with the same Call-ID/CSeq each time, answering
 *  the 401 with `password`: two probes differ only in the user name, so their answers can be compared. */
async function probe(client: WsSipClient, user: string, password: string, callId: string): Promise<{ first: SipResponse; second: SipResponse }> {
  const uri = `sip:${client.domain}`;
  const build = (cseq: number, extra: Array<{ name: string; value: string }>) => {
    const req = client.request('REGISTER', uri, { callId, cseq, to: `<sip:${user}@${client.domain}>`, extra: [{ name: 'Contact', value: client.contact }, { name: 'Expires', value: '600' }, ...extra] });
    req.headers = req.headers.map((h) => (h.name === 'From' ? { name: 'From', value: `<sip:${user}@${client.domain}>;tag=probe` } : h));
    return req;
  };
  const first = await client.transact(build(1, []));
  const challenge = pickBestChallenge(getHeaderValues(first, 'WWW-Authenticate'))!;
  const authz = answerChallenge({ challenge, username: user, password, method: 'REGISTER', uri });
  const second = await client.transact(build(2, [{ name: 'Authorization', value: authz }]));
  return { first, second };
}

/** Status, reason, header names and values, with the per-request parts (user name, tags, branch) and
 *  the per-challenge nonce/opaque masked. */
function shape(res: SipResponse, user: string) {
  const mask = (v: string) =>
    v
      .split(user).join('USER')
      .replace(/tag=[^;>\s]+/g, 'tag=T')
      .replace(/branch=[^;\s]+/g, 'branch=B')
      .replace(/nonce="[^"]*"/g, 'nonce="N"')
      .replace(/opaque="[^"]*"/g, 'opaque="O"');
  return { status: res.status, reason: res.reason, headers: res.headers.map((h) => `${h.name}: ${mask(h.value)}`), body: res.body.toString() };
}

describe('registrar over WebSocket', () => {
  it('the right password → 200 listing the contact; the binding dies with the socket', async () => {
    const gw = await startGateway();
    const client = await connect(gw);
    const res = await client.register(600);
    expect(res.status).toBe(200);
    expect(getHeaderValues(res, 'Contact')).toEqual([`${client.contact};expires=600`]);
    expect(gw.status().registrations).toBe(1);
    const tab2 = await connect(gw);
    const res2 = await tab2.register(300);
    expect(getHeaderValues(res2, 'Contact').sort()).toEqual([`${client.contact};expires=600`, `${tab2.contact};expires=300`].sort());
    expect(gw.status().registrations).toBe(2);
    await client.close();
    await expect.poll(() => gw.status().registrations).toBe(1);
  });

  it('a wrong password → 401 again, nothing registered; an unknown user gets the very same answers', async () => {
    const gw = await startGateway();
    const client = await connect(gw);
    const callId = newCallId();
    const wrong = await probe(client, ALICE.name, 'not-her-password', callId);
    const unknown = await probe(client, 'mallory', 'not-her-password', callId);
    expect(wrong.first.status).toBe(401);
    expect(wrong.second.status).toBe(401);
    expect(shape(unknown.first, 'mallory')).toEqual(shape(wrong.first, ALICE.name));
    expect(shape(unknown.second, 'mallory')).toEqual(shape(wrong.second, ALICE.name));
    // The masks hide only what must differ: the challenges themselves are there, and fresh.
    expect(getHeaderValues(unknown.second, 'WWW-Authenticate')).toHaveLength(2);
    expect(getHeaderValues(unknown.second, 'WWW-Authenticate')[0]).not.toBe(getHeaderValues(wrong.second, 'WWW-Authenticate')[0]);
    expect(gw.status().registrations).toBe(0);
  });

  it('403 for registering another user\'s address-of-record', async () => {
    const gw = await startGateway();
    const client = await connect(gw, 'bob', 'bob-secret');
    const uri = `sip:${client.domain}`;
    const callId = newCallId();
    const build = (extra: Array<{ name: string; value: string }>) =>
      client.request('REGISTER', uri, { callId, to: `<sip:alice@${client.domain}>`, extra: [{ name: 'Contact', value: client.contact }, ...extra] });
    const first = await client.transact(build([]));
    const second = await client.transact(build([{ name: 'Authorization', value: client.answer(first, 'REGISTER', uri) }]));
    expect(second.status).toBe(403);
    expect(gw.status().registrations).toBe(0);
  });
});

describe('registrar over UDP with a store file', () => {
  it('a SIPp desk phone registers; after a gateway restart on the same store its binding is still there', async () => {
    const store = join(work, 'registrations.json');
    const gw = await startGateway(store);
    const udp = gw.sipAddress('udp')!;
    const phonePort = await freeSipPort();
    const sipp: SippHandle = startSipp({
      scenarioFile: SCENARIO, localPort: phonePort, remote: `127.0.0.1:${udp.port}`, traceDir: work,
      service: ALICE.name, auth: { username: ALICE.name, password: ALICE.password }, set: { expires: 900 }, timeoutS: 20,
    });
    cleanups.push(() => sipp.stop());
    const { code } = await sipp.exited;
    expect(code, sipp.errors()).toBe(0);
    const ok = sipp.messages().filter((e) => e.direction === 'received').map((e) => e.message).at(-1)!;
    expect(ok.kind === 'response' && ok.status).toBe(200);
    expect(traceHeader(ok, 'Contact')).toBe(`<sip:alice@127.0.0.1:${phonePort};transport=UDP>;expires=900`);
    expect(gw.status().registrations).toBe(1);

    await gw.stop();
    const saved = JSON.parse(readFileSync(store, 'utf8')) as { bindings: unknown[] };
    expect(saved.bindings).toEqual([expect.objectContaining({ user: 'alice', transport: 'udp', source: { address: '127.0.0.1', port: phonePort } })]);

    // The same file, read as the next gateway will: the phone is reached where its REGISTER came from.
    const registrar = createRegistrar({ config: config(store), digest: createDigestServer({ realm: 'gateway' }), logger: createLogger('silent') });
    const routes = registrar.lookup('alice');
    registrar.close();
    expect(routes).toEqual([expect.objectContaining({ webrtc: false, contactText: `sip:alice@127.0.0.1:${phonePort};transport=UDP`, target: { address: '127.0.0.1', port: phonePort, transport: 'udp' } })]);

    const again = await startGateway(store);
    expect(again.status().registrations).toBe(1);
  });

  it('a SIPp phone with a wrong password gets 401 again and nothing is stored', async () => {
    const store = join(work, 'wrong.json');
    const gw = await startGateway(store);
    const phonePort = await freeSipPort();
    const sipp = startSipp({
      scenarioFile: SCENARIO, localPort: phonePort, remote: `127.0.0.1:${gw.sipAddress('udp')!.port}`, traceDir: work,
      service: ALICE.name, auth: { username: ALICE.name, password: 'guess' }, set: { expires: 900 }, timeoutS: 20,
    });
    cleanups.push(() => sipp.stop());
    const { code } = await sipp.exited;
    expect(code).not.toBe(0);
    const got = sipp.messages().filter((e) => e.direction === 'received').map((e) => e.message.kind === 'response' && e.message.status);
    expect(got).toEqual([401, 401]);
    expect(gw.status().registrations).toBe(0);
    await gw.stop();
    expect(existsSync(store) ? JSON.parse(readFileSync(store, 'utf8')).bindings : []).toEqual([]);
  });
});
