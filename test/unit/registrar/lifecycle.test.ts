// Expiry timer, flow death, change events and the routes the call layer gets from lookup().
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeFlow, harness } from './fakes.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function events(registrar: ReturnType<typeof harness>['registrar']): Array<[string, number]> {
  const seen: Array<[string, number]> = [];
  registrar.onChange((user, count) => seen.push([user, count]));
  return seen;
}

describe('expiry timer', () => {
  it('removes each contact when its own interval ends and tells listeners on time', () => {
    const { register, registrar } = harness();
    const seen = events(registrar);
    register({ contact: '<sip:a@c.invalid;transport=ws>', expires: 60 });
    register({ contact: '<sip:b@c.invalid;transport=ws>', expires: 120 });
    expect(seen).toEqual([['alice', 1], ['alice', 2]]);
    vi.advanceTimersByTime(59_999);
    expect(seen).toHaveLength(2);
    vi.advanceTimersByTime(1);
    // Fired by the timer itself: nobody called lookup() or count().
    expect(seen).toEqual([['alice', 1], ['alice', 2], ['alice', 1]]);
    vi.advanceTimersByTime(60_000);
    expect(seen.at(-1)).toEqual(['alice', 0]);
    expect(registrar.count()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a refresh moves the expiry later', () => {
    const { register, registrar } = harness();
    register({ expires: 60 });
    vi.advanceTimersByTime(50_000);
    register({ expires: 60 });
    vi.advanceTimersByTime(50_000);
    expect(registrar.count()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(registrar.count()).toBe(0);
  });

  it('close() stops the timer and emits nothing', () => {
    const { register, registrar } = harness();
    const seen = events(registrar);
    register({ expires: 60 });
    registrar.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(seen).toEqual([['alice', 1]]);
  });
});

describe('change events', () => {
  it('fire on count changes only: not for a refresh, not for a failed REGISTER', () => {
    const { register, registrar } = harness();
    const seen = events(registrar);
    register({ expires: 600 });
    register({ expires: 900 });
    register({ password: 'wrong' });
    register({ user: 'bob', expires: 600, flow: new FakeFlow('udp'), contact: '<sip:bob@10.0.0.9>' });
    register({ contact: '*', expires: 0 });
    expect(seen).toEqual([['alice', 1], ['bob', 1], ['alice', 0]]);
  });

  it('a throwing listener does not stop the others or the REGISTER', () => {
    const { register, registrar } = harness();
    registrar.onChange(() => {
      throw new Error('boom');
    });
    const seen = events(registrar);
    expect(register({ expires: 600 }).last.status).toBe(200);
    expect(seen).toEqual([['alice', 1]]);
  });

  it('unsubscribe stops the events', () => {
    const { register, registrar } = harness();
    const seen: number[] = [];
    const off = registrar.onChange((_u, n) => seen.push(n));
    register({ expires: 600 });
    off();
    register({ expires: 0 });
    expect(seen).toEqual([1]);
  });
});

describe('WebSocket flows (RFC 7118 §5, RFC 5626)', () => {
  it('a WS binding dies with its connection, the other tab stays', () => {
    const { register, registrar } = harness();
    const seen = events(registrar);
    const tab1 = new FakeFlow('ws');
    const tab2 = new FakeFlow('wss');
    register({ flow: tab1, contact: '<sip:t1@a.invalid;transport=ws>', expires: 600 });
    register({ flow: tab2, contact: '<sip:t2@b.invalid;transport=wss>', expires: 600 });
    tab1.close();
    expect(seen).toEqual([['alice', 1], ['alice', 2], ['alice', 1]]);
    expect(registrar.lookup('alice').map((r) => r.contactText)).toEqual(['sip:t2@b.invalid;transport=wss']);
    tab2.close();
    expect(registrar.count()).toBe(0);
    expect(tab1.listenerCount + tab2.listenerCount).toBe(0);
  });

  it('a REGISTER on a socket that already closed binds nothing', () => {
    const { register, registrar } = harness();
    const seen = events(registrar);
    const flow = new FakeFlow('ws');
    flow.alive = false;
    register({ flow, expires: 600 });
    expect(registrar.count()).toBe(0);
    expect(seen).toEqual([]);
  });

  it('a re-REGISTER over a new socket moves the contact to it; the old socket closing does not remove it', () => {
    const { register, registrar } = harness();
    const old = new FakeFlow('ws');
    const fresh = new FakeFlow('ws');
    register({ flow: old, expires: 600 });
    register({ flow: fresh, expires: 600 });
    old.close();
    expect(registrar.lookup('alice').map((r) => r.flow?.id)).toEqual([fresh.id]);
  });

  it('lookup gives the WebSocket flow, no target, webrtc: true and the instance id', () => {
    const { register, registrar } = harness();
    const flow = new FakeFlow('ws');
    register({ flow, contact: '<sip:t1@a.invalid;transport=ws>;+sip.instance="<urn:uuid:0a1b>";reg-id=1', expires: 600 });
    const [route] = registrar.lookup('alice');
    expect(route).toMatchObject({ user: 'alice', contactText: 'sip:t1@a.invalid;transport=ws', webrtc: true, instance: 'urn:uuid:0a1b' });
    expect(route!.flow).toBe(flow);
    expect(route!.target).toBeUndefined();
    expect(route!.contact.host).toBe('a.invalid');
    expect(route!.expiresAt).toBe(Date.now() + 600_000);
  });
});

describe('UDP/TCP routes', () => {
  it('a UDP phone behind NAT is reached at the source of its REGISTER, not its private contact', () => {
    const { register, registrar } = harness();
    const flow = new FakeFlow('udp', { address: '203.0.113.7', port: 40123 });
    register({ flow, contact: '<sip:alice@192.168.1.20:5060>', expires: 600 });
    flow.close(); // UDP "flows" never die; even if one did, the binding stays
    const [route] = registrar.lookup('alice');
    expect(route).toMatchObject({ webrtc: false, target: { address: '203.0.113.7', port: 40123, transport: 'udp' } });
    expect(route!.flow).toBeUndefined();
    expect(route!.contactText).toBe('sip:alice@192.168.1.20:5060');
  });

  it('a TCP phone is reached over its connection while alive, then at source IP and contact port', () => {
    const { register, registrar } = harness();
    const flow = new FakeFlow('tcp', { address: '198.51.100.4', port: 51000 });
    register({ flow, contact: '<sip:alice@10.1.1.1:5070;transport=tcp>', expires: 600 });
    expect(registrar.lookup('alice')[0]!.flow).toBe(flow);
    flow.close();
    const [route] = registrar.lookup('alice');
    expect(route!.flow).toBeUndefined();
    expect(route!.target).toEqual({ address: '198.51.100.4', port: 5070, transport: 'tcp' });
    expect(registrar.count()).toBe(1);
  });

  it('lookup of a user with no contacts is empty', () => {
    expect(harness().registrar.lookup('bob')).toEqual([]);
  });
});
