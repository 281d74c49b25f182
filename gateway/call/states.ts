// The call layer's three explicit state machines: the Call, its browser leg (we are the UAS) and its
// trunk leg (we are the UAC). Each is a string union plus one transition function that rejects every
// edge its table does not list (the shared helper in lib/state-machine.ts).
import { defineMachine } from '../lib/state-machine.js';

/** routing: authenticated, media/target being prepared · calling: INVITE sent to the trunk ·
 *  early: a 18x was relayed to the browser · answered: the browser got a 2xx · ended: torn down. */
export type CallState = 'routing' | 'calling' | 'early' | 'answered' | 'ended';

export const CALL_MACHINE = defineMachine<CallState>('Call', {
  routing: ['calling', 'answered', 'ended'], // answered directly: the echo line
  calling: ['early', 'answered', 'ended'],
  early: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
});

export const callTransition = CALL_MACHINE.transition;

/** The browser leg, RFC 3261 §13.3 seen from the UAS core: proceeding (INVITE received) → early (18x with
 *  our To tag sent) → accepted (2xx sent, waiting for the ACK) → confirmed (ACK received) → terminated. */
export type BrowserLegState = 'proceeding' | 'early' | 'accepted' | 'confirmed' | 'terminated';

export const BROWSER_MACHINE = defineMachine<BrowserLegState>('Browser leg', {
  proceeding: ['early', 'accepted', 'terminated'],
  early: ['accepted', 'terminated'],
  accepted: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
});

export const browserLegTransition = BROWSER_MACHINE.transition;

/** The trunk leg, RFC 3261 §13.2 seen from the UAC core: calling (INVITE sent) → early (18x with a To tag)
 *  → confirmed (2xx, ACK sent) → terminated. cancelling: CANCEL wanted or sent (§9.1); a 2xx that races
 *  it still confirms the leg, which is then ended with BYE (§15). */
export type TrunkLegState = 'calling' | 'early' | 'cancelling' | 'confirmed' | 'terminated';

export const TRUNK_MACHINE = defineMachine<TrunkLegState>('Trunk leg', {
  calling: ['early', 'cancelling', 'confirmed', 'terminated'],
  early: ['cancelling', 'confirmed', 'terminated'],
  cancelling: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
});

export const trunkLegTransition = TRUNK_MACHINE.transition;

/** A call that rings a user (from a trunk, a PBX or another user): routing (offers being built) →
 *  ringing (forks out) → early (180 sent to the caller) → connecting (a fork answered; its media answer
 *  is being prepared) → answered (the caller got the 2xx) → ended. */
export type InboundCallState = 'routing' | 'ringing' | 'early' | 'connecting' | 'answered' | 'ended';

export const INBOUND_MACHINE = defineMachine<InboundCallState>('Inbound call', {
  routing: ['ringing', 'ended'],
  ringing: ['early', 'connecting', 'ended'],
  early: ['connecting', 'ended'],
  connecting: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
});

export const inboundCallTransition = INBOUND_MACHINE.transition;
