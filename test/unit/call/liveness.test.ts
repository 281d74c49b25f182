// Media inactivity → the call ends with BYE + Reason "Media timeout" on both legs (call/liveness.ts), pure.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { callIdOfMediaKey, endInactiveCalls, REASON_MEDIA_TIMEOUT, type LiveCall } from '../../../gateway/call/liveness.js';
import type { InactiveListener, MediaEngine, ModifiableMediaEngine } from '../../../gateway/media/types.js';

const logger = createLogger('silent');

/** An engine double that only reports inactivity (the other methods are never called here). */
function reportingEngine(): MediaEngine & Pick<ModifiableMediaEngine, 'onInactive'> & { report: InactiveListener; listeners: number } {
  const listeners = new Set<InactiveListener>();
  const never = () => Promise.reject(new Error('not used'));
  return {
    offer: never, answer: never, echo: never, delete: () => Promise.resolve(), stats: () => undefined, close: () => Promise.resolve(),
    onInactive: (l: InactiveListener) => (listeners.add(l), () => listeners.delete(l)),
    report: (callId, leg, reason) => listeners.forEach((l) => l(callId, leg, reason)),
    get listeners() {
      return listeners.size;
    },
  } as MediaEngine & Pick<ModifiableMediaEngine, 'onInactive'> & { report: InactiveListener; listeners: number };
}

function fakeCall(id: string): LiveCall & { ends: unknown[][] } {
  const call = {
    id,
    ended: false,
    ends: [] as unknown[][],
    end(...args: unknown[]) {
      call.ends.push(args);
      call.ended = true;
    },
  };
  return call;
}

describe('media inactivity ends the call', () => {
  it('the call of the reported key ends with Reason "Media timeout" (408) once; other calls stay', () => {
    const engine = reportingEngine();
    const a = fakeCall('call-a');
    const b = fakeCall('call-b');
    const calls = new Map([a, b].map((c) => [c.id, c]));
    endInactiveCalls(engine, (id) => calls.get(id), logger);
    engine.report('call-a', 'trunktag', 'no-rtp-rtcp');
    engine.report('call-a', 'browsertag', 'no-rtp-rtcp'); // the other leg of the same call: already ended
    expect(a.ends).toEqual([[{ status: 408, reason: 'Request Timeout: Media Timeout' }, REASON_MEDIA_TIMEOUT]]);
    expect(REASON_MEDIA_TIMEOUT).toBe('SIP;cause=408;text="Media timeout"');
    expect(b.ends).toEqual([]);
  });

  it('a fork\'s media key "<call id>:<n>" names its call', () => {
    expect(callIdOfMediaKey('0b7c:2')).toBe('0b7c');
    expect(callIdOfMediaKey('0b7c')).toBe('0b7c');
    const engine = reportingEngine();
    const call = fakeCall('0b7c');
    endInactiveCalls(engine, (id) => (id === call.id ? call : undefined), logger);
    engine.report('0b7c:1', 'fork1', 'no-rtcp-on-hold');
    expect(call.ends).toHaveLength(1);
  });

  it('an unknown key ends nothing; unsubscribing stops the watch', () => {
    const engine = reportingEngine();
    const call = fakeCall('c');
    const stop = endInactiveCalls(engine, (id) => (id === 'c' ? call : undefined), logger);
    engine.report('gone', 't', 'no-rtp-rtcp');
    expect(call.ends).toEqual([]);
    stop();
    expect(engine.listeners).toBe(0);
    engine.report('c', 't', 'no-rtp-rtcp');
    expect(call.ends).toEqual([]);
  });

  it('an engine without liveness is not watched', () => {
    const { onInactive: _, ...plain } = reportingEngine();
    expect(() => endInactiveCalls(plain as MediaEngine, () => undefined, logger)()).not.toThrow();
  });
});
