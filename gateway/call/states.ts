// The Call's state machines (B2BUA policy). One Call, one state union; the moves allowed depend on its
// callee side: one invite client (or the echo line) vs a fork of invite clients to a user's contacts.
// The INVITE usages' own machines live with them in sip/ua (invite-server.ts, invite-client.ts).
import { defineMachine } from '../lib/state-machine.js';

/** routing: authenticated, media/target being prepared · calling: the INVITE to the callee is out ·
 *  ringing: the forks are out · early: a 18x was relayed to the caller · connecting: a fork answered, its
 *  media answer is being prepared · answered: the caller got the 2xx · ended: torn down. */
export type CallState = 'routing' | 'calling' | 'ringing' | 'early' | 'connecting' | 'answered' | 'ended';

/** A Call toward one target (trunk, PBX) or the echo line. */
export const CALL_MACHINE = defineMachine<CallState>('Call', {
  routing: ['calling', 'answered', 'ended'], // answered directly: the echo line
  calling: ['early', 'answered', 'ended'],
  ringing: [],
  early: ['answered', 'ended'],
  connecting: [],
  answered: ['ended'],
  ended: [],
});

export const callTransition = CALL_MACHINE.transition;

/** A Call that rings a user (from a trunk, a PBX or another user): routing (offers being built) →
 *  ringing (forks out) → early (180 sent to the caller) → connecting → answered → ended. */
export const INBOUND_MACHINE = defineMachine<CallState>('Inbound call', {
  routing: ['ringing', 'ended'],
  calling: [],
  ringing: ['early', 'connecting', 'ended'],
  early: ['connecting', 'ended'],
  connecting: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
});

export const inboundCallTransition = INBOUND_MACHINE.transition;
