// The call layer's state machines (B2BUA policy): the Call toward a trunk or PBX and the call that rings a
// user. The INVITE usages' own machines live with them in sip/ua (invite-server.ts, invite-client.ts).
// Each is a string union plus one transition function built by the shared helper in lib/state-machine.ts.
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
