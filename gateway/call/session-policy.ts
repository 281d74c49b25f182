// A session policy that refuses every session modification inside a call's dialogs (either side). The
// default policy is call/modify.ts (MODIFY_SESSIONS: changes answered locally or carried to the other
// leg); this one stays for a Call built with CallOptions.session = () => REJECT_SESSION_CHANGES.
import type { SessionHooks } from '../sip/ua/in-dialog.js';

/** re-INVITE: §14.2 lets the UAS reject the offer, "the UAS … MUST return a 488 (Not Acceptable Here)"
 *  and the session stays as it was; the same for an UPDATE (RFC 3311 §5.2 rejects an offer "just as if
 *  it were a re-INVITE", paraphrased) — UPDATE is in our Allow, so no 405. */
export const REJECT_SESSION_CHANGES: SessionHooks = {
  onReinvite: (_req, respond) => respond(488, 'Not Acceptable Here: session modification not supported'),
  onUpdate: (_req, respond) => respond(488, 'Not Acceptable Here: session modification not supported'),
};
