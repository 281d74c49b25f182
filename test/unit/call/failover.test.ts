// Trunk failover in the call layer (call/failover.ts, dial.ts) on the in-memory fakes: the order of
// attempts, one media offer for all of them, what the caller sees, early media ending failover, the
// no-response rule (sip/ua/no-response.ts: no CANCEL before a provisional, RFC 3261 §9.1), a trunk at its
// call limit skipped, and the counters in status().
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getHeader } from '../../../gateway/sip/message/index.js';
import { settle } from './fakes.js';
import { setup, testConfig, TRUNK_ANSWER } from './harness.js';

const TWO_TRUNKS = {
  trunks: [
    { name: 'a', uri: 'sip:127.0.0.1:5099', keepalive: false, responseTimeout: 1 },
    { name: 'b', uri: 'sip:127.0.0.1:5098', keepalive: false, maxCalls: 1 },
  ],
  routes: [{ match: '^\\+?\\d{3,}$', trunks: ['a', 'b'] }],
};

interface Row {
  name: string;
  calls: Record<string, number>;
}
const row = (s: ReturnType<typeof setup>, name: string) => (s.service.status().trunks as Row[]).find((t) => t.name === name)!.calls;
const port = (s: ReturnType<typeof setup>, n: number) => (s.trunkInvite(n).dest as { port: number }).port;

afterEach(() => {
  vi.useRealTimers();
});

describe('trunk failover (call layer)', () => {
  it('503 from the first trunk: the second gets the same offer, the caller only the second trunk\'s answer', async () => {
    const s = setup(testConfig(TWO_TRUNKS));
    const tx = s.invite('5551234');
    await settle();
    expect(port(s, 0)).toBe(5099);
    s.trunkResponds(503, { n: 0 });
    await settle();
    expect(port(s, 1)).toBe(5098);
    expect(s.trunkInvite(1).request.body.toString()).toBe(s.trunkInvite(0).request.body.toString());
    expect(s.media.count('offer')).toBe(1);
    expect(tx.responses.map((r) => r.status).filter((c) => c !== 407)).toEqual([]);
    s.trunkResponds(180, { n: 1 });
    s.trunkResponds(200, { n: 1, body: TRUNK_ANSWER });
    await settle();
    expect(tx.responses.map((r) => r.status).filter((c) => c !== 407)).toEqual([180, 200]);
    expect(row(s, 'a')).toMatchObject({ attempts: 1, failovers: 1, current: 0 });
    expect(row(s, 'b')).toMatchObject({ attempts: 1, answered: 1, current: 1 });
  });

  it('a transport error toward the first trunk (RFC 3261 §8.1.3.1: a 503) fails over at once', async () => {
    const s = setup(testConfig(TWO_TRUNKS));
    const tx = s.invite('5551234');
    await settle();
    s.trunkInvite(0).handlers.onTransportError(new Error('ECONNREFUSED'));
    await settle();
    expect(port(s, 1)).toBe(5098);
    expect(tx.responses.filter((r) => r.status >= 200)).toHaveLength(0);
    expect(row(s, 'a')).toMatchObject({ failovers: 1 });
  });

  it('after early media (183 with SDP) a 503 is the caller\'s: no failover', async () => {
    const s = setup(testConfig(TWO_TRUNKS));
    const tx = s.invite('5551234');
    await settle();
    s.trunkResponds(183, { n: 0, body: TRUNK_ANSWER });
    await settle();
    expect(tx.last.status).toBe(183);
    s.trunkResponds(503, { n: 0 });
    await settle();
    expect(tx.last.status).toBe(503);
    expect(s.transactions.method('INVITE')).toHaveLength(1);
    expect(row(s, 'a')).toMatchObject({ attempts: 1, failovers: 0, failed: 1, current: 0 });
  });

  it('486 (not in the default failoverOn) goes to the caller; both trunks failing: the last failure', async () => {
    const busy = setup(testConfig(TWO_TRUNKS));
    const tx = busy.invite('5551234');
    await settle();
    busy.trunkResponds(486, { n: 0 });
    await settle();
    expect(tx.last.status).toBe(486);
    expect(busy.transactions.method('INVITE')).toHaveLength(1);

    const s = setup(testConfig(TWO_TRUNKS));
    const tx2 = s.invite('5551234');
    await settle();
    s.trunkResponds(503, { n: 0 });
    await settle();
    s.trunkResponds(502, { n: 1 });
    await settle();
    expect(tx2.last.status).toBe(502);
  });

  it('no response at all within responseTimeout: on to the next trunk; a late 180 from the first gets CANCEL (§9.1), never reaches the caller', async () => {
    vi.useFakeTimers();
    const s = setup(testConfig(TWO_TRUNKS));
    const tx = s.invite('5551234');
    await settle();
    await vi.advanceTimersByTimeAsync(999);
    expect(s.transactions.method('INVITE')).toHaveLength(1);
    expect(s.transactions.method('CANCEL')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(port(s, 1)).toBe(5098);
    expect(s.transactions.method('CANCEL')).toHaveLength(0);
    s.trunkResponds(180, { n: 0 });
    await settle();
    const cancels = s.transactions.method('CANCEL');
    expect(cancels).toHaveLength(1);
    expect(getHeader(cancels[0]!.request, 'Call-ID')).toBe(getHeader(s.trunkInvite(0).request, 'Call-ID'));
    expect(tx.responses.some((r) => r.status === 180)).toBe(false);
    expect(row(s, 'a')).toMatchObject({ failovers: 1 });
  });

  it('a 100 Trying stops the response timer: the trunk may take its time to ring', async () => {
    vi.useFakeTimers();
    const s = setup(testConfig(TWO_TRUNKS));
    s.invite('5551234');
    await settle();
    s.trunkResponds(100, { n: 0 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.transactions.method('INVITE')).toHaveLength(1);
    expect(s.transactions.method('CANCEL')).toHaveLength(0);
  });

  it('a trunk at its call limit (trunks[].maxCalls, the policy) is skipped; with none left the caller gets the policy\'s refusal', async () => {
    const config = testConfig({ ...TWO_TRUNKS, routes: [{ match: '^\\+?\\d{3,}$', trunks: ['b', 'a'] }] });
    const s = setup(config);
    const first = s.invite('5551234');
    await settle();
    expect(port(s, 0)).toBe(5098); // b holds its one call
    const second = s.invite('5551235', { user: 'bob', password: 'pw2' });
    await settle();
    expect(port(s, 1)).toBe(5099); // b full: straight to a
    expect(row(s, 'b')).toMatchObject({ skippedLimit: 1, current: 1 });
    s.trunkResponds(503, { n: 1 });
    await settle();
    expect(second.last.status).toBe(503);
    expect(first.responses.filter((r) => r.status >= 200)).toHaveLength(0);
  });
});
