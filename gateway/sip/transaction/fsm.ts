// Shared plumbing for the four RFC 3261 §17 state machines: an edge table and the one transition
// function built from it, which rejects every edge the table does not list.

/** Thrown when a state machine is asked to take an edge its RFC figure does not have. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${machine} state machine: illegal transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Allowed next states for each state. */
export type EdgeTable<S extends string> = Readonly<Record<S, readonly S[]>>;

/** Builds the transition function of one machine: returns `to` when `from -> to` is an edge, else throws. */
export function makeTransition<S extends string>(machine: string, edges: EdgeTable<S>): (from: S, to: S) => S {
  return (from: S, to: S): S => {
    if (!edges[from].includes(to)) throw new IllegalTransitionError(machine, from, to);
    return to;
  };
}
