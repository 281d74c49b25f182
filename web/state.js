// Explicit state machines for the softphone: a string-union state per machine and ONE transition
// function that rejects edges the table does not list. Pure module (no DOM, no sip.js): unit-tested.

/** @typedef {'signed-out'|'connecting'|'registering'|'registered'|'failed'} RegistrationState */
/** @typedef {'idle'|'calling'|'ringing'|'incoming'|'in-call'|'ended'} CallState */
/** @typedef {'none'|'ringing'|'accepting'|'answered'|'declined'|'missed'|'answered-elsewhere'|'ended'} IncomingState */

/** @type {Readonly<Record<RegistrationState, readonly RegistrationState[]>>} */
export const REGISTRATION_EDGES = Object.freeze({
  'signed-out': ['connecting'],
  connecting: ['registering', 'failed', 'signed-out'],
  // RFC 3261 §10.2.4: a binding is refreshed by registering again before it expires.
  registering: ['registered', 'failed', 'signed-out'],
  registered: ['registering', 'failed', 'signed-out'],
  failed: ['connecting', 'signed-out'],
});

/** @type {Readonly<Record<CallState, readonly CallState[]>>} */
export const CALL_EDGES = Object.freeze({
  idle: ['calling', 'incoming'],
  // RFC 3261 §13.2.2: provisional (1xx: ringing), final 2xx (in call) or failure (ended).
  calling: ['ringing', 'in-call', 'ended'],
  ringing: ['in-call', 'ended'],
  incoming: ['in-call', 'ended'],
  'in-call': ['ended'],
  ended: ['idle', 'calling', 'incoming'],
});

/**
 * One incoming call, from INVITE to its end. The end states say how it went (shown in the page and
 * in the missed-calls list): declined here, missed (CANCEL before answer), answered elsewhere
 * (CANCEL with RFC 3326 `Reason: SIP;cause=200`), or ended (answered then hung up, or failed).
 * @type {Readonly<Record<IncomingState, readonly IncomingState[]>>}
 */
export const INCOMING_EDGES = Object.freeze({
  none: ['ringing'],
  // RFC 3261 §9.2: a CANCEL may arrive until the final response is sent, i.e. also while accepting.
  ringing: ['accepting', 'declined', 'missed', 'answered-elsewhere', 'ended'],
  accepting: ['answered', 'missed', 'answered-elsewhere', 'ended'],
  answered: ['ended'],
  declined: ['ringing'],
  missed: ['ringing'],
  'answered-elsewhere': ['ringing'],
  ended: ['ringing'],
});

/** @typedef {'active'|'holding'|'held'|'resuming'} HoldState */
/** @typedef {'up'|'reconnecting'|'restarting'} LinkState */

/**
 * Our hold of an established call. RFC 3261 §14.1: a re-INVITE the other side rejects leaves the
 * session as it was, so 'holding' falls back to 'active' and 'resuming' to 'held'.
 * @type {Readonly<Record<HoldState, readonly HoldState[]>>}
 */
export const HOLD_EDGES = Object.freeze({
  active: ['holding'],
  holding: ['held', 'active'],
  held: ['resuming'],
  resuming: ['active', 'held'],
});

/**
 * The established call's path to the gateway: 'reconnecting' while the WebSocket is down (the call
 * stays up), 'restarting' while a re-INVITE with an ICE restart is out (after a reconnection or a
 * network change), 'up' otherwise. A failed recovery ends the call (the call machine), not this one.
 * @type {Readonly<Record<LinkState, readonly LinkState[]>>}
 */
export const LINK_EDGES = Object.freeze({
  up: ['reconnecting', 'restarting'],
  reconnecting: ['restarting'],
  restarting: ['up', 'reconnecting'],
});

/** End states of INCOMING_EDGES. */
export const INCOMING_ENDS = Object.freeze(/** @type {Array<IncomingState>} */ (['declined', 'missed', 'answered-elsewhere', 'ended']));

export class IllegalTransition extends Error {
  /** @param {string} machine @param {string} from @param {string} to */
  constructor(machine, from, to) {
    super(`${machine}: illegal transition ${from} -> ${to}`);
    this.name = 'IllegalTransition';
  }
}

/**
 * A state machine over `edges`. `transition(to, reason)` applies a listed edge and calls
 * `onChange({ from, to, reason, at })`; an unlisted edge throws IllegalTransition and changes nothing.
 * @template {string} S
 * @param {string} name
 * @param {Readonly<Record<S, readonly S[]>>} edges
 * @param {S} initial
 * @param {(change: { from: S, to: S, reason: string, at: number }) => void} [onChange]
 */
export function createMachine(name, edges, initial, onChange) {
  if (!(initial in edges)) throw new Error(`${name}: unknown initial state ${initial}`);
  let state = initial;
  let reason = '';
  let since = Date.now();
  return {
    get state() { return state; },
    get reason() { return reason; },
    /** Milliseconds since epoch when the current state was entered. */
    get since() { return since; },
    /** @param {S} to */
    can(to) { return (edges[state] ?? []).includes(to); },
    /** @param {S} to @param {string} [why] */
    transition(to, why = '') {
      if (!(edges[state] ?? []).includes(to)) throw new IllegalTransition(name, state, to);
      const from = state;
      state = to;
      reason = why;
      since = Date.now();
      onChange?.({ from, to, reason: why, at: since });
    },
  };
}

export const createRegistrationMachine = (/** @type {((change: any) => void) | undefined} */ onChange = undefined) =>
  createMachine('registration', REGISTRATION_EDGES, /** @type {RegistrationState} */ ('signed-out'), onChange);

export const createCallMachine = (/** @type {((change: any) => void) | undefined} */ onChange = undefined) =>
  createMachine('call', CALL_EDGES, /** @type {CallState} */ ('idle'), onChange);

export const createIncomingMachine = (/** @type {((change: any) => void) | undefined} */ onChange = undefined) =>
  createMachine('incoming', INCOMING_EDGES, /** @type {IncomingState} */ ('none'), onChange);

export const createHoldMachine = (/** @type {((change: any) => void) | undefined} */ onChange = undefined) =>
  createMachine('hold', HOLD_EDGES, /** @type {HoldState} */ ('active'), onChange);

export const createLinkMachine = (/** @type {((change: any) => void) | undefined} */ onChange = undefined) =>
  createMachine('link', LINK_EDGES, /** @type {LinkState} */ ('up'), onChange);
