// The call layer's three explicit state machines: the Call, its browser leg (we are the UAS) and its
// trunk leg (we are the UAC). Each is a string union plus one transition function that rejects every
// edge its table does not list (the shared edge-table helper from the transaction layer).
import { makeTransition, type EdgeTable } from '../sip/transaction/fsm.js';

/** routing: authenticated, media/target being prepared · calling: INVITE sent to the trunk ·
 *  early: a 18x was relayed to the browser · answered: the browser got a 2xx · ended: torn down. */
export type CallState = 'routing' | 'calling' | 'early' | 'answered' | 'ended';

const CALL_EDGES: EdgeTable<CallState> = {
  routing: ['calling', 'answered', 'ended'], // answered directly: the echo line
  calling: ['early', 'answered', 'ended'],
  early: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

export const callTransition = makeTransition<CallState>('Call', CALL_EDGES);

/** The browser leg, RFC 3261 §13.3 seen from the UAS core: proceeding (INVITE received) → early (18x with
 *  our To tag sent) → accepted (2xx sent, waiting for the ACK) → confirmed (ACK received) → terminated. */
export type BrowserLegState = 'proceeding' | 'early' | 'accepted' | 'confirmed' | 'terminated';

const BROWSER_EDGES: EdgeTable<BrowserLegState> = {
  proceeding: ['early', 'accepted', 'terminated'],
  early: ['accepted', 'terminated'],
  accepted: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export const browserLegTransition = makeTransition<BrowserLegState>('Browser leg', BROWSER_EDGES);

/** The trunk leg, RFC 3261 §13.2 seen from the UAC core: calling (INVITE sent) → early (18x with a To tag)
 *  → confirmed (2xx, ACK sent) → terminated. cancelling: CANCEL wanted or sent (§9.1); a 2xx that races
 *  it still confirms the leg, which is then ended with BYE (§15). */
export type TrunkLegState = 'calling' | 'early' | 'cancelling' | 'confirmed' | 'terminated';

const TRUNK_EDGES: EdgeTable<TrunkLegState> = {
  calling: ['early', 'cancelling', 'confirmed', 'terminated'],
  early: ['cancelling', 'confirmed', 'terminated'],
  cancelling: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export const trunkLegTransition = makeTransition<TrunkLegState>('Trunk leg', TRUNK_EDGES);

/** A call that rings a user (from a trunk, a PBX or another user): routing (offers being built) →
 *  ringing (forks out) → early (180 sent to the caller) → connecting (a fork answered; its media answer
 *  is being prepared) → answered (the caller got the 2xx) → ended. */
export type InboundCallState = 'routing' | 'ringing' | 'early' | 'connecting' | 'answered' | 'ended';

const INBOUND_EDGES: EdgeTable<InboundCallState> = {
  routing: ['ringing', 'ended'],
  ringing: ['early', 'connecting', 'ended'],
  early: ['connecting', 'ended'],
  connecting: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

export const inboundCallTransition = makeTransition<InboundCallState>('Inbound call', INBOUND_EDGES);
