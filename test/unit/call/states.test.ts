import { describe, expect, it } from 'vitest';
import { callTransition } from '../../../gateway/call/states.js';
import { inviteClientUsageTransition as trunkLegTransition } from '../../../gateway/sip/ua/invite-client.js';
import { inviteServerUsageTransition as browserLegTransition } from '../../../gateway/sip/ua/invite-server.js';

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

describe('inbound call and fork state machines', () => {
  it('an inbound call goes ringing → early → connecting → answered → ended, never back', async () => {
    const { inboundCallTransition } = await import('../../../gateway/call/states.js');
    expect(inboundCallTransition('routing', 'ringing')).toBe('ringing');
    expect(inboundCallTransition('early', 'connecting')).toBe('connecting');
    expect(() => inboundCallTransition('routing', 'answered')).toThrow(/illegal transition routing -> answered/);
    expect(() => inboundCallTransition('answered', 'early')).toThrow();
    expect(() => inboundCallTransition('ended', 'ringing')).toThrow();
  });
  it('a fork is decided once', async () => {
    const { forkTransition } = await import('../../../gateway/call/fork.js');
    expect(forkTransition('ringing', 'won')).toBe('won');
    expect(() => forkTransition('won', 'failed')).toThrow();
    expect(() => forkTransition('cancelled', 'won')).toThrow();
  });
});
