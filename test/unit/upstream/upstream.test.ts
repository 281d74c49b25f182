import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configSchema, type GatewayConfig } from '../../../gateway/config/schema.js';
import { getContacts, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import type { Flow } from '../../../gateway/sip/transport/types.js';
import { createUpstream, type Upstream, type UpstreamRegistrar } from '../../../gateway/upstream/index.js';
import { FakeLayers, ScriptedRegistrar, silent } from './fakes.js';

class FakeRegistrar implements UpstreamRegistrar {
  private listeners: Array<(user: string, count: number) => void> = [];
  readonly counts = new Map<string, number>();
  onChange(listener: (user: string, count: number) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  lookup(user: string): readonly unknown[] {
    return new Array(this.counts.get(user) ?? 0).fill({});
  }
  set(user: string, count: number): void {
    this.counts.set(user, count);
    for (const l of this.listeners) l(user, count);
  }
  get subscribers(): number {
    return this.listeners.length;
  }
}

const config: GatewayConfig = configSchema.parse({
  users: [
    { name: 'alice', password: 'pw', upstream: { registrar: 'sip:127.0.0.2:5080', username: 'alice1', password: 'up-secret' } },
    { name: 'bob', password: 'pw', upstream: { registrar: 'sip:127.0.0.3;transport=tcp', username: 'b', password: 'x', domain: 'pbx.example', expires: 300 } },
    { name: 'carol', password: 'pw' },
  ],
  trunks: [
    { name: 'reg', uri: 'sip:127.0.0.4:5090', username: 'acct', password: 'tp', register: true, registerExpires: 120 },
    { name: 'plain', uri: 'sip:127.0.0.5:5090' },
  ],
});

let layers: FakeLayers;
let registrar: FakeRegistrar;
let up: Upstream;

const flowFrom = (address: string): Flow => ({
  id: 'f',
  transport: 'udp',
  local: { address: '127.0.0.1', port: 5070 },
  sentBy: { address: '127.0.0.1', port: 5070 },
  remote: { address, port: 5080 },
  reliable: false,
  alive: true,
  onClose: () => () => undefined,
});

function invite(uri: string): SipRequest {
  return { kind: 'request', method: 'INVITE', uri, version: 'SIP/2.0', headers: [], body: Buffer.alloc(0) };
}

const sentTo = (address: string) => layers.sent.filter((s) => 'address' in s.dest && s.dest.address === address);

function contactUser(req: SipRequest): string {
  const c = getContacts(req);
  if (c === '*') throw new Error('*');
  return c[0]!.uri.user!;
}

beforeEach(() => {
  vi.useFakeTimers();
  layers = new FakeLayers();
  layers.listening.tcp = { address: '127.0.0.1', port: 5070 };
  registrar = new FakeRegistrar();
  up = createUpstream({ config, transport: layers.transport, transactions: layers.transactions, registrar, logger: silent });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('trunk registrations', () => {
  it('registers only trunks with register: true, with their credentials; status shows the state', async () => {
    up.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(layers.sent).toHaveLength(1);
    expect(layers.last.dest).toEqual({ address: '127.0.0.4', port: 5090, transport: 'udp' });
    expect(getTo(layers.last.request).uri).toMatchObject({ user: 'acct', host: '127.0.0.4' });
    expect(getHeader(layers.last.request, 'Expires')).toBe('120');
    const pbx = new ScriptedRegistrar(layers, 'tp');
    pbx.challenge();
    expect(pbx.verifies()).toBe(true);
    pbx.grant(120);
    const s = up.status();
    // Every trunk is listed; the registration fields only for register: true, the keep-alive for both.
    const probe = { state: 'unknown', interval: 30, failures: 0 };
    expect(s.trunks).toEqual([
      { name: 'reg', state: 'registered', expiresAt: expect.any(String), keepalive: probe },
      { name: 'plain', keepalive: probe },
    ]);
    expect(s.upstream.map((u) => [u.user, u.account, u.state])).toEqual([
      ['alice', 'sip:alice1@127.0.0.2', 'idle'],
      ['bob', 'sip:b@pbx.example', 'idle'],
    ]);
  });
});

describe("users' upstream accounts", () => {
  it('registers while the user has bindings here and unregisters at count 0', async () => {
    up.start();
    await vi.advanceTimersByTimeAsync(0);
    registrar.set('alice', 1);
    await vi.advanceTimersByTimeAsync(0);
    const reg = sentTo('127.0.0.2');
    expect(reg).toHaveLength(1);
    expect(getTo(reg[0]!.request).uri).toMatchObject({ user: 'alice1', host: '127.0.0.2' });
    const pbx = new ScriptedRegistrar(layers, 'up-secret');
    pbx.challenge();
    pbx.grant(600);
    expect(up.status().upstream[0]).toEqual({ user: 'alice', account: 'sip:alice1@127.0.0.2', state: 'registered' });

    registrar.set('alice', 2); // another tab: nothing new
    await vi.advanceTimersByTimeAsync(0);
    expect(sentTo('127.0.0.2')).toHaveLength(2);

    registrar.set('alice', 0);
    expect(getHeader(layers.last.request, 'Expires')).toBe('0');
    expect(up.status().upstream[0]!.state).toBe('unregistering');
    layers.answer(200, 'OK');
    await vi.advanceTimersByTimeAsync(0);
    expect(up.status().upstream[0]!.state).toBe('idle');
  });

  it('a user registering again while the unregister is in flight registers only after it finished', async () => {
    up.start();
    registrar.set('alice', 1);
    await vi.advanceTimersByTimeAsync(0);
    layers.answer(200, 'OK', [{ name: 'Contact', value: `${getHeader(layers.last.request, 'Contact')};expires=600` }]);
    registrar.set('alice', 0);
    registrar.set('alice', 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(getHeader(layers.last.request, 'Expires')).toBe('0');
    layers.answer(200, 'OK');
    await vi.advanceTimersByTimeAsync(0);
    expect(getHeader(layers.last.request, 'Expires')).toBe('600');
    expect(up.status().upstream[0]!.state).toBe('registering');
  });

  it('starts for users already registered at start (restored bindings)', async () => {
    registrar.counts.set('bob', 1);
    up.start();
    await vi.advanceTimersByTimeAsync(0);
    const reg = sentTo('127.0.0.3');
    expect(reg).toHaveLength(1);
    expect(reg[0]!.dest).toEqual({ address: '127.0.0.3', port: 5060, transport: 'tcp' });
    expect(getContacts(reg[0]!.request)).toMatchObject([{ uri: { params: { transport: 'tcp' } } }]);
  });

  it('close() unregisters everything and stops listening to the registrar', async () => {
    up.start();
    registrar.set('alice', 1);
    await vi.advanceTimersByTimeAsync(0);
    for (const s of [...layers.sent]) s.handlers.onResponse({ kind: 'response', status: 200, reason: 'OK', version: 'SIP/2.0', headers: [...s.request.headers.filter((h) => h.name !== 'Contact'), { name: 'Contact', value: `${getHeader(s.request, 'Contact')};expires=600` }], body: Buffer.alloc(0) });
    const n = layers.sent.length;
    let closed = false;
    void up.close().then(() => (closed = true));
    const unregisters = layers.sent.slice(n);
    expect(unregisters.map((s) => getHeader(s.request, 'Expires'))).toEqual(['0', '0']);
    expect(registrar.subscribers).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(closed).toBe(true);
  });
});

describe('matchInbound', () => {
  async function aliceToken(): Promise<string> {
    up.start();
    registrar.set('alice', 1);
    await vi.advanceTimersByTimeAsync(0);
    return contactUser(sentTo('127.0.0.2')[0]!.request);
  }

  it("maps an INVITE to alice's token from alice's registrar to alice", async () => {
    const token = await aliceToken();
    expect(up.matchInbound(invite(`sip:${token}@127.0.0.1:5070`), flowFrom('127.0.0.2'))?.user.name).toBe('alice');
  });

  it('the same token from another address, another token, a non-INVITE or a bad URI → undefined', async () => {
    const token = await aliceToken();
    expect(up.matchInbound(invite(`sip:${token}@127.0.0.1:5070`), flowFrom('127.0.0.9'))).toBeUndefined();
    expect(up.matchInbound(invite('sip:gw0000@127.0.0.1:5070'), flowFrom('127.0.0.2'))).toBeUndefined();
    expect(up.matchInbound(invite('sip:alice1@127.0.0.1:5070'), flowFrom('127.0.0.2'))).toBeUndefined();
    expect(up.matchInbound({ ...invite(`sip:${token}@127.0.0.1`), method: 'OPTIONS' }, flowFrom('127.0.0.2'))).toBeUndefined();
    expect(up.matchInbound(invite('not a uri'), flowFrom('127.0.0.2'))).toBeUndefined();
  });

  it('trunk registration tokens do not map to users', async () => {
    up.start();
    await vi.advanceTimersByTimeAsync(0);
    const trunkToken = contactUser(sentTo('127.0.0.4')[0]!.request);
    expect(up.matchInbound(invite(`sip:${trunkToken}@127.0.0.1:5070`), flowFrom('127.0.0.4'))).toBeUndefined();
  });

  it('isTrunkContact: true only for a trunk registration token in the Request-URI', async () => {
    up.start();
    await vi.advanceTimersByTimeAsync(0);
    const trunkToken = contactUser(sentTo('127.0.0.4')[0]!.request);
    expect(up.isTrunkContact(invite(`sip:${trunkToken}@127.0.0.1:5070`))).toBe(true);
    expect(up.isTrunkContact(invite('sip:+15550100@127.0.0.1:5070'))).toBe(false);
    expect(up.isTrunkContact(invite('not a uri'))).toBe(false);
  });
});

describe('outboundFor', () => {
  it('gives the PBX target, the account AOR and credentials for users with upstream', () => {
    const alice = config.users[0]!;
    expect(up.outboundFor(alice)).toEqual({
      target: { address: '127.0.0.2', port: 5080, transport: 'udp' },
      requestUriHost: '127.0.0.2',
      fromUri: 'sip:alice1@127.0.0.2',
      credentials: { username: 'alice1', password: 'up-secret' },
    });
    expect(up.outboundFor(config.users[1]!)).toMatchObject({ requestUriHost: 'pbx.example', fromUri: 'sip:b@pbx.example', target: { transport: 'tcp', port: 5060 } });
  });

  it('undefined for a user without upstream', () => {
    expect(up.outboundFor(config.users[2]!)).toBeUndefined();
  });
});
