import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipMessage, SipRequest } from '../../../gateway/sip/message/types.js';
import { createLogger } from '../../../gateway/log.js';
import {
  createTransactionLayer,
  IllegalTransitionError,
  nonInviteClientTransition,
} from '../../../gateway/sip/transaction/index.js';
import { fakeFlow } from './fake-transport.js';
import { request, response } from './messages.js';
import { harness, recordingHandlers, type Harness } from './setup.js';

const isOptions = (m: SipMessage): boolean => m.kind === 'request' && m.method === 'OPTIONS';

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  let h: Harness;
  let options: SipRequest;
  beforeEach(() => {
    h = harness();
    options = request({ method: 'OPTIONS', branch: 'z9hG4bK-opt' });
  });
  afterEach(() => {
    h.layer.close();
    vi.useRealTimers();
  });

  it('retransmits with Timer E doubling from T1 and capped at T2 (0.5, 1, 2, 4, 4, 4 … s), Timer F at 32 s', async () => {
    const tu = recordingHandlers();
    h.layer.sendRequest(options, fakeFlow('udp'), tu);
    await vi.advanceTimersByTimeAsync(31_999);
    expect(h.transport.timesOf(isOptions)).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(tu.timeouts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(tu.timeouts).toEqual([32_000]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(tu.timeouts).toHaveLength(1);
    expect(h.transport.timesOf(isOptions)).toHaveLength(11);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('honours configured timer values', async () => {
    h.layer.close();
    const layer = createTransactionLayer({ transport: h.transport, timers: { t1: 100, t2: 300 }, logger: createLogger('silent') });
    const tu = recordingHandlers();
    layer.sendRequest(options, fakeFlow('udp'), tu);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(h.transport.timesOf(isOptions)).toEqual([0, 100, 300, 600, 900, 1200, 1500]);
    await vi.advanceTimersByTimeAsync(64 * 100 - 1_500);
    expect(tu.timeouts).toEqual([6_400]);
    layer.close();
  });

  it('moves to Proceeding on a 1xx and then retransmits every T2', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(options, fakeFlow('udp'), tu);
    await vi.advanceTimersByTimeAsync(700); // sent at 0 and 0.5; Timer E next due at 1.5 s
    h.transport.inject(response(options, 100), fakeFlow());
    expect(tx.state).toBe('proceeding');
    expect(tu.responses.map((r) => r.status)).toEqual([100]);
    await vi.advanceTimersByTimeAsync(14_000 - 700);
    expect(h.transport.timesOf(isOptions)).toEqual([0, 500, 1500, 5500, 9500, 13500]);
  });

  it('still fires Timer F in Proceeding', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(options, fakeFlow('udp'), tu);
    h.transport.inject(response(options, 180), fakeFlow());
    await vi.advanceTimersByTimeAsync(32_000);
    expect(tu.timeouts).toEqual([32_000]);
    expect(tx.state).toBe('terminated');
  });

  it('passes a final response up once, absorbs its retransmissions, and ends after Timer K (T4)', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(options, fakeFlow('udp'), tu);
    await vi.advanceTimersByTimeAsync(600);
    h.transport.inject(response(options, 200, 'x'), fakeFlow());
    h.transport.inject(response(options, 200, 'x'), fakeFlow());
    expect(tx.state).toBe('completed');
    expect(tu.responses.map((r) => r.status)).toEqual([200]);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(tx.state).toBe('completed');
    expect(h.transport.timesOf(isOptions)).toEqual([0, 500]);
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
    expect(tu.timeouts).toEqual([]);
  });

  it('neither retransmits over a reliable flow nor lingers after the final (Timer K = 0)', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(options, fakeFlow('ws'), tu);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.transport.timesOf(isOptions)).toEqual([0]);
    h.transport.inject(response(options, 404, 'x'), fakeFlow('ws'));
    expect(tx.state).toBe('terminated');
    expect(tu.responses.map((r) => r.status)).toEqual([404]);
  });

  it('reports a failed retransmission through onTransportError once', async () => {
    const tu = recordingHandlers();
    const tx = h.layer.sendRequest(options, fakeFlow('udp'), tu);
    await vi.advanceTimersByTimeAsync(0);
    h.transport.failWith = 'ICMP unreachable';
    await vi.advanceTimersByTimeAsync(5_000);
    expect(tu.errors.map((e) => e.message)).toEqual(['ICMP unreachable']);
    expect(tx.state).toBe('terminated');
    expect(h.transport.timesOf(isOptions)).toEqual([0, 500]);
  });

  it('has a transition function that rejects edges Figure 6 lacks', () => {
    expect(nonInviteClientTransition('trying', 'completed')).toBe('completed');
    expect(() => nonInviteClientTransition('completed', 'proceeding')).toThrow(IllegalTransitionError);
    expect(() => nonInviteClientTransition('proceeding', 'trying')).toThrow(IllegalTransitionError);
  });
});
