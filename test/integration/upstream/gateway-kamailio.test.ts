// The whole gateway (buildGateway) registering upstream at Debian Kamailio with digest auth on:
// a user's own PBX account follows the user's registration here; a trunk with register: true is
// registered and GET /api/status shows it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { startKamailio, type KamailioContact, type KamailioHandle } from '../../support/kamailio.js';
import { WsSipClient } from '../../support/ws-sip-client.js';

const ALICE = { name: 'alice', password: 'alice-gw-secret' };
const ACCOUNTS = { alice1: 'alice-pbx-secret', gwtrunk: 'trunk-pbx-secret' };

let kam: KamailioHandle;
const running: Gateway[] = [];
const clients: WsSipClient[] = [];

interface StatusBody {
  trunks?: Array<{ name: string; state: string; expiresAt?: string; lastError?: string; keepalive?: unknown; health?: string; calls?: unknown }>;
  upstream?: Array<{ user: string; account: string; state: string; lastError?: string }>;
}

beforeAll(async () => {
  kam = await startKamailio({ accounts: ACCOUNTS });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(running.splice(0).map((g) => g.stop()));
});
afterAll(async () => {
  await kam?.stop();
});

async function gateway(o: { upstreamPassword?: string; trunk?: boolean }): Promise<Gateway> {
  const config = parseConfig(
    {
      http: { listen: '127.0.0.1:0' },
      sip: { listen: ['udp:127.0.0.1:0'] },
      media: { rtpPorts: '42000-42099' },
      users: [{ ...ALICE, upstream: { registrar: kam.uri, username: 'alice1', password: o.upstreamPassword ?? ACCOUNTS.alice1 } }],
      trunks: o.trunk ? [{ name: 'pbx', uri: kam.uri, username: 'gwtrunk', password: ACCOUNTS.gwtrunk, register: true, registerExpires: 300 }] : [],
      log: { level: process.env.GATEWAY_TEST_LOG ?? 'silent' },
    },
    'upstream test config',
  );
  const gw = buildGateway(config);
  running.push(gw);
  await gw.start();
  return gw;
}

async function apiStatus(gw: Gateway): Promise<StatusBody> {
  const res = await fetch(`${gw.httpUrl}api/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusBody;
}

/** Polls until `probe` returns a value (bounded by the test timeout): Kamailio and the gateway report
 *  no events to wait on. */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const contactsOf = (aor: string) => (test: (c: KamailioContact[]) => boolean) =>
  until(async () => {
    const c = await kam.registeredContacts(aor);
    return test(c) ? c : undefined;
  });

async function signIn(gw: Gateway): Promise<WsSipClient> {
  const ws = await WsSipClient.connect({ url: `${gw.httpUrl.replace(/^http/, 'ws')}sip`, user: ALICE.name, password: ALICE.password });
  clients.push(ws);
  const res = await ws.register();
  expect(res.status).toBe(200);
  return ws;
}

describe("a user's own PBX account (users[].upstream)", () => {
  it('is registered at Kamailio while the browser is registered here, and unregistered when it leaves', async () => {
    const gw = await gateway({});
    expect(await kam.registeredContacts('alice1')).toEqual([]);
    const ws = await signIn(gw);
    const udp = gw.sipAddress('udp')!;
    const [contact] = await contactsOf('alice1')((c) => c.length > 0);
    expect(contact!.address).toMatch(new RegExp(`^sip:gw[0-9a-f]{16}@127\\.0\\.0\\.1:${udp.port}$`));
    expect((await apiStatus(gw)).upstream).toEqual([{ user: 'alice', account: 'sip:alice1@127.0.0.1', state: 'registered' }]);

    clients.splice(clients.indexOf(ws), 1);
    await ws.close();
    await contactsOf('alice1')((c) => c.length === 0);
    const after = await until(async () => {
      const s = await apiStatus(gw);
      return s.upstream?.[0]?.state === 'idle' ? s : undefined;
    });
    expect(after.upstream![0]!.lastError).toBeUndefined();
  });

  it('a wrong upstream password: status shows the failure and the retry state; nothing registered', async () => {
    const gw = await gateway({ upstreamPassword: 'not-the-password' });
    await signIn(gw);
    const s = await until(async () => {
      const st = await apiStatus(gw);
      return st.upstream?.[0]?.state === 'retrying' ? st : undefined;
    });
    expect(s.upstream![0]).toEqual({ user: 'alice', account: 'sip:alice1@127.0.0.1', state: 'retrying', lastError: 'bad credentials' });
    expect(await kam.registeredContacts('alice1')).toEqual([]);
  });
});

describe('a trunk with register: true', () => {
  it('registers at start; GET /api/status shows it registered; stop() unregisters', async () => {
    const gw = await gateway({ trunk: true });
    const s = await until(async () => {
      const st = await apiStatus(gw);
      return st.trunks?.[0]?.state === 'registered' ? st : undefined;
    });
    // keepalive: on by default, its first OPTIONS one interval (30 s) after start.
    expect(s.trunks).toEqual([{ name: 'pbx', state: 'registered', expiresAt: expect.any(String), keepalive: { state: 'unknown', interval: 30, failures: 0 }, health: 'unknown', calls: { current: 0, attempts: 0, answered: 0, failovers: 0, failed: 0, skippedDown: 0, skippedLimit: 0 } }]);
    const expiresIn = Date.parse(s.trunks![0]!.expiresAt!) - Date.now();
    expect(expiresIn).toBeGreaterThan(250_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);
    expect(await kam.registeredContacts('gwtrunk')).toHaveLength(1);
    await gw.stop();
    expect(await kam.registeredContacts('gwtrunk')).toEqual([]);
  });
});
