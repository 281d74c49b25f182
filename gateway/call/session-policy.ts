// A session policy that refuses every session modification inside a call's dialogs (either side). The
// default policy is call/modify.ts (MODIFY_SESSIONS: changes answered locally or carried to the other
// leg); this one stays for a Call built with CallOptions.session = () => REJECT_SESSION_CHANGES.
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import { ALLOWED_METHODS } from '../sip/ua/uas.js';

/** re-INVITE: §14.2 lets the UAS reject the offer, "the UAS … MUST return a 488 (Not Acceptable Here)"
 *  and the session stays as it was. UPDATE is not implemented (RFC 3261 §8.2.1: 405 with Allow). */
export const REJECT_SESSION_CHANGES: SessionHooks = {
  onReinvite: (_req, respond) => respond(488, 'Not Acceptable Here: session modification not supported'),
  onUpdate: (_req, respond) => respond(405, 'Method Not Allowed', { headers: [{ name: 'Allow', value: ALLOWED_METHODS.join(', ') }] }),
};
