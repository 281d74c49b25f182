import { describe, expect, it, vi } from 'vitest';
import {
  CALL_EDGES,
  createCallMachine,
  createHoldMachine,
  createIncomingMachine,
  createLinkMachine,
  createMachine,
  createRegistrationMachine,
  IllegalTransition,
  INCOMING_EDGES,
  INCOMING_ENDS,
  HOLD_EDGES,
  LINK_EDGES,
  REGISTRATION_EDGES,
} from '../../../web/state.js';

describe('web/state: registration machine', () => {
  it('walks signed-out → connecting → registering → registered and reports each change', () => {
    const changes: string[] = [];
    const m = createRegistrationMachine((c) => changes.push(`${c.from}>${c.to}:${c.reason}`));
    expect(m.state).toBe('signed-out');
    m.transition('connecting', 'ws://x/sip');
    m.transition('registering');
    m.transition('registered');
    expect(m.state).toBe('registered');
    expect(changes).toEqual(['signed-out>connecting:ws://x/sip', 'connecting>registering:', 'registering>registered:']);
  });

  it('rejects an illegal edge and leaves the state unchanged', () => {
    const onChange = vi.fn();
    const m = createRegistrationMachine(onChange);
    expect(() => m.transition('registered')).toThrow(IllegalTransition);
    expect(() => m.transition('registered')).toThrow('registration: illegal transition signed-out -> registered');
    expect(m.state).toBe('signed-out');
    expect(onChange).not.toHaveBeenCalled();
  });

  it('keeps the failure reason until the next transition', () => {
    const m = createRegistrationMachine();
    m.transition('connecting');
    m.transition('failed', 'Wrong user or password (401)');
    expect(m.reason).toBe('Wrong user or password (401)');
    expect(m.can('connecting')).toBe(true);
    m.transition('connecting');
    expect(m.reason).toBe('');
  });

  it('every edge target is a known state', () => {
    for (const edges of [REGISTRATION_EDGES, CALL_EDGES]) {
      const states = Object.keys(edges);
      for (const targets of Object.values(edges)) for (const t of targets) expect(states).toContain(t);
    }
  });
});

describe('web/state: call machine', () => {
  it('allows calling → ringing → in-call → ended → calling', () => {
    const m = createCallMachine();
    for (const s of ['calling', 'ringing', 'in-call', 'ended', 'calling'] as const) m.transition(s);
    expect(m.state).toBe('calling');
  });

  it('cannot go back from in-call to ringing, nor start a call while one is up', () => {
    const m = createCallMachine();
    m.transition('calling');
    m.transition('in-call');
    expect(m.can('ringing')).toBe(false);
    expect(() => m.transition('calling')).toThrow('call: illegal transition in-call -> calling');
    expect(() => m.transition('incoming')).toThrow(IllegalTransition);
  });

  it('records when the state was entered (for the in-call timer)', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
      const m = createCallMachine();
      m.transition('calling');
      vi.setSystemTime(new Date('2030-01-01T00:00:05Z'));
      m.transition('in-call');
      expect(m.since).toBe(Date.parse('2030-01-01T00:00:05Z'));
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an unknown initial state', () => {
    expect(() => createMachine('x', { a: ['a'] }, 'b' as 'a')).toThrow('x: unknown initial state b');
  });
});

describe('web/state: incoming-call machine', () => {
  it('rings, is accepted, answered, then ended', () => {
    const seen: string[] = [];
    const m = createIncomingMachine((c) => seen.push(c.to));
    for (const s of ['ringing', 'accepting', 'answered', 'ended'] as const) m.transition(s);
    expect(seen).toEqual(['ringing', 'accepting', 'answered', 'ended']);
  });

  it('a CANCEL may end it while ringing or while accepting, never after answer', () => {
    for (const end of ['missed', 'answered-elsewhere'] as const) {
      const m = createIncomingMachine();
      m.transition('ringing');
      expect(m.can(end)).toBe(true);
      m.transition('accepting');
      m.transition(end);
      expect(m.state).toBe(end);
    }
    const m = createIncomingMachine();
    m.transition('ringing');
    m.transition('accepting');
    m.transition('answered');
    expect(() => m.transition('missed')).toThrow('incoming: illegal transition answered -> missed');
    expect(m.can('declined')).toBe(false);
  });

  it('every end state can ring again, and only end states are listed as ends', () => {
    for (const end of INCOMING_ENDS) expect(INCOMING_EDGES[end]).toEqual(['ringing']);
    const nonEnds = Object.keys(INCOMING_EDGES).filter((s) => !(INCOMING_ENDS as readonly string[]).includes(s));
    expect(nonEnds.sort()).toEqual(['accepting', 'answered', 'none', 'ringing']);
    for (const t of Object.values(INCOMING_EDGES).flat()) expect(Object.keys(INCOMING_EDGES)).toContain(t);
  });
});

describe('web/state: hold and link machines', () => {
  it('hold: a rejected re-INVITE falls back to where it started; no hold over a pending one', () => {
    const m = createHoldMachine();
    expect(m.state).toBe('active');
    m.transition('holding');
    expect(m.can('holding')).toBe(false);
    m.transition('active', 'Not acceptable here (488)');
    m.transition('holding');
    m.transition('held');
    expect(() => m.transition('active')).toThrow('hold: illegal transition held -> active');
    m.transition('resuming');
    m.transition('held');
    for (const t of Object.values(HOLD_EDGES).flat()) expect(Object.keys(HOLD_EDGES)).toContain(t);
  });

  it('link: up → reconnecting → restarting → up; a drop while restarting reconnects again', () => {
    const m = createLinkMachine();
    expect(m.state).toBe('up');
    m.transition('reconnecting');
    expect(m.can('up')).toBe(false); // only an accepted re-INVITE brings the call back
    m.transition('restarting');
    m.transition('reconnecting');
    m.transition('restarting');
    m.transition('up');
    m.transition('restarting'); // an ICE restart after a network change
    m.transition('up');
    for (const t of Object.values(LINK_EDGES).flat()) expect(Object.keys(LINK_EDGES)).toContain(t);
  });
});
