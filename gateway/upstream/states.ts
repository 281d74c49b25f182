// The REGISTER client's states (RFC 3261 §10.2) and the one function allowed to move between them.

/** idle: not started. registering: a REGISTER (or its authenticated re-send) is in flight.
 *  registered: the registrar granted a binding; a refresh is scheduled. retrying: the last attempt
 *  failed; a new attempt is scheduled with backoff. unregistering: the Expires: 0 REGISTER is in
 *  flight. stopped: terminal. */
export type RegState = 'idle' | 'registering' | 'registered' | 'retrying' | 'unregistering' | 'stopped';

const EDGES: Record<RegState, readonly RegState[]> = {
  idle: ['registering', 'stopped'],
  registering: ['registered', 'retrying', 'unregistering', 'stopped'],
  // §10.2.1: a refresh is another REGISTER with the same Call-ID.
  registered: ['registering', 'retrying', 'unregistering', 'stopped'],
  retrying: ['registering', 'unregistering', 'stopped'],
  unregistering: ['stopped'],
  stopped: [],
};

export class IllegalTransition extends Error {
  constructor(readonly from: RegState, readonly to: RegState) {
    super(`illegal registration transition ${from} → ${to}`);
    this.name = 'IllegalTransition';
  }
}

/** The next state, or IllegalTransition for an edge the machine does not have. */
export function regTransition(from: RegState, to: RegState): RegState {
  if (!EDGES[from].includes(to)) throw new IllegalTransition(from, to);
  return to;
}
