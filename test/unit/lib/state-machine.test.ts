import { describe, expect, it } from 'vitest';
import {
  defineMachine,
  IllegalTransitionError,
  makeTransition,
  onAnyStateChange,
  StateMachine,
  type StateChange,
} from '../../../gateway/lib/state-machine.js';

type Light = 'red' | 'green' | 'amber' | 'off';
const LIGHT = defineMachine<Light>('light', {
  red: ['green', 'off'],
  green: ['amber', 'off'],
  amber: ['red', 'off'],
  off: [],
});

describe('state machine helper', () => {
  it('takes the moves its table lists', () => {
    const m = new StateMachine(LIGHT, 'red');
    m.to('green');
    m.to('amber');
    expect(m.state).toBe('amber');
    expect(m.is('amber', 'red')).toBe(true);
    expect(m.can('red')).toBe(true);
    expect(m.can('green')).toBe(false);
  });

  it('throws IllegalTransitionError naming machine, from and to, and stays where it was', () => {
    const m = new StateMachine(LIGHT, 'red');
    let error: unknown;
    try {
      m.to('amber');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ machine: 'light', from: 'red', to: 'amber' });
    expect((error as Error).message).toBe('light state machine: illegal transition red -> amber');
    expect(m.state).toBe('red');
    m.to('off');
    expect(() => m.to('red')).toThrow(IllegalTransitionError);
  });

  it('emits a change event per move to its listeners, none for an illegal move', () => {
    const m = new StateMachine(LIGHT, 'red');
    const seen: StateChange<Light>[] = [];
    m.onChange((c) => seen.push(c));
    m.to('green');
    expect(() => m.to('red')).toThrow();
    m.to('off');
    expect(seen).toEqual([
      { machine: 'light', from: 'red', to: 'green' },
      { machine: 'light', from: 'green', to: 'off' },
    ]);
  });

  it('a listener sees the new state already taken', () => {
    const m = new StateMachine(LIGHT, 'red');
    let during: Light | undefined;
    m.onChange(() => (during = m.state));
    m.to('green');
    expect(during).toBe('green');
  });

  it('unsubscribe stops the events, for one machine and for all machines', () => {
    const m = new StateMachine(LIGHT, 'red');
    const mine: string[] = [];
    const all: string[] = [];
    const offMine = m.onChange((c) => mine.push(c.to));
    const offAll = onAnyStateChange((c) => all.push(`${c.machine}:${c.to}`));
    m.to('green');
    offMine();
    offAll();
    m.to('amber');
    expect(mine).toEqual(['green']);
    expect(all).toEqual(['light:green']);
  });

  it('makeTransition is the pure check the machine uses', () => {
    const t = makeTransition<Light>('light', LIGHT.edges);
    expect(t('red', 'green')).toBe('green');
    expect(() => t('off', 'red')).toThrow(/light state machine: illegal transition off -> red/);
    expect(LIGHT.transition('green', 'amber')).toBe('amber');
  });
});
