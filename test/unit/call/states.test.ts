import { describe, expect, it } from 'vitest';
import { browserLegTransition, callTransition, trunkLegTransition } from '../../../gateway/call/states.js';

describe('call-layer state machines', () => {
  it('Call: routing → calling → early → answered → ended; echo goes routing → answered', () => {
    expect(callTransition('routing', 'calling')).toBe('calling');
    expect(callTransition('calling', 'early')).toBe('early');
    expect(callTransition('early', 'answered')).toBe('answered');
    expect(callTransition('answered', 'ended')).toBe('ended');
    expect(callTransition('routing', 'answered')).toBe('answered');
  });
  it('Call rejects illegal edges', () => {
    expect(() => callTransition('answered', 'early')).toThrow(/illegal transition answered -> early/);
    expect(() => callTransition('ended', 'routing')).toThrow();
    expect(() => callTransition('early', 'calling')).toThrow();
  });
  it('browser leg: a final response only once, ACK only after a 2xx', () => {
    expect(browserLegTransition('early', 'accepted')).toBe('accepted');
    expect(() => browserLegTransition('terminated', 'accepted')).toThrow();
    expect(() => browserLegTransition('proceeding', 'confirmed')).toThrow();
  });
  it('trunk leg: a 2xx may still confirm a cancelling leg (§15 race), nothing leaves terminated', () => {
    expect(trunkLegTransition('cancelling', 'confirmed')).toBe('confirmed');
    expect(() => trunkLegTransition('confirmed', 'cancelling')).toThrow();
    expect(() => trunkLegTransition('terminated', 'calling')).toThrow();
  });
});
