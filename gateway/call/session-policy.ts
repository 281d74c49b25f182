// What this B2BUA answers to a session modification inside a call's dialogs (either side): the policy the
// invite server and invite client ask through their SessionHooks. Today's policy is the default below;
// session modification (RFC 3264/3311/4028, issue 7 phase 2) replaces it per call.
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import { ALLOWED_METHODS } from '../sip/ua/uas.js';

/** re-INVITE: §14.2 lets the UAS reject the offer, "the UAS … MUST return a 488 (Not Acceptable Here)"
 *  and the session stays as it was. UPDATE is not implemented (RFC 3261 §8.2.1: 405 with Allow). */
export const REJECT_SESSION_CHANGES: SessionHooks = {
  onReinvite: (_req, respond) => respond(488, 'Not Acceptable Here: session modification not supported'),
  onUpdate: (_req, respond) => respond(405, 'Method Not Allowed', { headers: [{ name: 'Allow', value: ALLOWED_METHODS.join(', ') }] }),
};
