// The REGISTER client's states (RFC 3261 §10.2) and the one function allowed to move between them.
import { defineMachine, IllegalTransitionError } from '../lib/state-machine.js';

/** idle: not started. registering: a REGISTER (or its authenticated re-send) is in flight.
 *  registered: the registrar granted a binding; a refresh is scheduled. retrying: the last attempt
 *  failed; a new attempt is scheduled with backoff. unregistering: the Expires: 0 REGISTER is in
 *  flight. stopped: terminal. */
export type RegState = 'idle' | 'registering' | 'registered' | 'retrying' | 'unregistering' | 'stopped';

export const REG_MACHINE = defineMachine<RegState>('registration', {
  idle: ['registering', 'stopped'],
  registering: ['registered', 'retrying', 'unregistering', 'stopped'],
  // §10.2.1: a refresh is another REGISTER with the same Call-ID.
  registered: ['registering', 'retrying', 'unregistering', 'stopped'],
  retrying: ['registering', 'unregistering', 'stopped'],
  unregistering: ['stopped'],
  stopped: [],
});

/** What an illegal registration move throws (the shared IllegalTransitionError). */
export const IllegalTransition = IllegalTransitionError;

/** The next state, or IllegalTransition for an edge the machine does not have. */
export const regTransition = REG_MACHINE.transition;
