// The one state-machine helper every machine of the gateway is built on (the four RFC 3261 §17 transaction
// machines, the §12 dialog, the INVITE client and server usages, the Call, the fork, the REGISTER client):
// a table of allowed moves, one `to()` that rejects every move the table does not list, and a change event
// (machine name, from, to) that logs, metrics and status can subscribe to. A foundation module: it imports
// nothing from the gateway, and every layer may import it.

/** Thrown when a state machine is asked to take an edge its table (its RFC figure) does not have. */
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

/** One move of one machine, as reported to change listeners. */
export interface StateChange<S extends string = string> {
  machine: string;
  from: S;
  to: S;
}

export type ChangeListener<S extends string = string> = (change: StateChange<S>) => void;

/** Builds the pure transition check of one machine: returns `to` when `from -> to` is an edge, else throws. */
export function makeTransition<S extends string>(machine: string, edges: EdgeTable<S>): (from: S, to: S) => S {
  return (from: S, to: S): S => {
    if (!edges[from].includes(to)) throw new IllegalTransitionError(machine, from, to);
    return to;
  };
}

/** The definition of one kind of machine: its name, its edge table, and the check built from them. */
export interface MachineDef<S extends string> {
  readonly name: string;
  readonly edges: EdgeTable<S>;
  readonly transition: (from: S, to: S) => S;
}

export function defineMachine<S extends string>(name: string, edges: EdgeTable<S>): MachineDef<S> {
  return { name, edges, transition: makeTransition(name, edges) };
}

/** Observers of every machine (e.g. a metrics counter); each instance also has its own listeners. */
const globalListeners = new Set<ChangeListener>();

/** Subscribes to the moves of every machine; returns the unsubscribe function. */
export function onAnyStateChange(listener: ChangeListener): () => void {
  globalListeners.add(listener);
  return () => globalListeners.delete(listener);
}

function emit<S extends string>(listeners: Iterable<ChangeListener<S>>, change: StateChange<S>): void {
  for (const listener of [...listeners]) listener(change);
}

/** One running machine: its current state, the one `to()`, and its change listeners. */
export class StateMachine<S extends string> {
  private current: S;
  private readonly listeners = new Set<ChangeListener<S>>();

  constructor(
    private readonly def: MachineDef<S>,
    initial: S,
  ) {
    this.current = initial;
  }

  get name(): string {
    return this.def.name;
  }

  get state(): S {
    return this.current;
  }

  /** True when the machine is in one of `states`. */
  is(...states: S[]): boolean {
    return states.includes(this.current);
  }

  /** Whether `next` is an allowed move from here. */
  can(next: S): boolean {
    return this.def.edges[this.current].includes(next);
  }

  /** Takes the move to `next` (throws IllegalTransitionError when the table lacks it) and tells listeners. */
  to(next: S): void {
    const from = this.current;
    this.current = this.def.transition(from, next);
    const change: StateChange<S> = { machine: this.def.name, from, to: next };
    emit(this.listeners, change);
    emit(globalListeners as Set<ChangeListener<S>>, change);
  }

  /** Subscribes to this machine's moves; returns the unsubscribe function. */
  onChange(listener: ChangeListener<S>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
