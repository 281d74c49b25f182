// The call policy as the call layer uses it (fake calls, fake timers): refusals with the rule in the reason
// and a fixed warn line, emergency calls past every limit and to the emergency trunk, internal calls not
// class-checked, slots given back when the call ends, the maximum duration, trunk slots per attempt.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/log.js';
import { createCallPolicy, REASON_MAX_DURATION, type PolicyCall } from '../../../gateway/policy/index.js';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

class FakeCall implements PolicyCall {
  state = 'routing';
  ends: Array<{ final?: { status: number; reason: string }; reason?: string }> = [];
  private listeners = new Set<(c: { to: string }) => void>();
  get ended(): boolean {
    return this.state === 'ended';
  }
  onChange(l: (c: { to: string }) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  to(state: string): void {
    this.state = state;
    for (const l of [...this.listeners]) l({ to: state });
  }
  end(final?: { status: number; reason: string }, reason?: string): void {
    if (this.ended) return;
    this.ends.push({ final, reason });
    this.to('ended');
  }
}

function setup(raw: Record<string, unknown> = {}) {
  const config = parseConfig(
    {
      users: [{ name: 'alice', password: 'x', maxCalls: 2, callsPerHour: 3 }, { name: 'nobody', password: 'x', classes: [] }, { name: 'intl', password: 'x', classes: ['international', 'premium'] }],
      trunks: [{ name: 'carrier', uri: 'sip:127.0.0.1', maxCalls: 1, keepalive: false }, { name: 'sos', uri: 'sip:127.0.0.2', keepalive: false }],
      routes: [{ match: '.', trunk: 'carrier' }],
      ...raw,
    },
    'test.yaml',
  );
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = createLogger('info', { write: (l: string) => void lines.push(JSON.parse(l)) });
  const policy = createCallPolicy(config, logger);
  const user = (name: string) => config.users.find((u) => u.name === name)!;
  const trunk = (name: string) => config.trunks.find((t) => t.name === name)!;
  const out = (number: string) => ({ kind: 'trunk' as const, trunk: trunk('carrier'), route: { match: '.', trunk: 'carrier' }, number });
  return { config, policy, lines, user, trunk, out };
}

describe('CallPolicy', () => {
  it('a premium number from a user without the class: 403 naming it, a warn line; with the class: admitted', () => {
    const { policy, lines, user, out } = setup();
    expect(policy.admit(user('alice'), out('+882123456'))).toMatchObject({ ok: false, status: 403, reason: 'Forbidden: premium numbers not allowed', rule: 'classes' });
    expect(lines.map(({ level, msg }) => ({ level, msg }))).toEqual([{ level: 'warn', msg: 'call refused: user=alice number=+882123456 class=premium rule=classes status=403' }]);
    expect(policy.admit(user('alice'), out('0044123'))).toMatchObject({ ok: false, reason: 'Forbidden: international numbers not allowed' });
    expect(policy.admit(user('alice'), out('*21#'))).toMatchObject({ ok: false, status: 403, reason: 'Forbidden: number in no allowed dial class', class: 'other' });
    expect(policy.admit(user('intl'), out('+882123456'))).toMatchObject({ ok: true, ticket: { class: 'premium', emergency: false } });
    expect(policy.check(user('alice'), '555 1234')).toEqual({ ok: true, class: 'local' });
    expect(policy.status().refused.classes).toBe(3);
  });

  it('the 3rd concurrent call of a user limited to 2: 486 naming the limit; the end of a call frees its slot', () => {
    const { policy, lines, user, out } = setup();
    const calls = [new FakeCall(), new FakeCall()];
    for (const c of calls) {
      const a = policy.admit(user('alice'), out('5551234'));
      if (!a.ok) throw new Error(a.reason);
      policy.track(c, a.ticket);
      policy.settle(a.ticket);
    }
    expect(policy.status().active.users).toEqual({ alice: 2 });
    expect(policy.admit(user('alice'), out('5551234'))).toMatchObject({ ok: false, status: 486, reason: 'Busy Here: limit of 2 concurrent calls reached', rule: 'maxCalls' });
    expect(lines.at(-1)!.msg).toBe('call refused: user=alice number=5551234 class=local rule=maxCalls limit=2 status=486');
    calls[0]!.end();
    calls[0]!.end();
    expect(policy.status().active.users).toEqual({ alice: 1 });
    // the 3rd call of the hour is admitted, the 4th refused (callsPerHour: 3) even with a free slot
    const third = policy.admit(user('alice'), out('5551234'));
    expect(third.ok).toBe(true);
    if (third.ok) policy.settle(third.ticket); // never started: the slot comes back
    expect(policy.status().active.users).toEqual({ alice: 1 });
    expect(policy.admit(user('alice'), out('5551234'))).toMatchObject({ ok: false, status: 403, reason: 'Forbidden: limit of 3 calls per hour reached', rule: 'callsPerHour' });
  });

  it('emergency: allowed for a user with no classes, past its limits, to the emergency trunk; logged', () => {
    const { policy, lines, user, trunk, out } = setup({ dialRules: { emergency: { trunk: 'sos' } } });
    expect(policy.admit(user('nobody'), out('5551234'))).toMatchObject({ ok: false, rule: 'classes' });
    const r = policy.route({ kind: 'none', number: '112' });
    expect(r).toMatchObject({ kind: 'trunk', trunk: { name: 'sos' }, number: '112' });
    expect(policy.route({ kind: 'echo', number: '112' })).toEqual({ kind: 'echo', number: '112' });
    for (let i = 0; i < 6; i++) {
      const a = policy.admit(user('alice'), r);
      expect(a).toMatchObject({ ok: true, ticket: { class: 'emergency', emergency: true } });
      const call = new FakeCall();
      if (a.ok) policy.track(call, a.ticket);
      expect(policy.takeTrunk(call, trunk('carrier'))).toBeUndefined(); // carrier maxCalls 1: bypassed
      expect(policy.isEmergency(call)).toBe(true);
    }
    expect(policy.admit(user('nobody'), r).ok).toBe(true);
    expect(policy.status()).toMatchObject({ emergencyCalls: 7, active: { users: { alice: 6, nobody: 1 }, trunks: { carrier: 6 } } });
    expect(lines.some((l) => l.msg === 'emergency call: user=alice number=112' && l.level === 'warn')).toBe(true);
  });

  it('internal calls (another user, the echo line) are never class-checked, hold a slot, do not count per hour', () => {
    const { policy, user } = setup();
    const echo = policy.admit(user('nobody'), { kind: 'echo', number: '*43' });
    expect(echo).toMatchObject({ ok: true, ticket: { class: 'internal' } });
    for (let i = 0; i < 5; i++) {
      const a = policy.admit(user('alice'), { kind: 'user', user: user('nobody'), number: 'nobody' });
      expect(a.ok).toBe(true);
      if (a.ok) a.ticket.release();
    }
  });

  it('trunk limit: the call over trunks[].maxCalls gets 503; a new attempt releases the previous slot; inbound counts, never refused', () => {
    const { policy, lines, user, trunk, out } = setup();
    const a = new FakeCall();
    const b = new FakeCall();
    const ta = policy.admit(user('alice'), out('5551234'));
    if (ta.ok) policy.track(a, ta.ticket);
    expect(policy.takeTrunk(a, trunk('carrier'))).toBeUndefined();
    expect(policy.takeTrunk(b, trunk('carrier'))).toEqual({ status: 503, reason: 'Service Unavailable: trunk call limit reached' });
    expect(lines.at(-1)!.msg).toBe('call refused: user=- number=- class=- rule=trunks.maxCalls limit=1 trunk=carrier status=503');
    expect(policy.takeTrunk(a, trunk('sos'))).toBeUndefined(); // failover: the carrier slot is given back
    expect(policy.takeTrunk(b, trunk('carrier'))).toBeUndefined();
    const inbound = new FakeCall();
    policy.inbound(inbound, trunk('carrier'));
    expect(policy.status().active.trunks).toEqual({ carrier: 2, sos: 1 });
    expect(policy.acquireTrunk(trunk('carrier'))).toBeUndefined();
    inbound.end();
    b.end();
    expect(policy.acquireTrunk(trunk('carrier'))).toBeDefined();
  });

  it('maximum duration: an answered call ends with the Reason after calls.maxDuration, not before', () => {
    const { policy, user, out } = setup({ calls: { maxDuration: 3 } });
    const call = new FakeCall();
    const a = policy.admit(user('alice'), out('5551234'));
    if (a.ok) policy.track(call, a.ticket);
    vi.advanceTimersByTime(10_000); // ringing does not count
    call.to('answered');
    vi.advanceTimersByTime(2_999);
    expect(call.ends).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(call.ends).toEqual([{ final: { status: 408, reason: 'Request Timeout' }, reason: REASON_MAX_DURATION }]);
    expect(policy.status()).toMatchObject({ maxDurationEnded: 1, active: { users: {} } });
  });

  it('maxDuration 0: no limit; a call ended earlier leaves no timer behind', () => {
    const off = setup({ calls: { maxDuration: 0 } });
    const call = new FakeCall();
    off.policy.track(call);
    call.to('answered');
    vi.advanceTimersByTime(30 * 86400_000);
    expect(call.ends).toEqual([]);
    const on = setup({ calls: { maxDuration: 60 } });
    const early = new FakeCall();
    on.policy.track(early);
    early.to('answered');
    early.end();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('spend alarm from answered calls of a costed class; counted in the status', () => {
    const { policy, lines, user, out } = setup({ dialRules: { costPerMinute: { premium: 1.5 }, spendAlarm: { userPerHour: 3 } } });
    const call = new FakeCall();
    const a = policy.admit(user('intl'), out('+882123'));
    if (a.ok) policy.track(call, a.ticket);
    call.to('answered');
    vi.advanceTimersByTime(2 * 60_000); // the periodic check (every 10 s) sees it cross
    expect(lines.filter((l) => l.msg.startsWith('spend alarm:')).map((l) => l.msg)).toEqual(['spend alarm: scope=user user=intl class=premium minutes=2.0 cost=3.00 limit=3']);
    call.end();
    expect(policy.status()).toMatchObject({ spendAlarms: { user: 1, total: 0 }, spendLastHour: { total: 3, users: { intl: 3 } } });
    policy.close();
  });
});
