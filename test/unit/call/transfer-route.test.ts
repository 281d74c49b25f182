// Where a blind transfer's target goes and which policy slots its new leg takes (call/transfer-route.ts),
// against the real call policy (gateway/policy) on a parsed config: an outside target is admitted as a
// call the transferring user places (class, maxCalls, callsPerHour), the trunk route comes back as a plan
// whose `take` holds the trunk's slot per attempt, a local user takes none of the transferor's slots, and
// every slot is given back by release() (idempotent) or when refused.
import { describe, expect, it } from 'vitest';
import type { TrunkPlan } from '../../../gateway/call/dial.js';
import { TrunkBoard } from '../../../gateway/call/failover-board.js';
import { transferRoute, type TransferRouteDeps } from '../../../gateway/call/transfer-route.js';
import { configSchema, type UserConfig } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { createCallPolicy } from '../../../gateway/policy/index.js';

const config = configSchema.parse({
  users: [
    { name: 'alice', password: 'a', maxCalls: 2, callsPerHour: 3 },
    { name: 'bob', password: 'b', extension: '202' },
    { name: 'carol', password: 'c', upstream: { registrar: 'sip:pbx.example.com', username: 'carol', password: 'x' } },
  ],
  trunks: [
    { name: 'a', uri: 'sip:127.0.0.1:5099', keepalive: false, maxCalls: 1 },
    { name: 'b', uri: 'sip:127.0.0.1:5098', keepalive: false },
  ],
  routes: [
    { match: '^202$', user: 'bob' },
    { match: '^\\*43$', echo: true },
    { match: '^0\\d+$', trunks: ['a', 'b'], rewrite: [{ strip: 1 }, { prepend: '+49' }] },
    { match: '^9\\d+$', trunk: 'b' },
  ],
  dialRules: { classes: [{ name: 'national', match: '^0' }], allow: ['national'] },
  log: { level: 'silent' },
});
const user = (name: string): UserConfig => config.users.find((u) => u.name === name)!;
const trunk = (name: string) => config.trunks.find((t) => t.name === name)!;

function deps(pbx = true) {
  const policy = createCallPolicy(config, createLogger('silent'));
  const d: TransferRouteDeps = {
    config,
    policy,
    pbxRoute: () => (pbx ? { base: { scheme: 'sip', host: 'pbx.example.com', params: {}, headers: {} }, from: { scheme: 'sip', user: 'carol', host: 'pbx.example.com', params: {}, headers: {} }, target: { transport: 'udp', address: '127.0.0.1', port: 5097 } } : undefined),
    trunkPlan: (r, u, take): TrunkPlan => ({ candidates: [trunk('a'), trunk('b')], route: r.route, number: r.number, user: u, board: new TrunkBoard(), take }),
  };
  return { d, policy, active: () => policy.status().active };
}

describe('transferRoute', () => {
  it('an outside number: the route\'s trunks as a plan; the user\'s slot taken at once, each trunk\'s per attempt, all back on release', () => {
    const { d, active } = deps();
    const r = transferRoute(d, user('alice'), '030 123');
    if (r.kind !== 'trunks') throw new Error(`got ${r.kind}`);
    expect(r.plan.number).toBe('030123');
    expect(r.plan.route?.rewrite).toEqual([{ strip: 1 }, { prepend: '+49' }]);
    expect(active()).toEqual({ users: { alice: 1 }, trunks: {} });
    expect(r.plan.take!(trunk('a'))).toBeUndefined();
    expect(active().trunks).toEqual({ a: 1 });
    // the next attempt gives the previous trunk's slot back
    expect(r.plan.take!(trunk('b'))).toBeUndefined();
    expect(active().trunks).toEqual({ b: 1 });
    r.slots.release();
    r.slots.release();
    expect(active()).toEqual({ users: {}, trunks: {} });
  });

  it('a trunk at its maxCalls: take() answers the policy\'s 503 (the failover skips it)', () => {
    const { d, policy } = deps();
    const held = policy.acquireTrunk(trunk('a'))!;
    const r = transferRoute(d, user('alice'), '0301');
    if (r.kind !== 'trunks') throw new Error(`got ${r.kind}`);
    expect(r.plan.take!(trunk('a'))).toEqual({ status: 503, reason: 'Service Unavailable: trunk call limit reached' });
    held.release();
    r.slots.release();
  });

  it('the user at maxCalls, then at callsPerHour: refused with the policy\'s status, no slot kept', () => {
    const { d, policy, active } = deps();
    const calls = [policy.acquireUser(user('alice'))!, policy.acquireUser(user('alice'))!];
    expect(transferRoute(d, user('alice'), '0301')).toEqual({ kind: 'refuse', status: 486, reason: 'Busy Here: limit of 2 concurrent calls reached' });
    for (const c of calls) c.release();
    expect(active().users).toEqual({});
    // two calls this hour already (acquireUser counts them): the transfer is the third, a fourth is refused
    const third = transferRoute(d, user('alice'), '0301');
    expect(third.kind).toBe('trunks');
    if (third.kind === 'trunks') third.slots.release();
    expect(transferRoute(d, user('alice'), '0301')).toMatchObject({ kind: 'refuse', status: 403 });
  });

  it('a number outside the user\'s classes: 403, nothing taken; a number no route takes: 404', () => {
    const { d, active } = deps();
    expect(transferRoute(d, user('alice'), '9001')).toMatchObject({ kind: 'refuse', status: 403 });
    expect(transferRoute(d, user('alice'), '5551234')).toMatchObject({ kind: 'refuse', status: 404 });
    expect(active().users).toEqual({});
  });

  it('a local user: rung as is, no slot of the transferor; the echo line and an empty number refused', () => {
    const { d, active } = deps();
    expect(transferRoute(d, user('alice'), '202')).toEqual({ kind: 'user', user: user('bob'), number: '202' });
    expect(active().users).toEqual({});
    expect(transferRoute(d, user('alice'), '*43')).toMatchObject({ kind: 'refuse', status: 488 });
    expect(transferRoute(d, user('alice'), '')).toMatchObject({ kind: 'refuse', status: 404 });
  });

  it('a user with their own PBX goes out through it (slot held); not registered there: 503 and the slot given back', () => {
    const up = deps();
    const r = transferRoute(up.d, user('carol'), '0301');
    expect(r.kind).toBe('out');
    expect(up.active().users).toEqual({ carol: 1 });
    if (r.kind === 'out') r.slots.release();
    const down = deps(false);
    expect(transferRoute(down.d, user('carol'), '0301')).toEqual({ kind: 'refuse', status: 503, reason: 'Service Unavailable: PBX Not Registered' });
    expect(down.active().users).toEqual({});
  });
});
